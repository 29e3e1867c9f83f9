"""Concurrent reviewers: of several transitions started at once, exactly one lands.

On PostgreSQL each thread has its own connection. SQLite serialises writers inside one
process, so there the race runs between two processes sharing a database file.
"""

import multiprocessing
import sqlite3
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing

import django
import pytest
from django.db import connection

from tests.factories import AIModelFactory
from tracker import workflow
from tracker.models import AIModel, Status, StatusChange
from tracker.workflow import StaleRecordError

THREADS = 8

# Each transactional test empties the database when it ends; serialized rollback reloads the
# rows the data migrations wrote (jurisdictions, groups) before the test starts.
concurrent_db = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def attempt(pk, to, barrier):
    """Read the model, wait for every other reviewer, then try ``to``: "ok" or "stale"."""
    try:
        ai_model = AIModel.objects.get(pk=pk)
        barrier.wait(timeout=60)
        try:
            workflow.transition(ai_model, to, by=None, note=f"to {to}")
        except StaleRecordError:
            return "stale"
        return "ok"
    finally:
        connection.close()


@pytest.mark.postgresql
@concurrent_db
def test_eight_concurrent_transitions_on_postgresql_let_exactly_one_through():
    ai_model = AIModelFactory(status=Status.PROVINCIAL_REVIEW)
    choices = workflow.allowed_transitions(ai_model)
    targets = [choices[i % len(choices)] for i in range(THREADS)]
    barrier = threading.Barrier(THREADS)

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        outcomes = list(pool.map(attempt, [ai_model.pk] * THREADS, targets, [barrier] * THREADS))

    assert Counter(outcomes) == {"ok": 1, "stale": THREADS - 1}
    assert_one_step_landed(ai_model, targets)


def assert_one_step_landed(ai_model, targets):
    row = AIModel.objects.get(pk=ai_model.pk)
    new_steps = list(StatusChange.objects.filter(model=ai_model).exclude(from_status=""))
    assert len(new_steps) == 1
    assert row.status == new_steps[0].to_status
    assert row.status in targets
    assert row.version == ai_model.version + 1


def copy_test_database(path):
    """Write the in-memory test database to a file other processes can open, already in
    WAL mode: two workers switching a fresh file to it at once may find it locked."""
    connection.ensure_connection()
    target = sqlite3.connect(path)
    try:
        connection.connection.backup(target)
        target.execute("PRAGMA journal_mode=WAL")
    finally:
        target.close()


@pytest.mark.sqlite
@concurrent_db
def test_two_processes_racing_on_sqlite_let_exactly_one_through(tmp_path, monkeypatch):
    ai_model = AIModelFactory(status=Status.PROVINCIAL_REVIEW)
    targets = [Status.NATIONAL_REVIEW, Status.WITHDRAWN]
    database = tmp_path / "race.sqlite3"
    copy_test_database(database)
    # Spawned workers read their settings afresh: this points them at the copy.
    monkeypatch.setenv("SQLITE_PATH", str(database))
    context = multiprocessing.get_context("spawn")

    with context.Manager() as manager, context.Pool(2, initializer=django.setup) as pool:
        barrier = manager.Barrier(2)
        outcomes = pool.starmap(attempt, [(ai_model.pk, to, barrier) for to in targets])

    assert Counter(outcomes) == {"ok": 1, "stale": 1}
    with closing(sqlite3.connect(database)) as copy:
        status, version = copy.execute(
            "SELECT status, version FROM tracker_aimodel WHERE id = ?", [ai_model.pk]
        ).fetchone()
        steps = copy.execute(
            "SELECT from_status, to_status FROM tracker_statuschange WHERE model_id = ?",
            [ai_model.pk],
        ).fetchall()
    assert status in targets
    assert version == ai_model.version + 1
    assert steps == [("", Status.PROVINCIAL_REVIEW), (Status.PROVINCIAL_REVIEW, status)]
