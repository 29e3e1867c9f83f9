"""The register stamp changes on a write to any table the public reads, and says when.

Until now only tracker_aimodel moved it. The API, the bulk downloads and the pages answer
conditional requests with it (ETag, Last-Modified), so a renamed applicant, a retitled
batch, a new history step or a cited source must change it too. ``changed_at`` is the time
of the latest such write (UTC): the Last-Modified of every public answer.

A migration that makes SQLite rebuild one of these tables drops its triggers: it must
create them again (STAMPED_TABLES, _sqlite_triggers).
"""

from django.db import migrations

STAMPED_TABLES = (
    "tracker_aimodel",
    "tracker_applicant",
    "tracker_batch",
    "tracker_jurisdiction",
    "tracker_statuschange",
    "tracker_source",
    "tracker_source_ai_models",
)
EVENTS = ("INSERT", "UPDATE", "DELETE")
SQLITE_NOW = "strftime('%Y-%m-%d %H:%M:%f', 'now')"


def _sqlite_trigger_name(table, event):
    if table == "tracker_aimodel":
        # Migration 0002's names.
        return f"tracker_register_stamp_{event.lower()}"
    return f"{table}_stamp_{event.lower()}"


def _sqlite_triggers(set_clause):
    return [
        f"CREATE TRIGGER {_sqlite_trigger_name(table, event)} AFTER {event} ON {table} "
        f"BEGIN UPDATE tracker_register_stamp SET {set_clause} WHERE id = 1; END"
        for table in STAMPED_TABLES
        for event in EVENTS
    ]


def _sqlite_drop(tables):
    return [
        f"DROP TRIGGER IF EXISTS {_sqlite_trigger_name(table, event)}"
        for table in tables
        for event in EVENTS
    ]


SQLITE_FORWARD = [
    *_sqlite_drop(STAMPED_TABLES),
    "ALTER TABLE tracker_register_stamp ADD COLUMN changed_at text NOT NULL "
    "DEFAULT '1970-01-01 00:00:00.000'",
    f"UPDATE tracker_register_stamp SET changed_at = {SQLITE_NOW}",
    *_sqlite_triggers(f"version = random(), changed_at = {SQLITE_NOW}"),
]
SQLITE_BACKWARD = [
    *_sqlite_drop(STAMPED_TABLES),
    "ALTER TABLE tracker_register_stamp DROP COLUMN changed_at",
    *(
        f"CREATE TRIGGER {_sqlite_trigger_name('tracker_aimodel', event)} AFTER {event} "
        "ON tracker_aimodel BEGIN "
        "UPDATE tracker_register_stamp SET version = random() WHERE id = 1; END"
        for event in EVENTS
    ),
]


def _postgresql_function(set_clause):
    return (
        "CREATE OR REPLACE FUNCTION tracker_bump_register_stamp() RETURNS trigger "
        "LANGUAGE plpgsql AS $$ BEGIN UPDATE tracker_register_stamp "
        f"SET {set_clause} WHERE id = 1; RETURN NULL; END $$"
    )


POSTGRESQL_FORWARD = [
    "ALTER TABLE tracker_register_stamp ADD COLUMN changed_at timestamptz NOT NULL "
    "DEFAULT now()",
    # clock_timestamp(), not now(): writers queue on the stamp's row, so the time taken
    # once the row is theirs follows the order in which they commit.
    _postgresql_function(
        "version = nextval('tracker_register_stamp_seq'), changed_at = clock_timestamp()"
    ),
    *(
        f"CREATE TRIGGER tracker_register_stamp_bump "
        f"AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION tracker_bump_register_stamp()"
        for table in STAMPED_TABLES
        if table != "tracker_aimodel"
    ),
]
POSTGRESQL_BACKWARD = [
    *(
        f"DROP TRIGGER tracker_register_stamp_bump ON {table}"
        for table in STAMPED_TABLES
        if table != "tracker_aimodel"
    ),
    _postgresql_function("version = nextval('tracker_register_stamp_seq')"),
    "ALTER TABLE tracker_register_stamp DROP COLUMN changed_at",
]


def _run(sqlite, postgresql):
    def run(apps, schema_editor):
        statements = {"sqlite": sqlite, "postgresql": postgresql}.get(
            schema_editor.connection.vendor, []
        )
        for sql in statements:
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("tracker", "0002_reference_data_and_database_features")]

    operations = [
        migrations.RunPython(
            _run(SQLITE_FORWARD, POSTGRESQL_FORWARD),
            _run(SQLITE_BACKWARD, POSTGRESQL_BACKWARD),
        ),
    ]
