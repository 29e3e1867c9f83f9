"""The audit trail: every change to a public field is recorded by the database, whatever
writes it; the trail is append-only; the admin asks why a published record changes; the
public model page shows the corrections, never who made them."""

import datetime

import pytest
from django.contrib.auth.models import User
from django.db import IntegrityError, connection, transaction

from tests.factories import (
    AIModelFactory,
    ApplicantFactory,
    ApprovedModelFactory,
    BatchFactory,
    UserFactory,
    jurisdiction,
)
from tests.test_admin import change_data
from tracker import audit, workflow
from tracker.models import (
    AIModel,
    Applicant,
    Batch,
    ChangeKind,
    Correction,
    RecordType,
    Status,
)

pytestmark = pytest.mark.django_db

STAFF_MARKER = "staffer-4e1d"

# Every concrete field of each audited table that is not public, and why: a field added to
# a model must land in AUDITED_FIELDS (and migration 0005's triggers) or here.
NOT_PUBLIC = {
    RecordType.MODEL: {
        "id": "the record itself",
        "status": "a status step, in the history",
        "internal_notes": "staff only",
        "sequence": "derived from the type and scenario",
        "search_text": "derived",
        "name_key": "derived",
        "number_key": "derived",
        "version": "bookkeeping",
        "created_at": "bookkeeping",
        "updated_at": "bookkeeping",
    },
    RecordType.APPLICANT: {
        "id": "the record itself",
        "name_key": "derived",
        "created_at": "bookkeeping",
        "updated_at": "bookkeeping",
    },
    RecordType.BATCH: {
        "id": "the record itself",
        "created_at": "bookkeeping",
        "updated_at": "bookkeeping",
    },
}


@pytest.mark.parametrize("record_type", list(RecordType))
def test_every_field_is_audited_or_named_as_not_public(record_type):
    fields = {f.name for f in audit.RECORD_MODELS[record_type]._meta.concrete_fields}

    assert fields - set(NOT_PUBLIC[record_type]) == set(audit.AUDITED_FIELDS[record_type])


def new_values(record_type):
    """A different value for every audited field of a fresh record of the type."""
    other_applicant = ApplicantFactory(name_zh="另一家公司")
    filing = ApprovedModelFactory(name_zh="上游模型")
    other_batch = BatchFactory(title_en="Another list")
    return {
        RecordType.MODEL: {
            "name_zh": "新名字",
            "name_en": "New Name",
            "slug": "new-name",
            "applicant": other_applicant,
            "filing_type": "registration",
            "scope": "industry",
            "sector": "finance",
            "upstream": filing,
            "filing_number": "Beijing-New-20240101",
            "submitted_on": datetime.date(2023, 12, 1),
            "approved_on": datetime.date(2024, 1, 1),
            "approved_on_estimated": True,
            "batch": other_batch,
            "seq_no": 77,
            "on_device_scenario": "手机",
            "aliases": "别名",
            "description": "New description.",
        },
        RecordType.APPLICANT: {
            "name_zh": "新公司",
            "name_en": "New Company",
            "slug": "new-company",
            "jurisdiction": jurisdiction("SH"),
            "kind": "academic",
            "website": "https://example.org/",
            "parent": other_applicant,
        },
        RecordType.BATCH: {
            "slug": "new-batch",
            "title_en": "New title",
            "title_zh": "新标题",
            "announced_on": datetime.date(2025, 1, 2),
            "announced_precision": "month",
            "covers_until": datetime.date(2024, 12, 31),
            "authority": "Another authority",
            "source_url": "https://example.org/notice",
            "reported_new": 5,
            "reported_total": 50,
            "reported_registrations_new": 6,
            "reported_registrations_total": 60,
            "description": "New description.",
        },
    }[record_type]


def a_record(record_type):
    return {
        RecordType.MODEL: lambda: ApprovedModelFactory(name_zh="旧名字", sector=""),
        RecordType.APPLICANT: lambda: ApplicantFactory(name_zh="旧公司"),
        RecordType.BATCH: lambda: BatchFactory(title_en="Old title"),
    }[record_type]()


