import secrets

from django.db import migrations

# A one-row table whose ``version`` changes on every write to tracker_aimodel, whichever
# process or statement makes it (raw SQL and bulk updates included): whole-register
# numbers are cached under it (tracker.stats.RegisterStats). A version is never reused,
# so a write rolled back after a number was cached cannot make that number current again.
SQLITE_STAMP = [
    "CREATE TABLE tracker_register_stamp "
    "(id integer PRIMARY KEY CHECK (id = 1), version integer NOT NULL)",
    "INSERT INTO tracker_register_stamp (id, version) VALUES (1, random())",
    *(
        f"CREATE TRIGGER tracker_register_stamp_{event.lower()} AFTER {event} "
        "ON tracker_aimodel BEGIN "
        "UPDATE tracker_register_stamp SET version = random() WHERE id = 1; END"
        for event in ("INSERT", "UPDATE", "DELETE")
    ),
]
SQLITE_STAMP_REMOVAL = [
    "DROP TRIGGER tracker_register_stamp_insert",
    "DROP TRIGGER tracker_register_stamp_update",
    "DROP TRIGGER tracker_register_stamp_delete",
    "DROP TABLE tracker_register_stamp",
]
# PostgreSQL: once per statement, from a sequence (which a rollback does not rewind).
POSTGRESQL_STAMP = [
    # A random start, so two databases of the same name never share a stamp.
    f"CREATE SEQUENCE tracker_register_stamp_seq START WITH {secrets.randbelow(2**62)}",
    "CREATE TABLE tracker_register_stamp "
    "(id integer PRIMARY KEY CHECK (id = 1), version bigint NOT NULL)",
    "INSERT INTO tracker_register_stamp (id, version) "
    "VALUES (1, nextval('tracker_register_stamp_seq'))",
    "CREATE FUNCTION tracker_bump_register_stamp() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN UPDATE tracker_register_stamp "
    "SET version = nextval('tracker_register_stamp_seq') WHERE id = 1; RETURN NULL; END $$",
    "CREATE TRIGGER tracker_register_stamp_bump "
    "AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON tracker_aimodel "
    "FOR EACH STATEMENT EXECUTE FUNCTION tracker_bump_register_stamp()",
]
POSTGRESQL_STAMP_REMOVAL = [
    "DROP TRIGGER tracker_register_stamp_bump ON tracker_aimodel",
    "DROP FUNCTION tracker_bump_register_stamp()",
    "DROP TABLE tracker_register_stamp",
    "DROP SEQUENCE tracker_register_stamp_seq",
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
    dependencies = [
        ("tracker", "0003_search_text_and_listing_indexes"),
    ]

    operations = [
        migrations.RunPython(
            _run(SQLITE_STAMP, POSTGRESQL_STAMP),
            _run(SQLITE_STAMP_REMOVAL, POSTGRESQL_STAMP_REMOVAL),
        ),
    ]
