"""The soak tests behind ``manage.py soak``: gunicorn under load, while the register is
written or while it is flooded with exports.

The soak builds a database of its own with the benchmark's synthetic register, serves it
with gunicorn on loopback, and for a bounded time fetches the public pages from several
client threads while, in this process and on the same database, a published list is
imported in parts and reviewers move pending submissions through the workflow. Then it
checks that nothing was lost: every step of history it wrote is there, each model's
status is the last step of its history, no page failed and the server never reported
"database is locked".

The flood (``--scenario flood``) serves the same register with the per-client limits on,
and has many clients ask for the whole register as CSV at once while a few browse. Then it
checks that every browsing request succeeded quickly, that every export was either whole
or refused with 429 and Retry-After, never cut off, and that no worker's memory grew.
"""

import csv
import http.client
import ipaddress
import os
import random
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import User
from django.db import DatabaseError, connection
from django.utils import timezone

from tracker import integrity, workflow
from tracker.analysis.exports import BOM, MODEL_HEADER
from tracker.analysis.reports import percentile
from tracker.importing import lists as importer
from tracker.models import AIModel, Batch, StatusChange
from tracker.perf import benchmark as bench
from tracker.workflow import StaleRecordError, TransitionError

EXPORT_PATH = "/models/export.csv?status=national_review"
IMPORT_PARTS = 4
LOCKED = "database is locked"
# A reviewer reads a record, thinks, then acts: long enough for another to get in first.
THINK_SECONDS = 0.02


class SoakError(Exception):
    """The soak cannot run as asked; the message says why."""


@dataclass(frozen=True)
class Plan:
    seconds: float = 60
    clients: int = 8
    workers: int = 2
    port: int = 0
    import_rows: int = 5_000
    transitions: int = 600
    reviewers: int = 2
    spec: bench.Spec = bench.Spec(models=20_000, applicants=2_000)


@dataclass
class Traffic:
    statuses: Counter = field(default_factory=Counter)
    latencies: dict = field(default_factory=dict)
    errors: list = field(default_factory=list)

    def add(self, other):
        self.statuses.update(other.statuses)
        for path, seconds in other.latencies.items():
            self.latencies.setdefault(path, []).extend(seconds)
        self.errors += other.errors

    @property
    def all_latencies(self):
        return sorted(s for seconds in self.latencies.values() for s in seconds)

    @property
    def served(self):
        return sum(self.statuses.values())

    @property
    def server_errors(self):
        return sum(n for status, n in self.statuses.items() if status >= 500)


@dataclass
class Reviews:
    attempted: int = 0
    applied: list = field(default_factory=list)
    stale: int = 0
    refused: int = 0
    errors: list = field(default_factory=list)


@dataclass
class Imports:
    rows: int = 0
    created: int = 0
    refused: int = 0
    reimported: int | None = None
    steps_by_batch: dict = field(default_factory=dict)
    errors: list = field(default_factory=list)


@dataclass
class Findings:
    expected_steps: int = 0
    actual_steps: int = 0
    missing_steps: int = 0
    problems: list = field(default_factory=list)
    locked_lines: int = 0
    tracebacks: int = 0
    failures: list = field(default_factory=list)

    @property
    def passed(self):
        return not self.failures


# The server -------------------------------------------------------------------------------


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def server_environment(database, static_root):
    """Production settings on loopback, pointed at the soak's database and nothing else."""
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in ("DATABASE_URL", "SQLITE_PATH") and not name.startswith("DJANGO_")
    }
    env |= {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DJANGO_STATIC_ROOT": str(static_root),
    }
    # Every simulated reader comes from loopback: one address the per-client limits would
    # refuse at once. The soak measures serving, not refusing.
    env |= {
        f"TRACKER_{name}": bench.UNLIMITED
        for name in ("API_RATE", "EXPORT_RATE", "SEARCH_RATE", "FEED_RATE")
    }
    env["DATABASE_URL"] = database.url
    # No shared cache from the environment either: each worker counts in its own memory.
    for name in ("CACHE_URL", "REDIS_URL"):
        env.pop(name, None)
    return env


def collect_static(env):
    """The manifest storage of production refuses to render a page without collected files."""
    result = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if result.returncode:
        raise SoakError(f"collectstatic failed: {result.stderr.strip()[-2000:]}")


