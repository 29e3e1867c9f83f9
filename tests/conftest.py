import os
import uuid
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.core.cache import cache
from django.db import connection

from tests.factories import UserFactory
from tracker import audit


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # Staff users are made in hundreds of tests; a real hasher costs a third of a second each.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def empty_cache():
    # Cached register numbers are keyed by a stamp each test database starts afresh.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def downloads_root(settings, tmp_path_factory):
    # An import rebuilds the bulk downloads: into a directory of the test's, never the
    # working copy's downloads/.
    settings.DOWNLOADS_ROOT = tmp_path_factory.mktemp("downloads")
    # The admin's import rebuilds them in a thread: only the tests of that start one.
    settings.DOWNLOADS_REBUILD_AFTER_IMPORT = False
    return settings.DOWNLOADS_ROOT


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
