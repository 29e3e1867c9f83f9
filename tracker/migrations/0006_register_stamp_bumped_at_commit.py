"""On PostgreSQL the register stamp moves once per transaction, as it commits.

Until now every statement that wrote a public table updated the stamp's one row at once,
and the row stayed locked until the writer committed: concurrent writers queued behind each
other for the whole of each other's transactions, whatever rows they wrote. The stamp is
now moved by a deferred trigger, which runs as the transaction commits: the first such call
in a transaction moves it (version from the sequence, ``changed_at`` from the clock), the
rest see the transaction's mark and return. (The mark names the statement too: where the
trigger is set IMMEDIATE, as inside the test suite's transactions, which never commit, the
stamp moves once per statement.) The row is then locked only for the moment of
the commit itself, and readers still see the new version exactly when the writes it covers
become visible.

A deferred trigger runs for each row (PostgreSQL has no deferred statement triggers), so a
TRUNCATE, which has no rows, keeps an immediate statement trigger.

SQLite is unchanged: it lets one writer at a time into the database anyway.
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

BUMP = "version = nextval('tracker_register_stamp_seq'), changed_at = clock_timestamp()"

# This transaction and the statement that runs the trigger (the COMMIT, when deferred).
MARK = "pg_current_xact_id()::text || ' ' || statement_timestamp()::text"

FORWARD = [
    "CREATE FUNCTION tracker_bump_register_stamp_once() RETURNS trigger LANGUAGE plpgsql "
    "AS $$ BEGIN "
    "IF current_setting('tracker.register_stamp_moved_in', true) IS DISTINCT FROM "
    f"{MARK} THEN "
    f"UPDATE tracker_register_stamp SET {BUMP} WHERE id = 1; "
    f"PERFORM set_config('tracker.register_stamp_moved_in', {MARK}, true); "
    "END IF; RETURN NULL; END $$",
    *(
        statement
        for table in STAMPED_TABLES
        for statement in (
            f"DROP TRIGGER tracker_register_stamp_bump ON {table}",
            f"CREATE CONSTRAINT TRIGGER tracker_register_stamp_bump "
            f"AFTER INSERT OR UPDATE OR DELETE ON {table} DEFERRABLE INITIALLY DEFERRED "
            "FOR EACH ROW EXECUTE FUNCTION tracker_bump_register_stamp_once()",
            f"CREATE TRIGGER tracker_register_stamp_truncate AFTER TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION tracker_bump_register_stamp()",
        )
    ),
]

BACKWARD = [
    *(
        statement
        for table in STAMPED_TABLES
        for statement in (
            f"DROP TRIGGER tracker_register_stamp_truncate ON {table}",
            f"DROP TRIGGER tracker_register_stamp_bump ON {table}",
            f"CREATE TRIGGER tracker_register_stamp_bump "
            f"AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION tracker_bump_register_stamp()",
        )
    ),
    "DROP FUNCTION tracker_bump_register_stamp_once()",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for sql in statements:
                schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("tracker", "0005_audit_trail")]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD))]
