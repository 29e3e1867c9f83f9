import os
import uuid
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test import override_settings
from django.utils import translation

from tests.factories import UserFactory
from tracker import audit


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # Staff users are made in hundreds of tests; a real hasher costs a third of a second each.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True, scope="session")
def cache_of_this_worker(worker_id):
    """With Redis as the cache (CACHE_URL, as .ci/run sets for PostgreSQL), each test worker
    takes a database of its own on the server: a test empties the cache, and must not empty
    the other worker's under its feet."""
    location = settings.CACHES["default"]["LOCATION"]
    if not location.startswith("redis://") or worker_id == "master":
        yield
        return
    number = int(worker_id.removeprefix("gw")) + 1
    parts = urlsplit(location)
    worker_cache = {
        **settings.CACHES["default"],
        "LOCATION": parts._replace(path=f"/{number}").geturl(),
    }
    with override_settings(CACHES={"default": worker_cache}):
        yield


@pytest.fixture(autouse=True)
def empty_cache():
    # Cached register numbers are keyed by a stamp each test database starts afresh.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def english():
    # A request leaves its language active in the thread; addresses a test makes (a record's
    # get_absolute_url) are English, whichever language the previous test's pages spoke.
    translation.activate("en")
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def stamp_moves_inside_the_test_transaction(request):
    """On PostgreSQL the register stamp moves as a transaction commits (migration 0006), and
    a test's transaction never commits: inside it, the stamp moves at each statement instead,
    as it did before, so that a test can write, then read what the public sees. The tests of
    the commit itself run in transactions of their own (test_stamp_commit)."""
    marker = request.node.get_closest_marker("django_db")
    transactional = "transactional_db" in request.fixturenames or (
        marker is not None
        and (marker.kwargs.get("transaction") or (marker.args and marker.args[0]))
    )
    if transactional or (marker is None and "db" not in request.fixturenames):
        return
    request.getfixturevalue("db")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS tracker_register_stamp_bump IMMEDIATE")


@pytest.fixture(autouse=True)
def downloads_root(settings, tmp_path_factory):
    # An import rebuilds the bulk downloads: into a directory of the test's, never the
    # working copy's downloads/.
    settings.DOWNLOADS_ROOT = tmp_path_factory.mktemp("downloads")
    # The admin's import rebuilds them in a thread: only the tests of that start one.
    settings.DOWNLOADS_REBUILD_AFTER_IMPORT = False
    return settings.DOWNLOADS_ROOT


@pytest.fixture
def session_reads():
    """The queries a signed-in request spends reading its session: one from the database,
    none where a shared cache holds the sessions (settings.SESSION_ENGINE)."""
    return 0 if settings.SESSION_ENGINE.endswith("cached_db") else 1


@pytest.fixture
def editor(db):
    return UserFactory(groups=["Editors"])


@pytest.fixture
def reviewer(db):
    return UserFactory(groups=["Reviewers"])


VENDORS = ("postgresql", "sqlite")
# .ci/run names the database whose own tests must all run: a skipped one fails the run, so
# the skip below can only hide a test on the other database.
REQUIRED_VENDOR = os.environ.get("TRACKER_REQUIRE_VENDOR_TESTS", "")
_skipped_required = []


def pytest_runtest_setup(item):
    for vendor in VENDORS:
        if item.get_closest_marker(vendor) and connection.vendor != vendor:
            pytest.skip(f"runs on {vendor} only")


def pytest_runtest_logreport(report):
    if REQUIRED_VENDOR and report.skipped and REQUIRED_VENDOR in report.keywords:
        _skipped_required.append(report.nodeid)


def pytest_sessionfinish(session, exitstatus):
    if _skipped_required:
        names = ", ".join(_skipped_required)
        print(f"\nThese {REQUIRED_VENDOR} tests were skipped on {REQUIRED_VENDOR}: {names}")
        session.exitstatus = 1


def pytest_collection_modifyitems(items):
    # Browser tests commit their data and empty every table afterwards, the reference data
    # of the migrations included: they run last so that no other test starts without it.
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


@pytest.fixture
def fresh_database(tmp_path):
    """Environment variables naming a new, empty database of the suite's kind."""
    env = {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_ALLOWED_HOSTS": "testserver",
    }
    if connection.vendor == "sqlite":
        yield {**env, "SQLITE_PATH": str(tmp_path / "restored.sqlite3")}
        return
    name = f"tracker_restore_{uuid.uuid4().hex[:12]}"
    quoted = connection.ops.quote_name(name)
    with connection._nodb_cursor() as cursor:
        cursor.execute(f"CREATE DATABASE {quoted}")
    url = urlsplit(os.environ["DATABASE_URL"])
    try:
        yield {**env, "DATABASE_URL": urlunsplit(url._replace(path=f"/{name}"))}
    finally:
        with connection._nodb_cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {quoted}")


@pytest.fixture(autouse=True, scope="session")
def flushes_may_empty_the_record_history():
    """A test database is emptied between tests that commit (flush): the record history
    with it, which nothing else may delete."""
    operations = type(connection.ops)
    flush = operations.execute_sql_flush

    def execute_sql_flush(self, sql_list):
        with audit.purging():
            return flush(self, sql_list)

    operations.execute_sql_flush = execute_sql_flush
    yield
    operations.execute_sql_flush = flush
