"""Backup and restore: a dump restored into an empty database gives back the same register.

The restore runs in a process of its own on a database of its own (a new SQLite file, or a
new PostgreSQL database on the server the suite uses), migrated from nothing, exactly as
an operator restores onto a new machine.
"""

import datetime
import gzip
import io
import json
import re
import subprocess
import sys

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.management import CommandError, call_command
from django.test import Client

from tests.factories import ApplicantFactory
from tracker import audit, workflow
from tracker.models import (
    AIModel,
    Applicant,
    Batch,
    Correction,
    FilingType,
    Status,
    StatusChange,
)

S = Status
CSV_PATHS = ["/models/export.csv", "/applicants/export.csv", "/backlog/export.csv"]

# Run in the restoring process: migrate an empty database, load the dump, read it back.
RESTORE = """
import json, sys
import django
django.setup()
from django.core.management import call_command
from tests.test_backup import row_count, snapshot
call_command("migrate", interactive=False, verbosity=0)
before = row_count()
call_command("loaddata", sys.argv[1], verbosity=0)
print(json.dumps({"rows_before": before, **snapshot()}))
"""


def row_count():
    return StatusChange.objects.count() + AIModel.objects.count() + User.objects.count()


def stamp(moment):
    """Datetimes compare to the millisecond, the precision of Django's JSON serialisation."""
    return moment.isoformat(timespec="milliseconds")


def snapshot():
    """What a database holds, read the same way in the test and in the restoring process."""
    client = Client()
    return {
        "csv": {path: b"".join(client.get(path).streaming_content).hex() for path in CSV_PATHS},
        "history": [
            [
                s.model_id,
                s.from_status,
                s.to_status,
                s.happened_on.isoformat(),
                s.recorded_by.username if s.recorded_by else None,
                s.note,
                stamp(s.recorded_at),
            ]
            for s in StatusChange.objects.select_related("recorded_by").order_by("pk")
        ],
        "models": [
            [
                m.pk,
                m.slug,
                m.status,
                m.version,
                m.upstream_id,
                m.batch_id,
                m.applicant_id,
                m.filing_number,
                m.internal_notes,
                m.description,
                str(m.approved_on),
                str(m.submitted_on),
                stamp(m.updated_at),
            ]
            for m in AIModel.objects.order_by("pk")
        ],
        "applicants": [
            list(row)
            for row in Applicant.objects.order_by("pk").values_list(
                "pk", "slug", "name_zh", "name_en", "parent_id", "jurisdiction__code"
            )
        ],
        "batches": [
            list(row) for row in Batch.objects.order_by("pk").values_list("pk", "slug", "title_zh")
        ],
        "corrections": [
            [
                c.record_type,
                c.record_id,
                c.field,
                c.old_value,
                c.new_value,
                c.kind,
                c.reason,
                c.changed_by.username if c.changed_by else None,
                stamp(c.changed_at),
            ]
            for c in Correction.objects.select_related("changed_by").order_by("pk")
        ],
        "users": [
            [
                u.username,
                u.password,
                u.is_staff,
                u.is_superuser,
                sorted(u.groups.values_list("name", flat=True)),
            ]
            for u in User.objects.order_by("username")
        ],
    }


