"""The bulk downloads: the whole public register as files, rebuilt when it has changed.

``build()`` writes, into a new directory under ``settings.DOWNLOADS_ROOT``:

- ``register.sqlite``: the public tables with their keys and indexes, and a README table;
- ``register-csv.zip``: models, applicants, batches and history as CSV and JSON Lines, with
  a ``datapackage.json`` describing every field;
- ``lists/<batch>.csv``: each batch's published list, as the site's batch export writes it;
- ``manifest.json``: each file's size, rows, SHA-256 and the register stamp it was built from.

Readers find the files through the symbolic link ``current``, which a build replaces in one
rename when every file is complete, so a page or a download never sees half a build. The
directory the link named before stays until the next build, for downloads already under
way. A lock file makes concurrent builds wait for each other.

Every file is the same, byte for byte, for the same register: rows in id order, zip entries
dated with the register's last change, and a pending model's days in review counted to that
day rather than to the day of the build. Rows stream from the database in chunks, so memory
does not grow with the register.
"""

import contextlib
import datetime
import fcntl
import hashlib
import io
import json
import logging
import os
import shutil
import sqlite3
import tempfile
import threading
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from tracker import stamp as register_stamp
from tracker.analysis.exports import (
    applicant_rows,
    batch_export,
    batch_rows,
    csv_chunks,
    history_rows,
    model_rows,
    url_maker,
)
from tracker.bulk import CHUNK_SIZE
from tracker.models import AIModel, Applicant, Batch, Jurisdiction, Source, StatusChange
from tracker.opendata import datapackage

logger = logging.getLogger(__name__)

SQLITE_NAME = "register.sqlite"
ZIP_NAME = "register-csv.zip"
LISTS_DIR = "lists"
MANIFEST_NAME = "manifest.json"
CURRENT_LINK = "current"
LOCK_NAME = ".lock"
BUILD_PREFIX = "build-"
PARTIAL_SUFFIX = ".partial"
MANIFEST_FORMAT = 1
# Builds tried while the register keeps changing under them, before giving up.
ATTEMPTS = 3
HASH_BLOCK = 1 << 20
JSON_LINES_PER_WRITE = 500
# The earliest time a zip entry can carry.
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


class BuildError(Exception):
    """The files cannot be built; the message says why and what to do."""


@dataclass
class Result:
    manifest: dict
    rebuilt: bool
    seconds: float = 0.0


@dataclass
class Published:
    """The files readers see: the directory ``current`` names, and its manifest."""

    directory: Path
    manifest: dict

    def entry(self, name):
        """The manifest's entry of the file ``name``, or None for a name it does not list."""
        return next((f for f in self.manifest["files"] if f["name"] == name), None)


@dataclass
class _Written:
    name: str
    rows: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)


def downloads_root():
    return Path(settings.DOWNLOADS_ROOT)