@contextmanager
def own_redis(workdir):
    """A Redis server of this run's own, on loopback and keeping nothing, as production
    shares one between its workers and instances, until the block ends: its CACHE_URL, or
    None when redis-server is not installed."""
    server = shutil.which("redis-server")
    if server is None:
        yield None
        return
    port = free_port()
    process = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        cwd=workdir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        stop_server(process)


@contextmanager
def site_served(plan, env, workdir, log):
    """The site under gunicorn with ``env``, ``plan.workers`` workers on ``plan.port`` (or a
    free port), its static files collected first, until the block ends."""
    log("Collecting static files")
    collect_static(env)
    port = plan.port or free_port()
    log(f"Starting gunicorn on port {port} with {plan.workers} workers")
    with serving(gunicorn(port, plan.workers), env, port, Path(workdir) / "gunicorn.log") as server:
        yield server


def gunicorn(port, workers):
    """The command of the site's production server on loopback ``port``."""
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "config.wsgi:application",
        f"--workers={workers}",
        f"--bind=127.0.0.1:{port}",
        f"--chdir={settings.BASE_DIR}",
        "--timeout=120",
        "--graceful-timeout=5",
        "--log-level=warning",
    ]


@dataclass
class Server:
    base: str  # http://127.0.0.1:port
    process: subprocess.Popen
    log_path: Path


@contextmanager
def serving(command, env, port, log_path):
    """``command`` serving loopback ``port``, from when it answers until the block ends: the
    site's gunicorn (``gunicorn``) or a peer to compare it with."""
    with open(log_path, "wb") as log:
        # A session of its own, so stopping it takes the workers down with the arbiter.
        process = subprocess.Popen(
            command,
            cwd=settings.BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        server = Server(f"http://127.0.0.1:{port}", process, Path(log_path))
        wait_until_answering(server.base, process, log_path)
        yield server
    finally:
        stop_server(process)


def stop_server(process):
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=15)
    except ProcessLookupError:
        process.wait(timeout=15)


def _opener():
    # No proxy from the environment: every request goes straight to loopback.
    return urllib.request.build_opener(urllib.request.ProxyHandler({}))


def wait_until_answering(base, process, log_path, timeout=60):
    opener = _opener()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SoakError(f"gunicorn exited ({process.returncode}): {_tail(log_path)}")
        try:
            with opener.open(base + "/", timeout=5) as response:
                response.read()
            return
        except urllib.error.HTTPError:
            return
        except (urllib.error.URLError, OSError):
            time.sleep(0.2)
    raise SoakError(f"gunicorn did not answer within {timeout} s: {_tail(log_path)}")


def _tail(path, characters=2000):
    try:
        return Path(path).read_text(errors="replace")[-characters:]
    except OSError:
        return ""


# The load ---------------------------------------------------------------------------------


def load_paths():
    """A filtered export and the public pages of ``bench.page_targets``: the export first,
    so that even a short soak asks for it (each client starts at its own place)."""
    return [EXPORT_PATH, *(path for _label, path in bench.page_targets())]


def fetch_until(base, paths, deadline, offset, headers=None, pause=0.0):
    """Fetch ``paths`` in turn from ``offset`` on until ``deadline``, ``pause`` seconds
    apart, sending ``headers`` with each request."""
    traffic = Traffic()
    opener = _opener()
    for n in range(offset, sys.maxsize):
        if n > offset:
            time.sleep(pause)
        if time.monotonic() >= deadline:
            break
        path = paths[n % len(paths)]
        started = time.perf_counter()
        try:
            request = urllib.request.Request(base + path, headers=headers or {})
            with opener.open(request, timeout=120) as response:
                response.read()
                status = response.status
        except urllib.error.HTTPError as error:
            error.read()
            status = error.code
        except (urllib.error.URLError, http.client.HTTPException, OSError) as error:
            traffic.errors.append(f"{path}: {error}")
            continue
        traffic.latencies.setdefault(path, []).append(time.perf_counter() - started)
        traffic.statuses[status] += 1
    return traffic


# The writers ------------------------------------------------------------------------------


