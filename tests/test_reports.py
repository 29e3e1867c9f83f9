import csv
import datetime
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.http import StreamingHttpResponse
from django.utils import timezone

from tests.factories import (
    AIModelFactory,
    ApplicantFactory,
    ApprovedModelFactory,
    BatchFactory,
    jurisdiction,
)
from tracker import workflow
from tracker.analysis.reports import (
    AGEING_HEADER,
    AS_OF_HEADER,
    BATCHES_HEADER,
    TIME_HEADER,
    batch_reconciliation,
    percentile,
)
from tracker.analysis.stats import RegisterStats
from tracker.models import FilingType, Scope, Status


def rows_of(response):
    assert response.status_code == 200
    assert isinstance(response, StreamingHttpResponse)
    data = b"".join(response.streaming_content)
    assert data.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def as_dicts(rows):
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


@pytest.mark.parametrize(
    ("url", "queries"),
    [
        # Every page first reads the register's stamp, for its validators (once: what
        # caches numbers under it reads the same).
        # The index only links.
        ("/en/reports/", 1),
        # 2: approvals with both dates; 3: jurisdiction names.
        ("/en/reports/time-to-approval/", 3),
        # 2: pending counts per stage and age bucket.
        ("/en/reports/backlog-ageing/", 2),
        # 2: batches, oldest first; 3: entered counts per batch and filing type; 4: rows and
        # highest 序号 per batch and sequence (both cached until the register changes). A
        # difference that gaps in the numbering explain reads the numbers of that sequence
        # once (cached too).
        ("/en/reports/batches/", 4),
        # 2: the earliest status step; 3: today's statuses counted; 4: the page's rows.
        ("/en/reports/status-as-of/", 4),
    ],
)
def test_report_pages_render_in_a_fixed_number_of_queries(
    client, db, django_assert_num_queries, url, queries
):
    ApprovedModelFactory.create_batch(3)
    AIModelFactory.create_batch(2)

    with django_assert_num_queries(queries):
        response = client.get(url)

    assert response.status_code == 200
    assert "/en/reports/" in response.content.decode()


@pytest.mark.parametrize(
    ("name", "header"),
    [
        ("time-to-approval", TIME_HEADER),
        ("backlog-ageing", AGEING_HEADER),
        ("batches", BATCHES_HEADER),
    ],
)
def test_report_csvs_have_their_header_and_a_dated_name(client, db, name, header):
    ApprovedModelFactory()

    response = client.get(f"/reports/{name}.csv")

    assert rows_of(response)[0] == header
    today = timezone.localdate().isoformat()
    assert response["Content-Disposition"] == f'attachment; filename="{name}-{today}.csv"'


def test_an_unknown_report_is_not_found(client, db):
    assert client.get("/reports/nothing.csv").status_code == 404


def test_percentile_is_the_nearest_rank():
    values = list(range(1, 11))
    assert percentile(values, 0.9) == 9
    assert percentile([5], 0.9) == 5
    assert percentile(list(range(1, 101)), 0.9) == 90


def test_time_to_approval_gives_count_median_and_p90_per_group(client, db):
    beijing = ApplicantFactory(jurisdiction=jurisdiction("BJ"))
    shanghai = ApplicantFactory(jurisdiction=jurisdiction("SH"))
    submitted = datetime.date(2024, 1, 1)
    for days in (10, 20, 30, 100):
        ApprovedModelFactory(
            applicant=beijing,
            submitted_on=submitted,
            approved_on=submitted + datetime.timedelta(days=days),
            sector="finance",
        )
    ApprovedModelFactory(
        applicant=shanghai,
        submitted_on=submitted,
        approved_on=submitted + datetime.timedelta(days=40),
        scope=Scope.INDUSTRY,
    )
    ApprovedModelFactory(applicant=shanghai, submitted_on=None)

    rows = as_dicts(rows_of(client.get("/reports/time-to-approval.csv")))

    by_key = {(row["dimension"], row["value"]): row for row in rows}
    assert by_key[("jurisdiction", "BJ")] == {
        "dimension": "jurisdiction",
        "value": "BJ",
        "label": "Beijing",
        "count": "4",
        "median_days": "25.0",
        "p90_days": "100",
    }
    assert by_key[("jurisdiction", "SH")]["count"] == "1"
    assert by_key[("scope", "general")]["count"] == "4"
    assert by_key[("scope", "industry")]["median_days"] == "40"
    assert by_key[("sector", "finance")]["count"] == "4"
    page = client.get("/en/reports/time-to-approval/").content.decode()
    assert "Beijing" in page


