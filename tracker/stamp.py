"""The register stamp: what changes whenever anything the public reads changes.

Migrations 0002 and 0003 keep the one-row table ``tracker_register_stamp`` up to date with
triggers on every public table, from any process, raw SQL and bulk updates included:
``version`` is never reused, ``changed_at`` is the time of the latest write. On PostgreSQL
the stamp moves once per transaction, as it commits (migration 0006), so concurrent writers
do not queue on its row; code inside a writing transaction sees the stamp from before it,
which is what every other reader sees until the commit, and the stamp says it is not
``settled``: what that code reads may hold its own uncommitted writes. Cached numbers are
kept under the version, when settled (tracker.analysis.stats), and conditional requests are
answered from both (tracker.public.conditional).
"""

import contextvars
import datetime
from contextlib import contextmanager
from dataclasses import dataclass

from django.db import connection

STAMP_SQL = "SELECT version, changed_at FROM tracker_register_stamp WHERE id = 1"
# On PostgreSQL also whether this transaction has written (it has an id) without moving the
# stamp yet (migration 0006's mark names the transaction once it has).
POSTGRESQL_STAMP_SQL = (
    "SELECT version, changed_at, pg_current_xact_id_if_assigned() IS NULL OR "
    "coalesce(current_setting('tracker.register_stamp_moved_in', true), '') "
    "LIKE pg_current_xact_id_if_assigned()::text || ' %' "
    "FROM tracker_register_stamp WHERE id = 1"
)


@dataclass(frozen=True)
class Stamp:
    version: int
    changed_at: datetime.datetime  # aware, UTC
    # False inside a transaction whose writes the stamp does not cover yet.
    settled: bool = True


_known = contextvars.ContextVar("register_stamp", default=None)


@contextmanager
def known(state):
    """Inside, ``current()`` answers ``state`` without a query: a request that has read the
    stamp for its validators (tracker.public.conditional) does not read it again."""
    token = _known.set(state)
    try:
        yield
    finally:
        _known.reset(token)


def current():
    """The register's stamp, or None when the stamp row is missing."""
    state = _known.get()
    if state is not None:
        return state
    with connection.cursor() as cursor:
        cursor.execute(POSTGRESQL_STAMP_SQL if connection.vendor == "postgresql" else STAMP_SQL)
        row = cursor.fetchone()
    if row is None:
        return None
    version, changed_at, *settled = row
    if isinstance(changed_at, str):
        # SQLite keeps the time as text, in UTC.
        changed_at = datetime.datetime.fromisoformat(changed_at).replace(tzinfo=datetime.UTC)
    return Stamp(version, changed_at.astimezone(datetime.UTC), *settled)


def register_stamp():
    """The stamp's version alone, or None when the stamp row is missing."""
    stamp = current()
    return None if stamp is None else stamp.version