def _on_soak_database(expected):
    """Each thread opens its own connection: make sure it is the soak's database."""
    if connection.settings_dict["NAME"] != expected:
        raise SoakError(f"A writer thread opened {connection.settings_dict['NAME']}.")


class ModelPool:
    """A few pending models the reviewers share, so that they sometimes race for one."""

    def __init__(self, pks, size, rng):
        self.lock = threading.Lock()
        self.reserve = list(pks)
        rng.shuffle(self.reserve)
        self.hot = [self.reserve.pop() for _ in range(min(size, len(self.reserve)))]

    def pick(self, rng):
        with self.lock:
            return rng.choice(self.hot) if self.hot else None

    def retire(self, pk):
        """``pk`` reached a final status: a fresh pending model takes its place."""
        with self.lock:
            if pk in self.hot:
                self.hot.remove(pk)
                if self.reserve:
                    self.hot.append(self.reserve.pop())


def review_until(pool, user, attempts, deadline, seed, database_name):
    """Apply up to ``attempts`` transitions, evenly spread until ``deadline``."""
    reviews = Reviews()
    rng = random.Random(seed)
    try:
        _on_soak_database(database_name)
        pause = max(0.0, (deadline - time.monotonic()) / max(attempts, 1) - THINK_SECONDS)
        while reviews.attempted < attempts and time.monotonic() < deadline:
            pk = pool.pick(rng)
            if pk is None:
                break
            ai_model = AIModel.objects.get(pk=pk)
            choices = workflow.allowed_transitions(ai_model)
            if not choices:
                pool.retire(pk)
                continue
            to = rng.choice(choices)
            time.sleep(rng.uniform(0, THINK_SECONDS))
            reviews.attempted += 1
            try:
                step = workflow.transition(ai_model, to, by=user, note="soak")
            except StaleRecordError:
                reviews.stale += 1
            except TransitionError:
                reviews.refused += 1
            else:
                reviews.applied.append((step.pk, pk, to))
            time.sleep(pause)
    except (DatabaseError, SoakError) as error:
        reviews.errors.append(f"{type(error).__name__}: {error}")
    finally:
        connection.close()
    return reviews