def restore(dump, env):
    result = subprocess.run(
        [sys.executable, "-c", RESTORE, str(dump)],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def day(text):
    return datetime.date.fromisoformat(text)


@pytest.fixture
def register(db):
    """The real published register, then staff at work: several steps, a backlog, a registration."""
    call_command("load_register", verbosity=0, stdout=io.StringIO())
    reviewer = User.objects.create_user("reviewer-li", password="a-long-test-password")
    reviewer.groups.add(Group.objects.get(name="Reviewers"))
    editor = User.objects.create_user("editor-wang", password="another-long-password")
    editor.groups.add(Group.objects.get(name="Editors"))
    User.objects.create_superuser("root", password=None)

    group = ApplicantFactory(name_zh="示例集团", name_en="Example Group")
    applicant = ApplicantFactory(name_zh="示例科技有限公司", name_en="", parent=group)
    filing = AIModel(
        name_zh="示例大模型",
        applicant=applicant,
        submitted_on=day("2024-01-05"),
        internal_notes="Heard from the applicant's press office",
    )
    workflow.enter(filing, by=editor)
    for to, on in [
        (S.PROVINCIAL_REVIEW, "2024-01-20"),
        (S.SUPPLEMENT_REQUESTED, "2024-02-10"),
        (S.NATIONAL_REVIEW, "2024-03-01"),
        (S.APPROVED, "2024-04-02"),
        (S.SUSPENDED, "2024-09-01"),
        (S.APPROVED, "2024-10-15"),
    ]:
        workflow.transition(filing, to, by=reviewer, on=day(on), note=f"Step on {on}")

    app = AIModel(
        name_zh="示例助手",
        name_en="=Example Assistant",
        applicant=applicant,
        filing_type=FilingType.REGISTRATION,
        upstream=filing,
        submitted_on=day("2024-11-01"),
    )
    workflow.enter(app, by=editor, status=S.PROVINCIAL_REVIEW)
    workflow.transition(
        app, S.APPROVED, by=reviewer, on=day("2024-12-01"), filing_number="Beijing-DJ-Example-1"
    )

    pending = AIModel(name_en="Pending Model", applicant=group, submitted_on=day("2025-03-03"))
    workflow.enter(pending, by=editor)
    workflow.transition(pending, S.PROVINCIAL_REVIEW, by=reviewer, on=day("2025-04-01"))
    withdrawn = AIModel(name_zh="撤回模型", applicant=group, submitted_on=day("2025-02-01"))
    workflow.enter(withdrawn, by=editor)
    workflow.transition(withdrawn, S.WITHDRAWN, by=None, on=day("2025-02-20"))
    # Corrections, as the admin records them.
    with audit.recorded(editor, "The company's own English name."):
        applicant.name_en = "Example Technology"
        applicant.save()
    with audit.recorded(reviewer, "The list gives the number without the region."):
        AIModel.objects.filter(pk=app.pk).update(filing_number="DJ-Example-1")


def test_a_restored_backup_gives_a_byte_identical_export_and_the_same_history(
    register, client, tmp_path, fresh_database
):
    call_command("backup", output_dir=tmp_path, stdout=io.StringIO())
    (dump,) = tmp_path.glob("tracker-*.json.gz")
    original = snapshot()
    assert (
        original["csv"]["/models/export.csv"]
        == b"".join(client.get("/models/export.csv").streaming_content).hex()
    )

    restored = restore(dump, fresh_database)

    assert restored.pop("rows_before") == 0
    assert restored["csv"] == original["csv"]
    assert restored == original
    assert len(restored["history"]) == StatusChange.objects.count()
    # The record history comes back whole: the steps' field changes and both corrections.
    assert [c[2:] for c in restored["corrections"] if c[7] is not None and c[5] == "edit"] == [
        [
            "name_en",
            "",
            "Example Technology",
            "edit",
            "The company's own English name.",
            "editor-wang",
            restored["corrections"][-2][8],
        ],
        [
            "filing_number",
            "Beijing-DJ-Example-1",
            "DJ-Example-1",
            "edit",
            "The list gives the number without the region.",
            "reviewer-li",
            restored["corrections"][-1][8],
        ],
    ]
    assert len(restored["models"]) == AIModel.objects.count() >= 25


def test_the_restored_history_keeps_every_step_of_a_long_review(register, tmp_path, fresh_database):
    call_command("backup", output_dir=tmp_path, stdout=io.StringIO())
    (dump,) = tmp_path.glob("tracker-*.json.gz")
    filing = AIModel.objects.get(name_zh="示例大模型")

    restored = restore(dump, fresh_database)

    steps = [row[1:6] for row in restored["history"] if row[0] == filing.pk]
    assert steps[0] == ["", S.SUBMITTED, "2024-01-05", "editor-wang", ""]
    assert [step[1] for step in steps] == [
        S.SUBMITTED,
        S.PROVINCIAL_REVIEW,
        S.SUPPLEMENT_REQUESTED,
        S.NATIONAL_REVIEW,
        S.APPROVED,
        S.SUSPENDED,
        S.APPROVED,
    ]
    assert steps[-1][3:] == ["reviewer-li", "Step on 2024-10-15"]
    app = AIModel.objects.get(filing_type=FilingType.REGISTRATION, name_zh="示例助手")
    (registration,) = [m for m in restored["models"] if m[0] == app.pk]
    assert registration[1:5] == [app.slug, S.APPROVED, app.version, filing.pk]


def test_the_backup_is_a_dated_gzip_of_every_table_that_holds_data(register, tmp_path):
    call_command("backup", output_dir=tmp_path, stdout=io.StringIO())
    (dump,) = tmp_path.glob("*")

    assert re.fullmatch(r"tracker-\d{4}-\d{2}-\d{2}T\d{6}\.json\.gz", dump.name)
    with gzip.open(dump, "rt", encoding="utf-8") as handle:
        records = json.load(handle)
    labels = {record["model"] for record in records}
    assert {
        "tracker.jurisdiction",
        "tracker.applicant",
        "tracker.batch",
        "tracker.aimodel",
        "tracker.statuschange",
        "auth.user",
        "auth.group",
    } <= labels
    assert not labels & {"contenttypes.contenttype", "auth.permission", "sessions.session"}
    counts = {label: sum(r["model"] == label for r in records) for label in labels}
    assert counts["tracker.statuschange"] == StatusChange.objects.count()
    assert counts["tracker.aimodel"] == AIModel.objects.count()
    assert counts["tracker.applicant"] == Applicant.objects.count()
    assert counts["tracker.batch"] == Batch.objects.count()
    assert counts["auth.user"] == User.objects.count()
    steps = [r["fields"] for r in records if r["model"] == "tracker.statuschange"]
    # Users are referred to by name, so the dump loads where their ids differ.
    assert ["reviewer-li"] in [step["recorded_by"] for step in steps]


def test_restoring_a_damaged_backup_fails_and_writes_nothing(register, tmp_path):
    call_command("backup", output_dir=tmp_path, stdout=io.StringIO())
    (dump,) = tmp_path.glob("*")
    damaged = tmp_path / "damaged.json.gz"
    damaged.write_bytes(dump.read_bytes()[: dump.stat().st_size // 2])
    steps = StatusChange.objects.count()

    with pytest.raises(Exception, match="(?i)compressed|end-of-stream|EOF|json"):
        call_command("loaddata", str(damaged), verbosity=0)

    assert StatusChange.objects.count() == steps


def test_make_backup_runs_the_backup_command():
    result = subprocess.run(
        ["make", "-n", "backup"],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert "manage.py backup" in result.stdout


def test_a_backup_folder_that_is_a_file_is_refused_with_a_clear_error(tmp_path):
    not_a_folder = tmp_path / "taken"
    not_a_folder.write_text("")

    with pytest.raises(CommandError, match="Cannot write backups to"):
        call_command("backup", output_dir=str(not_a_folder))