def published(root=None):
    """The files as readers see them, or None when none were built yet."""
    root = Path(root or downloads_root())
    try:
        directory = (root / CURRENT_LINK).resolve(strict=True)
        manifest = json.loads((directory / MANIFEST_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return Published(directory, manifest)


def is_current(manifest, stamp):
    """Whether files built under ``manifest`` show the register with ``stamp``."""
    return (
        stamp is not None
        and manifest.get("format") == MANIFEST_FORMAT
        and manifest.get("stamp") == stamp.version
        and manifest.get("register_changed_at") == stamp.changed_at.isoformat()
    )


def build(force=False):
    """Build the files unless those published already show the current register."""
    root = downloads_root()
    try:
        root.mkdir(parents=True, exist_ok=True)
        lock = open(root / LOCK_NAME, "a")  # noqa: SIM115 - held until the build ends
    except OSError as error:
        raise BuildError(_cannot_write(root, error)) from error
    with lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _build_locked(root, force)


def rebuild_soon():
    """Rebuild the files once the current transaction has committed, in a thread of this
    process, so that a page (the admin's import) need not wait for them; the files are
    only ever swapped in whole, and a failure is logged, not shown. Off when
    ``settings.DOWNLOADS_REBUILD_AFTER_IMPORT`` is false (the nightly build then catches
    up)."""
    if not settings.DOWNLOADS_REBUILD_AFTER_IMPORT:
        return
    transaction.on_commit(
        lambda: threading.Thread(target=_rebuild, name="build_downloads", daemon=True).start()
    )


def _rebuild():
    try:
        build()
    except Exception:
        # A thread's failure reaches no page: the log says it.
        logger.exception("The bulk downloads were not rebuilt after an import")
    finally:
        connection.close()


def _cannot_write(root, error):
    return (
        f"Cannot write the downloads to {root}: {error.strerror or error}. Set "
        "TRACKER_DOWNLOADS_DIR to a directory this user can write."
    )


def _build_locked(root, force):
    started = time.perf_counter()
    stamp = register_stamp.current()
    existing = published(root)
    if existing and not force and is_current(existing.manifest, stamp):
        return Result(existing.manifest, rebuilt=False)
    _remove_partial_builds(root)
    for _attempt in range(ATTEMPTS):
        try:
            directory = Path(tempfile.mkdtemp(prefix=BUILD_PREFIX, suffix=PARTIAL_SUFFIX, dir=root))
        except OSError as error:
            raise BuildError(_cannot_write(root, error)) from error
        try:
            manifest = _write_all(directory, stamp)
        except OSError as error:
            shutil.rmtree(directory, ignore_errors=True)
            raise BuildError(_cannot_write(root, error)) from error
        except BaseException:
            shutil.rmtree(directory, ignore_errors=True)
            raise
        after = register_stamp.current()
        if after == stamp:
            _publish(root, directory, existing)
            return Result(manifest, rebuilt=True, seconds=time.perf_counter() - started)
        # The register changed while it was read: the tables may not agree with each other.
        shutil.rmtree(directory, ignore_errors=True)
        stamp = after
    raise BuildError(
        f"The register changed during each of {ATTEMPTS} builds; nothing was published. "
        "Run the command again when the writes are over."
    )


def _remove_partial_builds(root):
    # Under the lock no other build is running: a partial directory is a crashed build's.
    for path in root.glob(f"{BUILD_PREFIX}*{PARTIAL_SUFFIX}"):
        shutil.rmtree(path, ignore_errors=True)


def _publish(root, partial, previous):
    """Point ``current`` at the new build in one rename; keep the previous build, remove
    the older ones."""
    final = partial.with_name(partial.name.removesuffix(PARTIAL_SUFFIX))
    # mkdtemp makes the directory private; the site may run as another user.
    os.chmod(partial, 0o755)
    os.rename(partial, final)
    link = root / f".{CURRENT_LINK}-{final.name}"
    with contextlib.suppress(FileNotFoundError):
        link.unlink()
    os.symlink(final.name, link)
    os.replace(link, root / CURRENT_LINK)
    keep = {final.name, previous.directory.name if previous else None}
    for path in root.glob(f"{BUILD_PREFIX}*"):
        if path.name not in keep and not path.name.endswith(PARTIAL_SUFFIX):
            shutil.rmtree(path, ignore_errors=True)


# Writing the files --------------------------------------------------------------------------


class _Counted:
    """An iterable that counts the items it hands out."""

    def __init__(self, items):
        self.items = items
        self.count = 0

    def __iter__(self):
        for item in self.items:
            self.count += 1
            yield item


def _as_of(stamp):
    """The register's last change, and its day in China: what the files are as of."""
    changed_at = stamp.changed_at if stamp else timezone.now()
    return changed_at, timezone.localtime(changed_at).date()


def _write_all(directory, stamp):
    changed_at, as_of = _as_of(stamp)
    base_url = settings.SITE_URL
    written = [
        _write_sqlite(directory / SQLITE_NAME, base_url, changed_at, stamp),
        _write_zip(directory / ZIP_NAME, base_url, changed_at, as_of, stamp),
        *_write_lists(directory),
    ]
    manifest = {
        "format": MANIFEST_FORMAT,
        "stamp": stamp.version if stamp else None,
        "register_changed_at": changed_at.isoformat(),
        "as_of": as_of.isoformat(),
        "built_at": timezone.now().isoformat(timespec="seconds"),
        "site_url": base_url,
        "files": [_describe(directory, item) for item in written],
    }
    (directory / MANIFEST_NAME).write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    return manifest


def _describe(directory, item):
    path = directory / item.name
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(HASH_BLOCK):
            digest.update(block)
    return {
        "name": item.name,
        "size": path.stat().st_size,
        "sha256": digest.hexdigest(),
        "rows": item.rows,
        **item.extra,
    }


# SQLite -------------------------------------------------------------------------------------


def _sqlite_value(value):
    """A value as the SQLite file keeps it: unknown text as NULL, dates as ISO text."""
    if value == "":
        return None
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    return value


def _sqlite_sources(base_url):
    """Each SQLite table's rows, in its columns' order, by id."""
    page = {
        route: url_maker(base_url, f"tracker:{route}")
        for route in ("applicant_detail", "batch_detail", "model_detail")
    }

    def rows(queryset, *names):
        return queryset.order_by("pk").values_list(*names).iterator(chunk_size=CHUNK_SIZE)

    def with_url(items, route):
        # The slug is each table's second column.
        return ((*row, page[route](row[1])) for row in items)

    def models():
        for row in rows(AIModel.objects, *MODEL_SOURCE):
            *head, approved_on, estimated = row[:14]
            yield (*head, approved_on, estimated if approved_on else None, *row[14:])

    through = Source.ai_models.through
    return {
        "jurisdictions": lambda: rows(
            Jurisdiction.objects, "id", "code", "name_zh", "name_en", "filing_token", "sort_order"
        ),
        "applicants": lambda: with_url(
            rows(
                Applicant.objects,
                *("id", "slug", "name_zh", "name_en", "jurisdiction_id", "kind", "website"),
                "parent_id",
            ),
            "applicant_detail",
        ),
        "batches": lambda: with_url(
            rows(Batch.objects, "id", *datapackage.BATCH_HEADER[:-1]), "batch_detail"
        ),
        "models": lambda: with_url(models(), "model_detail"),
        "history": lambda: rows(
            StatusChange.objects,
            *("id", "model_id", "from_status", "to_status", "happened_on", "recorded_at"),
            "note",
        ),
        "sources": lambda: rows(
            Source.objects, "id", "title", "publisher", "url", "published_on", "summary"
        ),
        "model_sources": lambda: rows(through.objects, "source_id", "aimodel_id"),
    }


# The models table's columns from the ORM: every public field, and none of the staff's.
MODEL_SOURCE = (
    "id",
    "slug",
    "name_zh",
    "name_en",
    "applicant_id",
    "filing_type",
    "scope",
    "sector",
    "upstream_id",
    "status",
    "filing_number",
    "submitted_on",
    "approved_on",
    "approved_on_estimated",
    "batch_id",
    "seq_no",
    "sequence",
    "on_device_scenario",
    "aliases",
    "description",
)


def _quote(name):
    return '"' + name.replace('"', '""') + '"'


def _create_table(table):
    columns = [f"{_quote(f.name)} {f.sql_type} {f.sql}".rstrip() for f in table.fields]
    if table.name in datapackage.SQLITE_PRIMARY_KEYS:
        keys = ", ".join(map(_quote, datapackage.SQLITE_PRIMARY_KEYS[table.name]))
        columns.append(f"PRIMARY KEY ({keys})")
    return f"CREATE TABLE {_quote(table.name)} (\n  " + ",\n  ".join(columns) + "\n)"


def readme_rows(changed_at, stamp):
    """The README table: the file first (table and column empty), then each table (column
    empty), then each column."""
    as_of = timezone.localtime(changed_at).isoformat(timespec="seconds")
    version = stamp.version if stamp else "unknown"
    yield (
        "",
        "",
        f"{datapackage.TITLE_EN}. {datapackage.SOURCE_EN} {datapackage.TERMS_EN} The register "
        f"as of {as_of} (register stamp {version}). Empty (NULL) values are unknown.",
        f"{datapackage.TITLE_ZH}。{datapackage.SOURCE_ZH}{datapackage.TERMS_ZH}"
        f"数据截至 {as_of}（登记册版本 {version}）。空值（NULL）表示未知。",
    )
    readme = datapackage.Table(
        "README",
        "What each table and column holds, in English and Chinese.",
        "各表与各列的含义（英文与中文）。",
        (),
    )
    for table in (*datapackage.SQLITE_TABLES, readme):
        yield table.name, "", table.en, table.zh
        for column in table.fields:
            yield table.name, column.name, column.en, column.zh
    for name, en, zh in README_COLUMNS:
        yield "README", name, en, zh


README_COLUMNS = (
    ("table_name", "The table described; empty for the whole file.", "所描述的表；整个文件为空。"),
    ("column_name", "The column described; empty for the whole table.", "所描述的列；整张表为空。"),
    ("description_en", "The description in English.", "英文说明。"),
    ("description_zh", "The description in Chinese.", "中文说明。"),
)


def _write_sqlite(path, base_url, changed_at, stamp):
    sources = _sqlite_sources(base_url)
    rows = {}
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode = OFF")
        db.execute("PRAGMA synchronous = OFF")
        db.execute("BEGIN")
        for table in datapackage.SQLITE_TABLES:
            db.execute(_create_table(table))
            placeholders = ", ".join("?" * len(table.fields))
            counted = _Counted(sources[table.name]())
            db.executemany(
                f"INSERT INTO {_quote(table.name)} VALUES ({placeholders})",
                (tuple(map(_sqlite_value, row)) for row in counted),
            )
            rows[table.name] = counted.count
        for table, columns in datapackage.SQLITE_INDEXES:
            name = _quote(f"{table}_{'_'.join(columns)}_idx")
            db.execute(
                f"CREATE INDEX {name} ON {_quote(table)} ({', '.join(map(_quote, columns))})"
            )
        db.execute(
            "CREATE TABLE README (table_name TEXT NOT NULL, column_name TEXT NOT NULL, "
            "description_en TEXT NOT NULL, description_zh TEXT NOT NULL, "
            "PRIMARY KEY (table_name, column_name))"
        )
        db.executemany("INSERT INTO README VALUES (?, ?, ?, ?)", readme_rows(changed_at, stamp))
        db.execute("COMMIT")
        if db.execute("PRAGMA foreign_key_check").fetchone() is not None:
            raise BuildError("The register's tables did not agree while they were read.")
        db.execute("ANALYZE")
        db.execute("VACUUM")
    finally:
        db.close()
    return _Written(SQLITE_NAME, rows)


# The CSV and JSON Lines zip ------------------------------------------------------------------


def _zip_entry(name, changed_at):
    moment = timezone.localtime(changed_at).timetuple()[:6]
    entry = zipfile.ZipInfo(name, date_time=max(moment, ZIP_EPOCH))
    entry.compress_type = zipfile.ZIP_DEFLATED
    entry.external_attr = 0o644 << 16
    return entry


def _json_value(value):
    """A value as the JSON Lines files hold it: unknown as null, dates as ISO text."""
    if value == "":
        return None
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def json_lines(header, rows):
    """``rows`` as JSON Lines, one object per row with ``header``'s keys, in chunks."""
    buffer = io.StringIO()
    for n, row in enumerate(rows, 1):
        record = dict(zip(header, map(_json_value, row), strict=True))
        buffer.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")))
        buffer.write("\n")
        if n % JSON_LINES_PER_WRITE == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def _csv_sources(base_url, as_of):
    """The rows of each CSV table, by id: the exports' own rows."""
    return {
        "models": lambda: model_rows(AIModel.objects.order_by("pk"), base_url, today=as_of),
        "applicants": lambda: applicant_rows(
            Applicant.objects.for_listing().order_by("pk"), base_url
        ),
        "batches": lambda: batch_rows(base_url),
        "history": lambda: history_rows(base_url),
    }


def _write_zip(path, base_url, changed_at, as_of, stamp):
    sources = _csv_sources(base_url, as_of)
    rows = {}
    with zipfile.ZipFile(path, "w") as archive:
        for table in datapackage.CSV_TABLES:
            header = datapackage.HEADERS[table.name]
            counted = _Counted(sources[table.name]())
            with archive.open(_zip_entry(f"{table.name}.csv", changed_at), "w") as out:
                for chunk in csv_chunks(header, counted):
                    out.write(chunk)
            rows[table.name] = counted.count
        for table in datapackage.CSV_TABLES:
            header = datapackage.HEADERS[table.name]
            with archive.open(_zip_entry(f"{table.name}.jsonl", changed_at), "w") as out:
                for chunk in json_lines(header, sources[table.name]()):
                    out.write(chunk)
        package = datapackage.datapackage(as_of, changed_at, stamp.version if stamp else None)
        archive.writestr(
            _zip_entry("datapackage.json", changed_at),
            json.dumps(package, ensure_ascii=False, indent=2) + "\n",
        )
    return _Written(ZIP_NAME, rows)


# The published lists ------------------------------------------------------------------------


def _write_lists(directory):
    (directory / LISTS_DIR).mkdir()
    for batch in Batch.objects.order_by("pk").only("slug", "title_en", "title_zh"):
        export = batch_export(batch)
        counted = _Counted(export.rows)
        name = f"{LISTS_DIR}/{batch.slug}.csv"
        with open(directory / name, "wb") as handle:
            for chunk in csv_chunks(export.header, counted):
                handle.write(chunk)
        yield _Written(
            name,
            {"models": counted.count},
            {"batch": batch.slug, "title_en": batch.title_en, "title_zh": batch.title_zh},
        )
