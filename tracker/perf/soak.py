"""The soak test behind ``manage.py soak``: gunicorn under load while the register is written.

The soak builds a database of its own with the benchmark's synthetic register, serves it
with gunicorn on loopback, and for a bounded time fetches the public pages from several
client threads while, in this process and on the same database, a published list is
imported in parts and reviewers move pending submissions through the workflow. Then it
checks that nothing was lost: every step of history it wrote is there, each model's
status is the last step of its history, no page failed and the server never reported
"database is locked".
"""

import csv
import http.client
import os
import random
import secrets
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
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import User
from django.db import DatabaseError, connection
from django.utils import timezone

from tracker import integrity, workflow
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


def start_server(env, port, workers, log_path):
    command = [
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
    with open(log_path, "wb") as log:
        # A session of its own, so stopping it takes the workers down with the arbiter.
        return subprocess.Popen(
            command,
            cwd=settings.BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


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
    """The public pages of ``bench.page_targets`` and a filtered export."""
    return [path for _label, path in bench.page_targets()] + [EXPORT_PATH]


def fetch_until(base, paths, deadline, offset):
    traffic = Traffic()
    opener = _opener()
    for n in range(offset, sys.maxsize):
        if time.monotonic() >= deadline:
            break
        path = paths[n % len(paths)]
        started = time.perf_counter()
        try:
            with opener.open(base + path, timeout=120) as response:
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
    log("Collecting static files")
    collect_static(env)
    port = plan.port or free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = Path(workdir) / "gunicorn.log"
    log(f"Starting gunicorn on {base} with {plan.workers} workers")
    server = start_server(env, port, plan.workers, log_path)
    try:
        wait_until_answering(base, server, log_path)
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
    finally:
        stop_server(server)

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
    findings = check(history_before, traffic, reviews, imports, log_path)
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