@pytest.mark.parametrize("record_type", list(RecordType))
def test_a_queryset_update_of_every_public_field_is_recorded_with_its_values(record_type):
    record = a_record(record_type)
    values = new_values(record_type)
    before = Correction.objects.count()

    # A registration counts in the registrations' sequence (a derived, unaudited field).
    derived = {"sequence": "registration"} if record_type == RecordType.MODEL else {}
    type(record).objects.filter(pk=record.pk).update(**values, **derived)

    rows = Correction.objects.filter(
        record_type=record_type, record_id=record.pk, kind=ChangeKind.EDIT
    )
    assert Correction.objects.count() - before == len(values) == rows.count()
    recorded = {row.field: row.new_value for row in rows}
    assert set(recorded) == set(values)
    assert recorded["slug"] == values["slug"]
    for name, value in values.items():
        expected = value.pk if hasattr(value, "pk") else value
        if isinstance(value, bool):
            expected = "true" if value else "false"
        elif isinstance(value, datetime.date):
            expected = value.isoformat()
        assert recorded[name] == str(expected), name


def test_raw_sql_is_recorded_too():
    ai_model = ApprovedModelFactory(name_en="Before")

    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE tracker_aimodel SET name_en = %s WHERE id = %s", ["After", ai_model.pk]
        )

    row = Correction.objects.get(record_id=ai_model.pk, field="name_en")
    assert (row.old_value, row.new_value, row.kind, row.changed_by, row.reason) == (
        "Before",
        "After",
        ChangeKind.EDIT,
        None,
        "",
    )


def test_an_unchanged_save_records_nothing_and_staff_only_fields_are_not_recorded():
    ai_model = ApprovedModelFactory()
    before = Correction.objects.count()

    ai_model.save()
    AIModel.objects.filter(pk=ai_model.pk).update(internal_notes="staff only", version=9)

    assert Correction.objects.count() == before


def test_recorded_names_who_and_why_and_leaves_no_context_behind():
    user = UserFactory(username=STAFF_MARKER)
    applicant = ApplicantFactory(name_en="Old")

    with audit.recorded(user, "Its own website says so."):
        applicant.name_en = "New"
        applicant.save()

    row = Correction.objects.get(record_type=RecordType.APPLICANT, field="name_en")
    assert (row.changed_by, row.reason, row.old_value, row.new_value) == (
        user,
        "Its own website says so.",
        "Old",
        "New",
    )
    # Outside the block, a change is nobody's.
    Applicant.objects.filter(pk=applicant.pk).update(website="https://example.org/")
    later = Correction.objects.get(field="website")
    assert (later.changed_by, later.reason) == (None, "")


def test_a_failed_write_leaves_neither_correction_nor_context():
    applicant = ApplicantFactory(name_en="Kept")
    ApplicantFactory(name_en="Taken")

    with pytest.raises(IntegrityError), audit.recorded(None, "typo"):
        Applicant.objects.filter(pk=applicant.pk).update(name_en="Taken")

    assert not Correction.objects.filter(field="name_en").exists()
    assert not audit.AuditContext.objects.exists()


def test_a_status_step_records_the_fields_it_sets_as_the_step():
    reviewer = UserFactory(groups=["Reviewers"])
    ai_model = AIModelFactory(status=Status.NATIONAL_REVIEW)

    workflow.transition(
        ai_model,
        Status.APPROVED,
        by=reviewer,
        on=datetime.date(2024, 5, 1),
        note="Approved in the May list.",
    )

    rows = Correction.objects.filter(record_id=ai_model.pk, record_type=RecordType.MODEL)
    assert [(r.field, r.old_value, r.new_value, r.kind, r.changed_by, r.reason) for r in rows] == [
        ("approved_on", None, "2024-05-01", ChangeKind.STEP, reviewer, "Approved in the May list.")
    ]
    # A step is on the status timeline, not among the corrections.
    assert list(audit.history_of(RecordType.MODEL, ai_model.pk)) == []


