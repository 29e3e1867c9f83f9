"""The register stamp: what changes whenever anything the public reads changes.

Migrations 0002 and 0003 keep the one-row table ``tracker_register_stamp`` up to date with
triggers on every public table, from any process, raw SQL and bulk updates included:
``version`` is never reused, ``changed_at`` is the time of the latest write. On PostgreSQL
the stamp moves once per transaction, as it commits (migration 0006), so concurrent writers
do not queue on its row; code inside a writing transaction sees the stamp from before it,
which is what every other reader sees until the commit. Cached numbers
are kept under the version (tracker.analysis.stats), and conditional requests are
answered from both (tracker.public.conditional).
"""

import datetime
from dataclasses import dataclass

from django.db import connection

STAMP_SQL = "SELECT version, changed_at FROM tracker_register_stamp WHERE id = 1"


@dataclass(frozen=True)
class Stamp:
    version: int
    changed_at: datetime.datetime  # aware, UTC


def current():
    """The register's stamp, or None when the stamp row is missing."""
    with connection.cursor() as cursor:
        cursor.execute(STAMP_SQL)
        row = cursor.fetchone()
    if row is None:
        return None
    version, changed_at = row
    if isinstance(changed_at, str):
        # SQLite keeps the time as text, in UTC.
        changed_at = datetime.datetime.fromisoformat(changed_at).replace(tzinfo=datetime.UTC)
    return Stamp(version, changed_at.astimezone(datetime.UTC))


def register_stamp():
    """The stamp's version alone, or None when the stamp row is missing."""
    stamp = current()
    return None if stamp is None else stamp.version