def write_parts(directory, rows, seed):
    """One generated published list, split into parts that are imported one after another."""
    whole = Path(directory) / "published-list.csv"
    bench.write_published_list(whole, rows, seed)
    with open(whole, encoding="utf-8-sig", newline="") as handle:
        header, *body = list(csv.reader(handle))
    parts = min(IMPORT_PARTS, len(body))
    paths = []
    for n in range(parts):
        path = Path(directory) / f"part-{n + 1}.csv"
        with open(path, "w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows(body[n::parts])
        paths.append(path)
    return paths


def import_until(paths, user, started, deadline, database_name):
    """Import each part at its share of the time, then the first part again."""
    imports = Imports()
    span = deadline - started
    try:
        _on_soak_database(database_name)
        batches = []
        for n, path in enumerate(paths):
            time.sleep(max(0.0, started + span * (n + 0.5) / len(paths) - time.monotonic()))
            batch = Batch.objects.create(
                slug=f"soak-import-{n + 1}",
                title_en=f"Soak import {n + 1}",
                announced_on=timezone.localdate(),
            )
            result = importer.import_list(
                importer.read_path(path), batch=batch, by=user, skip_invalid=True
            )
            imports.rows += len(result.rows)
            imports.created += result.created_models
            imports.refused += len(result.bad_rows)
            imports.steps_by_batch[batch.pk] = result.created_models
            batches.append(batch)
        if paths:
            again = importer.import_list(importer.read_path(paths[0]), batch=batches[0], by=user)
            imports.reimported = again.created_models
    except (DatabaseError, importer.ImportFileError, SoakError) as error:
        imports.errors.append(f"{type(error).__name__}: {error}")
    finally:
        connection.close()
    return imports


# Running and checking ---------------------------------------------------------------------


def _threads(targets):
    """Run each (function, args) in a thread; return their results in order.

    A thread that fails unexpectedly is reported once every thread has ended, so the
    server is still stopped by the caller.
    """
    results = [None] * len(targets)
    failures = []

    def run(index, function, args):
        try:
            results[index] = function(*args)
        except Exception as error:  # noqa: BLE001 - re-raised below, in the main thread
            failures.append(error)

    threads = [
        threading.Thread(target=run, args=(i, function, args), daemon=True)
        for i, (function, args) in enumerate(targets)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise SoakError(f"A load or writer thread failed: {failures[0]!r}") from failures[0]
    return results


@dataclass
class Outcome:
    plan: Plan
    seconds: float
    traffic: Traffic
    reviews: Reviews
    imports: Imports
    findings: Findings
    history_before: int = 0


def run(plan, database, workdir, log=lambda message: None):
    """Prepare the data set, serve it, load it while writing, then check it."""
    bench.migrate()
    log(f"Generating {plan.spec.models:,} models")
    bench.generate(plan.spec, log)
    before = list(integrity.problems())
    if before:
        raise SoakError(f"The generated data set is inconsistent: {before[0]}")
    user = User.objects.create_user("soak-reviewer", is_staff=True)
    history_before = StatusChange.objects.count()
    paths = load_paths()
    parts = write_parts(workdir, plan.import_rows, plan.spec.seed)
    pool = ModelPool(
        AIModel.objects.backlog().values_list("pk", flat=True),
        max(4, plan.reviewers * 4),
        random.Random(plan.spec.seed),
    )

    env = server_environment(database, Path(workdir) / "static")
    with site_served(plan, env, workdir, log) as server:
        base = server.base
        log(f"Loading for {plan.seconds:g} s")
        started = time.monotonic()
        deadline = started + plan.seconds
        name = database.settings_dict["NAME"]
        per_reviewer = -(-plan.transitions // plan.reviewers)
        targets = [(fetch_until, (base, paths, deadline, n)) for n in range(plan.clients)]
        targets.append((import_until, (parts, user, started, deadline, name)))
        targets += [
            (review_until, (pool, user, per_reviewer, deadline, plan.spec.seed + n, name))
            for n in range(plan.reviewers)
        ]
        results = _threads(targets)
        seconds = time.monotonic() - started

    traffic = Traffic()
    for result in results[: plan.clients]:
        traffic.add(result)
    imports = results[plan.clients]
    reviews = Reviews()
    for result in results[plan.clients + 1 :]:
        reviews.attempted += result.attempted
        reviews.applied += result.applied
        reviews.stale += result.stale
        reviews.refused += result.refused
        reviews.errors += result.errors
    findings = check(history_before, traffic, reviews, imports, server.log_path)
    return Outcome(plan, seconds, traffic, reviews, imports, findings, history_before)


def check(history_before, traffic, reviews, imports, log_path):
    findings = Findings()
    findings.expected_steps = history_before + len(reviews.applied) + imports.created
    findings.actual_steps = StatusChange.objects.count()
    written = {pk: (model, to) for pk, model, to in reviews.applied}
    found = set(
        StatusChange.objects.filter(pk__in=written).values_list("pk", "model_id", "to_status")
    )
    findings.missing_steps = len(written) - len(
        {pk for pk, model, to in found if written[pk] == (model, to)}
    )
    for batch, created in imports.steps_by_batch.items():
        if StatusChange.objects.filter(model__batch=batch).count() != created:
            findings.failures.append(f"the history of import batch {batch} is incomplete")
    findings.problems = list(integrity.problems())
    server_log = _tail(log_path, characters=10**8)
    findings.locked_lines = server_log.count(LOCKED)
    findings.tracebacks = server_log.count("Traceback")

    failures = findings.failures
    if findings.actual_steps != findings.expected_steps:
        failures.append(
            f"{findings.expected_steps} history steps expected, {findings.actual_steps} found"
        )
    if findings.missing_steps:
        failures.append(f"{findings.missing_steps} of the reviewers' steps are missing")
    if findings.problems:
        failures.append(f"{len(findings.problems)} integrity problems")
    if traffic.server_errors:
        failures.append(f"{traffic.server_errors} server errors")
    if traffic.errors:
        failures.append(f"{len(traffic.errors)} failed requests")
    if not traffic.served:
        failures.append("no request was served")
    if findings.locked_lines:
        failures.append(f"“{LOCKED}” {findings.locked_lines} times in the server log")
    if findings.tracebacks:
        failures.append(f"{findings.tracebacks} tracebacks in the server log")
    if reviews.errors or imports.errors:
        failures.append(f"writer errors: {(reviews.errors + imports.errors)[:3]}")
    if imports.reimported:
        failures.append(f"importing a part again created {imports.reimported} models")
    return findings


def report_lines(outcome):
    plan, traffic, reviews = outcome.plan, outcome.traffic, outcome.reviews
    imports, findings = outcome.imports, outcome.findings
    rate = traffic.served / outcome.seconds if outcome.seconds else 0
    latencies = traffic.all_latencies or [0]
    statuses = ", ".join(f"{status}: {n:,}" for status, n in sorted(traffic.statuses.items()))
    lines = [
        f"Soak: {outcome.seconds:.1f} s, {plan.clients} clients, gunicorn with "
        f"{plan.workers} workers, {plan.reviewers} reviewers",
        f"Requests served: {traffic.served:,} ({rate:,.1f} requests/s)",
        f"Latency: median {statistics.median(latencies) * 1000:,.0f} ms, "
        f"p95 {percentile(latencies, 0.95) * 1000:,.0f} ms, "
        f"max {latencies[-1] * 1000:,.0f} ms",
        f"Status codes: {statuses or 'none'}",
        f"Errors: {traffic.server_errors} server errors, {len(traffic.errors)} failed requests",
        f"Transitions: {len(reviews.applied):,} applied, {reviews.stale:,} stale, "
        f"{reviews.refused:,} refused, of {reviews.attempted:,} attempted",
        f"Import: {imports.rows:,} rows, {imports.created:,} models created, "
        f"{imports.refused:,} rows refused, first part again: "
        f"{'not run' if imports.reimported is None else f'{imports.reimported} created'}",
        f"History: {findings.expected_steps:,} steps expected, {findings.actual_steps:,} found "
        f"({outcome.history_before:,} before the soak), {findings.missing_steps} missing",
        f"Integrity problems: {len(findings.problems)}",
        f"Server log: “{LOCKED}” {findings.locked_lines} times, {findings.tracebacks} tracebacks",
    ]
    lines += ["", "Per page: requests, median and p95 ms"]
    lines += [
        f"  {len(seconds):6,}  {statistics.median(seconds) * 1000:7,.0f}  "
        f"{percentile(seconds, 0.95) * 1000:7,.0f}  {path}"
        for path, seconds in sorted(traffic.latencies.items())
    ]
    lines += [f"  {problem}" for problem in findings.problems[:10]]
    lines += [f"  {error}" for error in traffic.errors[:10]]
    lines.append("PASS" if findings.passed else "FAIL: " + "; ".join(findings.failures))
    return lines


# The flood --------------------------------------------------------------------------------
#
# Many clients ask for the whole register as CSV at once while a few others browse. The
# server runs with the production limits, one proxy in front, and each simulated client
# gives an address of its own in X-Forwarded-For, so the limits count each one apart.

FLOOD_EXPORT_PATH = "/models/export.csv"
EXPORTER_ADDRESSES = ipaddress.IPv4Address("10.1.0.1")
READER_ADDRESSES = ipaddress.IPv4Address("10.2.0.1")
# A reader's pause between pages: at most five pages a second, below every default limit
# (searches, feeds and the API are a few of the pages it cycles through).
READER_PAUSE = 0.2
# A refused exporter asks again this soon, whatever Retry-After says: a flood does not wait.
REFUSED_PAUSE = 1.0
# A worker's resident memory at the end may be at most this many times what it was after
# warm-up. By then each worker has streamed whole exports, so SQLite's page cache and mapped
# file (up to 64 and 256 MB) or psycopg's buffers are full. An export that kept its rows
# (tens of MB of CSV at 100,000 models, several exports per worker a minute) would pass
# this within the first minute; allocator slack stays far below it.
RSS_GROWTH_LIMIT = 1.5
# The first part of the flood is its warm-up: the memory after it is the baseline.
WARM_UP_SHARE = 0.25
SAMPLE_SECONDS = 1.0
# The limits the flood leaves as configured (``settings``), beside the export limit it sets.
CONFIGURED_RATES = ("API_RATE", "SEARCH_RATE", "FEED_RATE")


@dataclass(frozen=True)
class FloodPlan:
    seconds: float = 60
    exporters: int = 50
    readers: int = 8
    workers: int = 2
    port: int = 0
    export_rate: str = "1/minute"
    # Browsing's 95th percentile must stay under this many seconds.
    p95_target: float = 0.5
    spec: bench.Spec = Plan().spec


def address(first, n):
    return str(first + n)


@dataclass
class Exports:
    complete: int = 0
    refused: int = 0
    seconds: list = field(default_factory=list)
    failures: list = field(default_factory=list)

    def add(self, other):
        self.complete += other.complete
        self.refused += other.refused
        self.seconds += other.seconds
        self.failures += other.failures


def incomplete_csv(stream, header, rows, length=None):
    """Why the CSV file read from ``stream`` is not the byte-order mark, ``header`` and
    ``rows`` whole rows ending in a line break, of ``length`` bytes if that is given (a
    streamed export gives none); None when it is. Read line by line as it arrives, in
    constant memory."""
    last = b""
    size = 0

    def lines():
        nonlocal last, size
        for line in stream:
            last = line
            size += len(line)
            yield line.decode("utf-8")

    reader = csv.reader(lines())
    if next(reader, None) != [BOM + header[0], *header[1:]]:
        return "the header is missing or wrong"
    count = 0
    for row in reader:
        count += 1
        if len(row) != len(header):
            return f"row {count:,} has {len(row)} cells, not {len(header)}"
    if length is not None and size != length:
        return f"{size:,} bytes, not the {length:,} of its Content-Length"
    if count != rows:
        return f"{count:,} rows, not {rows:,}"
    if not last.endswith(b"\n"):
        return "the last row does not end with a line break"
    return None


def refusal_problem(error):
    """What is wrong with a refusal: it must be a 429 saying when to come back."""
    if error.code != 429:
        return f"status {error.code}"
    retry_after = error.headers.get("Retry-After", "")
    if not retry_after.isdigit() or int(retry_after) < 1:
        return f"429 without a usable Retry-After ({retry_after!r})"
    return None


def export_until(base, client_address, rows, deadline):
    """Ask for the whole register as CSV again and again until ``deadline``; an export
    under way then is read to its end."""
    exports = Exports()
    opener = _opener()
    headers = {"X-Forwarded-For": client_address}
    while time.monotonic() < deadline:
        started = time.perf_counter()
        try:
            request = urllib.request.Request(base + FLOOD_EXPORT_PATH, headers=headers)
            with opener.open(request, timeout=300) as response:
                length = response.headers.get("Content-Length")
                problem = incomplete_csv(
                    response, MODEL_HEADER, rows, int(length) if length else None
                )
        except urllib.error.HTTPError as error:
            error.read()
            problem = refusal_problem(error)
            if problem is None:
                exports.refused += 1
                time.sleep(REFUSED_PAUSE)
                continue
        except (
            urllib.error.URLError,
            http.client.HTTPException,
            OSError,
            csv.Error,
            UnicodeDecodeError,
        ) as error:
            problem = f"{type(error).__name__}: {error}"
        if problem:
            exports.failures.append(f"{client_address}: {problem}")
        else:
            exports.complete += 1
            exports.seconds.append(time.perf_counter() - started)
    return exports


def worker_pids(master):
    """The processes whose parent is ``master``: gunicorn's workers."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name is in parentheses and may hold spaces: the parent follows it.
        if int(stat.rpartition(")")[2].split()[1]) == master:
            pids.append(int(entry.name))
    return sorted(pids)


def resident_kb(pid):
    """The process's resident memory (VmRSS) in kB, or None once it has gone."""
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


@dataclass
class WorkerMemory:
    """One worker's resident memory in kB: at the start, after warm-up, at its peak and at
    the end (None if the worker was gone by then)."""

    pid: int
    start: int
    warm: int = 0
    peak: int = 0
    end: int | None = None

    @property
    def growth(self):
        return self.end / self.warm if self.end and self.warm else None


class MemorySampler:
    """Samples each worker's resident memory every ``SAMPLE_SECONDS`` in a thread."""

    def __init__(self, master, warm_at):
        self.master = master
        self.warm_at = warm_at
        self.stopped = threading.Event()
        self.workers = {
            pid: WorkerMemory(pid, resident_kb(pid) or 0) for pid in worker_pids(master)
        }
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self):
        for pid, memory in self.workers.items():
            kb = resident_kb(pid)
            if kb is None:
                continue
            memory.peak = max(memory.peak, kb)
            if time.monotonic() < self.warm_at or not memory.warm:
                memory.warm = kb

    def _run(self):
        while not self.stopped.wait(SAMPLE_SECONDS):
            self._sample()

    def start(self):
        self.thread.start()

    def stop(self):
        """Each worker's memory, and the workers there are now."""
        self.stopped.set()
        self.thread.join()
        for pid, memory in self.workers.items():
            memory.end = resident_kb(pid)
            memory.peak = max(memory.peak, memory.end or 0)
            # A flood shorter than one sample: the start is all there is to compare with.
            memory.warm = memory.warm or memory.start
        return list(self.workers.values()), worker_pids(self.master)


@dataclass
class FloodOutcome:
    plan: FloodPlan
    database: str
    rows: int
    pages: int
    seconds: float
    traffic: Traffic
    exports: Exports
    memory: list
    workers_after: list
    tracebacks: int = 0
    locked_lines: int = 0
    failures: list = field(default_factory=list)

    @property
    def passed(self):
        return not self.failures

    @property
    def browsing_p95(self):
        return percentile(self.traffic.all_latencies or [0], 0.95)


def flood(plan, database, workdir, log=lambda message: None):
    """Prepare the data set, serve it with the export limit of ``plan``, flood it with
    exports while readers browse, then check every answer and the workers' memory."""
    bench.migrate()
    log(f"Generating {plan.spec.models:,} models")
    bench.generate(plan.spec, log)
    rows = AIModel.objects.count()
    paths = [path for _label, path in bench.page_targets()]

    with own_redis(workdir) as cache_url:
        if cache_url is None:
            raise SoakError(
                "The flood needs redis-server (apt-get install redis-server): the workers "
                "share their limits, and the exports written at once, through it."
            )
        return _flood(plan, database, workdir, rows, paths, cache_url, log)


def _flood(plan, database, workdir, rows, paths, cache_url, log):
    env = server_environment(database, Path(workdir) / "static")
    env |= {
        "CACHE_URL": cache_url,
        "DJANGO_NUM_PROXIES": "1",
        "TRACKER_EXPORT_RATE": plan.export_rate,
    }
    env |= {f"TRACKER_{name}": getattr(settings, name) for name in CONFIGURED_RATES}
    with site_served(plan, env, workdir, log) as server:
        base = server.base
        log(f"Flooding for {plan.seconds:g} s")
        started = time.monotonic()
        deadline = started + plan.seconds
        sampler = MemorySampler(server.process.pid, started + plan.seconds * WARM_UP_SHARE)
        sampler.start()
        targets = [
            (export_until, (base, address(EXPORTER_ADDRESSES, n), rows, deadline))
            for n in range(plan.exporters)
        ]
        targets += [
            (
                fetch_until,
                (
                    base,
                    paths,
                    deadline,
                    n,
                    {"X-Forwarded-For": address(READER_ADDRESSES, n)},
                    READER_PAUSE,
                ),
            )
            for n in range(plan.readers)
        ]
        try:
            results = _threads(targets)
        finally:
            memory, workers_after = sampler.stop()
        seconds = time.monotonic() - started

    exports = Exports()
    for result in results[: plan.exporters]:
        exports.add(result)
    traffic = Traffic()
    for result in results[plan.exporters :]:
        traffic.add(result)
    server_log = _tail(server.log_path, characters=10**8)
    outcome = FloodOutcome(
        plan,
        database.description,
        rows,
        len(paths),
        seconds,
        traffic,
        exports,
        memory,
        workers_after,
        tracebacks=server_log.count("Traceback"),
        locked_lines=server_log.count(LOCKED),
    )
    outcome.failures = flood_failures(outcome)
    return outcome


def flood_failures(outcome):
    traffic, exports = outcome.traffic, outcome.exports
    failures = []
    if exports.failures:
        failures.append(f"{len(exports.failures)} exports failed or were cut off")
    if not exports.complete:
        failures.append("no export was completed")
    if not exports.refused:
        failures.append("no export was refused: the limit was never reached")
    browsing_failed = sum(n for status, n in traffic.statuses.items() if status not in (200, 304))
    if browsing_failed or traffic.errors:
        failures.append(f"{browsing_failed + len(traffic.errors)} browsing requests failed")
    if not traffic.served:
        failures.append("no page was served")
    target = outcome.plan.p95_target
    if outcome.browsing_p95 >= target:
        failures.append(
            f"browsing p95 {outcome.browsing_p95 * 1000:,.0f} ms, not under {target * 1000:,.0f} ms"
        )
    started = sorted(memory.pid for memory in outcome.memory)
    if not started or started != outcome.workers_after:
        failures.append(
            f"the workers changed: {started} at the start, {outcome.workers_after} after"
        )
    grown = [m.pid for m in outcome.memory if (m.growth or 0) > RSS_GROWTH_LIMIT]
    if grown:
        failures.append(f"the memory of workers {grown} grew more than {RSS_GROWTH_LIMIT}×")
    if outcome.tracebacks:
        failures.append(f"{outcome.tracebacks} tracebacks in the server log")
    if outcome.locked_lines:
        failures.append(f"“{LOCKED}” {outcome.locked_lines} times in the server log")
    return failures


def _ms(seconds):
    return f"{seconds * 1000:,.0f} ms"


def _mb(kb):
    return "gone" if kb is None else f"{kb / 1024:,.1f}"


def flood_report_lines(outcome):
    plan, traffic, exports = outcome.plan, outcome.traffic, outcome.exports
    latencies = traffic.all_latencies or [0]
    durations = sorted(exports.seconds) or [0]
    statuses = ", ".join(f"{status}: {n:,}" for status, n in sorted(traffic.statuses.items()))
    lines = [
        f"Flood: {outcome.database}, {outcome.rows:,} models; {outcome.seconds:.1f} s "
        f"({plan.seconds:g} s of requests, then the exports under way were read to the end)",
        f"Server: gunicorn, {plan.workers} workers; one proxy in front, each client its own "
        f"X-Forwarded-For; limits counted in a Redis the workers share: at most "
        f"{settings.EXPORTS_AT_ONCE} export(s) written at once; per client: export "
        f"{plan.export_rate}, "
        + ", ".join(
            f"{name.split('_')[0].lower()} {getattr(settings, name)}" for name in CONFIGURED_RATES
        ),
        f"Clients: {plan.exporters} exporters of {FLOOD_EXPORT_PATH} (asking again "
        f"{REFUSED_PAUSE:g} s after a refusal), {plan.readers} readers of "
        f"{outcome.pages} pages ({READER_PAUSE:g} s between pages)",
        f"Exports: {exports.complete:,} complete, {exports.refused:,} refused (429 with "
        f"Retry-After), {len(exports.failures):,} failed or cut off; a complete export took "
        f"median {statistics.median(durations):,.1f} s, max {durations[-1]:,.1f} s",
        f"Browsing: {traffic.served:,} requests, status codes {statuses or 'none'}, "
        f"{len(traffic.errors)} failed requests",
        f"Browsing latency: median {_ms(statistics.median(latencies))}, "
        f"p95 {_ms(outcome.browsing_p95)} (target under {_ms(plan.p95_target)}), "
        f"max {_ms(latencies[-1])}",
        f"Server log: {outcome.tracebacks} tracebacks, “{LOCKED}” {outcome.locked_lines} times",
        "",
        f"Worker memory, VmRSS MB: start, after warm-up ({WARM_UP_SHARE:.0%} of the time), "
        f"peak, end, end/warm-up (limit {RSS_GROWTH_LIMIT}×)",
    ]
    lines += [
        f"  pid {m.pid}: {_mb(m.start)}  {_mb(m.warm)}  {_mb(m.peak)}  {_mb(m.end)}  "
        + (f"{m.growth:.2f}×" if m.growth else "-")
        for m in outcome.memory
    ]
    lines += [f"  {failure}" for failure in exports.failures[:10]]
    lines += [f"  {error}" for error in traffic.errors[:10]]
    lines.append("PASS" if outcome.passed else "FAIL: " + "; ".join(outcome.failures))
    return lines