def test_nobody_can_change_or_delete_a_correction():
    applicant = ApplicantFactory(name_en="Old")
    Applicant.objects.filter(pk=applicant.pk).update(name_en="New")
    row = Correction.objects.get()

    for write in (
        lambda: Correction.objects.filter(pk=row.pk).update(reason="rewritten"),
        lambda: Correction.objects.filter(pk=row.pk).delete(),
    ):
        with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
            write()
    row.refresh_from_db()
    assert (row.reason, Correction.objects.count()) == ("", 1)


def test_not_even_a_superuser_can_change_or_delete_a_correction_in_the_admin(client):
    root = User.objects.create_superuser("root", password=None)
    Applicant.objects.filter(pk=ApplicantFactory(name_en="Old").pk).update(name_en="New")
    row = Correction.objects.get()
    client.force_login(root)

    assert client.get("/admin/tracker/correction/").status_code == 200
    page = client.get(f"/admin/tracker/correction/{row.pk}/change/")
    assert page.status_code == 200
    assert b'name="_save"' not in page.content
    assert (
        client.post(f"/admin/tracker/correction/{row.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    assert (
        client.post(f"/admin/tracker/correction/{row.pk}/change/", {"reason": "x"}).status_code
        == 403
    )
    assert Correction.objects.get().reason == ""


def test_the_admin_asks_why_a_published_record_changes(client, editor):
    ai_model = ApprovedModelFactory(name_en="ERNIE", batch=BatchFactory())
    client.force_login(editor)
    path = f"/admin/tracker/aimodel/{ai_model.pk}/change/"

    refused = client.post(path, change_data(ai_model, name_en="ERNIE Bot", change_reason=""))

    assert refused.status_code == 200
    assert refused.context["adminform"].form.errors["change_reason"] == [
        "This record is published: say why it changes. The reason is shown with the correction."
    ]
    ai_model.refresh_from_db()
    assert ai_model.name_en == "ERNIE"

    saved = client.post(
        path, change_data(ai_model, name_en="ERNIE Bot", change_reason="The list's spelling.")
    )

    assert saved.status_code == 302
    row = Correction.objects.get(record_id=ai_model.pk, field="name_en")
    assert (row.old_value, row.new_value, row.reason, row.changed_by) == (
        "ERNIE",
        "ERNIE Bot",
        "The list's spelling.",
        editor,
    )


def test_a_pending_record_changes_without_a_reason(client, editor):
    ai_model = AIModelFactory(name_en="Draft")
    client.force_login(editor)

    response = client.post(
        f"/admin/tracker/aimodel/{ai_model.pk}/change/",
        change_data(ai_model, name_en="Final", change_reason=""),
    )

    assert response.status_code == 302
    assert Correction.objects.get(field="name_en").reason == ""


def test_an_applicant_with_published_models_and_a_batch_need_a_reason(client, editor):
    published = ApprovedModelFactory(batch=BatchFactory(title_en="A list"))
    client.force_login(editor)
    applicant = published.applicant
    applicant_data = {
        "name_zh": applicant.name_zh,
        "name_en": "Renamed",
        "slug": applicant.slug,
        "jurisdiction": applicant.jurisdiction_id or "",
        "kind": applicant.kind,
        "website": "",
        "parent": "",
    }

    refused = client.post(f"/admin/tracker/applicant/{applicant.pk}/change/", applicant_data)
    saved = client.post(
        f"/admin/tracker/applicant/{applicant.pk}/change/",
        {**applicant_data, "change_reason": "Its registered name."},
    )

    assert refused.status_code == 200
    assert list(refused.context["adminform"].form.errors) == ["change_reason"]
    assert saved.status_code == 302
    assert Correction.objects.get(record_type=RecordType.APPLICANT).reason == "Its registered name."


def test_the_model_page_shows_its_corrections_with_reasons_and_never_who(client):
    staff = UserFactory(username=STAFF_MARKER)
    batch = BatchFactory(title_en="The May list")
    ai_model = ApprovedModelFactory(name_en="Ernie", approved_on_estimated=False)
    with audit.recorded(staff, "The list spells it so."):
        AIModel.objects.filter(pk=ai_model.pk).update(
            name_en="ERNIE Bot", batch=batch, approved_on_estimated=True
        )

    page = client.get(ai_model.get_absolute_url()).content.decode()

    section = page[page.index('id="record-history-title"') :]
    assert "English name corrected by staff" in section
    assert "<del>Ernie</del> → <ins>ERNIE Bot</ins>" in section
    assert "<ins>The May list</ins>" in section
    assert "<del>no</del> → <ins>yes</ins>" in section
    assert section.count("The list spells it so.") == 3
    assert STAFF_MARKER not in page


def test_a_model_without_corrections_says_so(client):
    ai_model = ApprovedModelFactory()

    page = client.get(ai_model.get_absolute_url()).content.decode()

    assert "No corrections: the record is as it was entered" in page


def test_a_batch_edit_is_recorded_through_the_admin(client, reviewer):
    batch = BatchFactory(title_en="Old title", announced_on=datetime.date(2024, 4, 2))
    client.force_login(reviewer)
    data = {
        "title_zh": batch.title_zh,
        "title_en": "New title",
        "slug": batch.slug,
        "announced_on": "2024-04-02",
        "announced_precision": batch.announced_precision,
        "covers_until": "",
        "authority": batch.authority,
        "source_url": batch.source_url,
        "description": batch.description,
        "reported_new": "",
        "reported_total": "",
        "reported_registrations_new": "",
        "reported_registrations_total": "",
        "change_reason": "The notice's own title.",
    }

    response = client.post(f"/admin/tracker/batch/{batch.pk}/change/", data)

    assert response.status_code == 302
    row = Correction.objects.get(record_type=RecordType.BATCH)
    assert (row.field, row.old_value, row.new_value, row.changed_by) == (
        "title_en",
        "Old title",
        "New title",
        reviewer,
    )
    assert Batch.objects.get(pk=batch.pk).title_en == "New title"


STAMPED = (
    "aimodel",
    "applicant",
    "batch",
    "jurisdiction",
    "statuschange",
    "source",
    "source_ai_models",
)


@pytest.mark.sqlite
def test_every_trigger_survives_the_migrations_on_sqlite():
    """A migration that rebuilds a table on SQLite drops its triggers: every one is here."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        names = {row[0] for row in cursor.fetchall()}

    stamps = {
        f"tracker_{table}_stamp_{event}"
        for table in STAMPED
        if table != "aimodel"
        for event in ("insert", "update", "delete")
    } | {f"tracker_register_stamp_{event}" for event in ("insert", "update", "delete")}
    audits = {"tracker_aimodel_audit", "tracker_applicant_audit", "tracker_batch_audit"}
    guards = {"tracker_correction_no_update", "tracker_correction_no_delete"}
    search = {f"tracker_aimodel_search_{event}" for event in ("insert", "update", "delete")}
    assert names == stamps | audits | guards | search


@pytest.mark.postgresql
def test_every_trigger_is_in_place_on_postgresql():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgrelid::regclass::text, tgname FROM pg_trigger WHERE NOT tgisinternal"
        )
        found = set(cursor.fetchall())

    stamps = {
        (f"tracker_{table}", name)
        for table in STAMPED
        for name in ("tracker_register_stamp_bump", "tracker_register_stamp_truncate")
    }
    audits = {(f"tracker_{t}", f"tracker_{t}_audit") for t in ("aimodel", "applicant", "batch")}
    guard = {("tracker_correction", "tracker_correction_append_only")}
    assert found == stamps | audits | guard