def test_backlog_ageing_counts_pending_submissions_by_stage_and_age(client, db):
    today = timezone.localdate()

    def pending(days, status=Status.SUBMITTED):
        submitted = today - datetime.timedelta(days=days) if days is not None else None
        return AIModelFactory(submitted_on=submitted, status=status)

    for days in (0, 30, 31, 90, 91, 180, 181, 400, None):
        pending(days)
    pending(45, Status.NATIONAL_REVIEW)
    ApprovedModelFactory(submitted_on=today - datetime.timedelta(days=500), approved_on=today)

    rows = {
        row["stage"]: row for row in as_dicts(rows_of(client.get("/reports/backlog-ageing.csv")))
    }

    assert rows["submitted"] == {
        "stage": "submitted",
        "days_0_30": "2",
        "days_31_90": "2",
        "days_91_180": "2",
        "days_over_180": "2",
        "date_unknown": "1",
        "total": "9",
    }
    assert rows["national_review"]["days_31_90"] == "1"
    assert rows["provincial_review"]["total"] == "0"
    assert rows["total"]["total"] == "10"


def test_batches_report_compares_announced_and_entered_per_batch_and_cumulatively(client, db):
    first = BatchFactory(
        slug="first", announced_on=datetime.date(2023, 8, 31), reported_new=5, reported_total=5
    )
    second = BatchFactory(
        slug="second", announced_on=datetime.date(2024, 4, 2), reported_new=3, reported_total=8
    )
    ApprovedModelFactory.create_batch(4, batch=first)
    ApprovedModelFactory.create_batch(3, batch=second)
    upstream = ApprovedModelFactory(batch=second)
    ApprovedModelFactory(batch=second, filing_type=FilingType.REGISTRATION, upstream=upstream)

    rows = as_dicts(rows_of(client.get("/reports/batches.csv")))

    assert [row["batch"] for row in rows] == ["first", "second"]
    assert rows[0]["entered_filings"] == "4"
    assert rows[0]["filings_difference"] == "1"
    assert rows[1]["entered_filings"] == "4"
    assert rows[1]["filings_difference"] == "-1"
    assert rows[1]["entered_filings_total"] == "8"
    assert rows[1]["filings_total_difference"] == "0"
    assert rows[1]["entered_registrations"] == "1"
    assert rows[1]["announced_registrations"] == ""
    assert rows[1]["registrations_difference"] == ""


def _registrations(batch, *seq_nos):
    upstream = ApprovedModelFactory(batch=None)
    for seq_no in seq_nos:
        ApprovedModelFactory(
            batch=batch, filing_type=FilingType.REGISTRATION, upstream=upstream, seq_no=seq_no
        )


def test_a_number_missing_from_the_lists_explains_a_difference_list_by_list(db):
    first = BatchFactory(announced_on=datetime.date(2025, 1, 8), reported_registrations_total=3)
    second = BatchFactory(announced_on=datetime.date(2025, 3, 8), reported_registrations_total=6)
    third = BatchFactory(announced_on=datetime.date(2025, 6, 8), reported_registrations_total=7)
    # The first list ends at 2: No. 3 comes with the second list; No. 6 never does.
    _registrations(first, 1, 2)
    _registrations(second, 3, 4, 5)
    _registrations(third, 7)

    rows = batch_reconciliation()

    notes = {row["batch"].pk: row["notes"] for row in rows}
    assert notes[first.pk] == [
        "Registrations: No. 3 of the 3 numbers announced so far is in none of the published "
        "lists, so the register cannot hold it."
    ]
    assert notes[second.pk] == [
        "Registrations: No. 6 of the 6 numbers announced so far is in none of the published "
        "lists, so the register cannot hold it."
    ]
    assert notes[third.pk] == [
        "Registrations: No. 6 of the 7 numbers announced so far is in none of the published "
        "lists, so the register cannot hold it."
    ]


def test_missing_filings_are_named_in_their_sequence(db):
    batch = BatchFactory(reported_total=5)
    for seq_no in (1, 2, 3):
        ApprovedModelFactory(batch=batch, seq_no=seq_no)

    (row,) = batch_reconciliation()

    assert row["notes"] == [
        "National filings: Nos. 4, 5 of the 5 numbers announced so far are in none of the "
        "published lists, so the register cannot hold them."
    ]


def test_a_difference_the_numbering_does_not_explain_is_said_so(db):
    batch = BatchFactory(reported_total=2)
    for seq_no in (1, 2, 3):
        ApprovedModelFactory(batch=batch, seq_no=seq_no)

    (row,) = batch_reconciliation()

    assert row["notes"] == [
        "Filings: the notice announced 2, the published lists up to this one hold 3; their "
        "own numbering does not account for the difference."
    ]


