"""The migrations build the whole schema on an empty database, and take all of it away."""

import json
import subprocess
import sys

import pytest
from django.conf import settings

# A new database of the suite's kind is made through the test database's connection.
pytestmark = pytest.mark.django_db

# Every table, and on PostgreSQL every function and sequence, of the schema.
SCHEMA = """
import json
from django.db import connection
with connection.cursor() as cursor:
    names = connection.introspection.table_names(cursor)
    tables = sorted(t for t in names if t.startswith("tracker_"))
    routines = []
    if connection.vendor == "postgresql":
        cursor.execute(
            "SELECT proname FROM pg_proc WHERE proname LIKE 'tracker_%%' UNION ALL "
            "SELECT relname FROM pg_class WHERE relkind = 'S' AND relname LIKE 'tracker_reg%%'"
        )
        routines = sorted(row[0] for row in cursor.fetchall())
    else:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        routines = sorted(row[0] for row in cursor.fetchall())
print(json.dumps({"tables": tables, "routines": routines}))
"""


def run(env, *args):
    result = subprocess.run(
        [sys.executable, *args],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def schema(env):
    return json.loads(run(env, "manage.py", "shell", "-c", SCHEMA).splitlines()[-1])


def test_the_migrations_go_to_zero_and_back(fresh_database):
    run(fresh_database, "manage.py", "migrate", "--noinput", "-v0")
    built = schema(fresh_database)
    assert {
        "tracker_aimodel",
        "tracker_applicant",
        "tracker_batch",
        "tracker_jurisdiction",
        "tracker_source",
        "tracker_source_ai_models",
        "tracker_statuschange",
        "tracker_register_stamp",
    } <= set(built["tables"])
    assert built["routines"]

    run(fresh_database, "manage.py", "migrate", "tracker", "zero", "--noinput", "-v0")

    assert schema(fresh_database) == {"tables": [], "routines": []}

    run(fresh_database, "manage.py", "migrate", "--noinput", "-v0")

    assert schema(fresh_database) == built
    out = run(
        fresh_database,
        "manage.py",
        "shell",
        "-c",
        "from tracker.models import Jurisdiction; from django.contrib.auth.models import Group; "
        "print(Jurisdiction.objects.count(), sorted(Group.objects.values_list('name', flat=True)))",
    )
    assert out.splitlines()[-1] == "32 ['Editors', 'Reviewers']"