def test_many_missing_numbers_are_counted_not_listed(db):
    batch = BatchFactory(reported_total=30)
    ApprovedModelFactory(batch=batch, seq_no=1)

    (row,) = batch_reconciliation()

    assert row["notes"] == [
        "National filings: 29 of the 30 numbers announced so far are in none of the published "
        "lists, so the register cannot hold them."
    ]


def test_the_coverage_counts_the_rows_of_the_lists_whose_totals_it_gives(db):
    announced = BatchFactory(
        announced_on=datetime.date(2025, 1, 8), reported_total=3, reported_registrations_total=1
    )
    newer = BatchFactory(announced_on=datetime.date(2025, 3, 8), announced_precision="month")
    ApprovedModelFactory.create_batch(3, batch=announced)
    _registrations(announced, 1)
    ApprovedModelFactory.create_batch(2, batch=newer)

    coverage = RegisterStats().coverage()

    # The newer list announced no totals: its two rows are not set against older ones.
    assert (coverage.entered, coverage.announced, coverage.latest) == (4, 4, newer)
    assert newer.announced_label == "2025-03"


@pytest.fixture
def history(db, reviewer):
    """One filing moved through review, and one entered only later."""
    model = AIModelFactory(
        name_zh="某大模型", submitted_on=datetime.date(2024, 1, 10), status=Status.SUBMITTED
    )
    for status, day in (
        (Status.PROVINCIAL_REVIEW, datetime.date(2024, 2, 1)),
        (Status.SUPPLEMENT_REQUESTED, datetime.date(2024, 2, 20)),
        (Status.NATIONAL_REVIEW, datetime.date(2024, 3, 1)),
        (Status.APPROVED, datetime.date(2024, 4, 1)),
    ):
        workflow.transition(model, status, by=reviewer, on=day)
    later = ApprovedModelFactory(name_zh="后来的模型", approved_on=datetime.date(2024, 6, 1))
    return model, later


@pytest.mark.parametrize(
    ("date", "expected"),
    [
        ("2024-01-09", {}),
        ("2024-01-10", {"某大模型": ("submitted", "2024-01-10")}),
        ("2024-02-19", {"某大模型": ("provincial_review", "2024-02-01")}),
        ("2024-02-20", {"某大模型": ("supplement_requested", "2024-02-20")}),
        ("2024-03-31", {"某大模型": ("national_review", "2024-03-01")}),
        (
            "2024-06-01",
            {"某大模型": ("approved", "2024-04-01"), "后来的模型": ("approved", "2024-06-01")},
        ),
    ],
)
def test_status_as_of_rebuilds_each_models_status_from_its_history(client, history, date, expected):
    response = client.get("/reports/status-as-of.csv", {"date": date})

    rows = as_dicts(rows_of(response))
    assert {row["name_zh"]: (row["status"], row["since"]) for row in rows} == expected
    assert response["Content-Disposition"].startswith(f'attachment; filename="status-as-of-{date}-')


def test_status_as_of_lists_the_current_status_and_header(client, history):
    rows = rows_of(client.get("/reports/status-as-of.csv", {"date": "2024-02-01"}))

    assert rows[0] == AS_OF_HEADER
    row = as_dicts(rows)[0]
    assert (row["status"], row["current_status"]) == ("provincial_review", "approved")
    assert row["url"] == f"http://testserver/models/{history[0].slug}/"


@pytest.mark.parametrize(
    "params", [{}, {"date": ""}, {"date": "2024-13-01"}, {"date": "yesterday"}]
)
def test_status_as_of_without_a_valid_date_is_a_clear_bad_request(client, db, params):
    response = client.get("/reports/status-as-of.csv", params)

    assert response.status_code == 400
    assert "YYYY-MM-DD" in response.content.decode()


def test_export_command_writes_the_report_files_too(client, history, tmp_path):
    output = tmp_path / "as-of.csv"

    call_command(
        "export_csv",
        "report",
        "status-as-of",
        "date=2024-02-20",
        output=str(output),
        base_url="http://testserver",
    )

    url = "/reports/status-as-of.csv?date=2024-02-20"
    assert output.read_bytes() == b"".join(client.get(url).streaming_content)
    with pytest.raises(CommandError, match="not a date"):
        call_command("export_csv", "report", "status-as-of", "date=never")
    with pytest.raises(CommandError, match="no report"):
        call_command("export_csv", "report", "nope")
