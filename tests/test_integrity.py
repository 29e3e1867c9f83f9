import datetime
from contextlib import contextmanager
from io import StringIO

import pytest
from django.core.management import CommandError, ManagementUtility, call_command
from django.db import connection
from django.utils import timezone

from tests.factories import AIModelFactory, ApprovedModelFactory, remove_history
from tracker import workflow
from tracker.models import AIModel, FilingType, Status, StatusChange

pytestmark = pytest.mark.django_db


def check_integrity():
    """The command's output and whether it failed."""
    out = StringIO()
    try:
        call_command("check_integrity", stdout=out)
    except CommandError as error:
        return out.getvalue(), str(error)
    return out.getvalue(), None


def a_clean_register():
    upstream = ApprovedModelFactory()
    AIModelFactory(filing_type=FilingType.REGISTRATION, upstream=upstream)
    pending = AIModelFactory()
    workflow.transition(pending, Status.PROVINCIAL_REVIEW, by=None, on=datetime.date(2024, 2, 1))


def test_a_consistent_register_has_no_problems():
    a_clean_register()

    output, failure = check_integrity()

    assert failure is None
    assert "No problems found." in output


def test_an_empty_register_has_no_problems():
    assert check_integrity() == ("No problems found.\n", None)


def test_a_status_written_outside_the_workflow_is_reported():
    a_clean_register()
    ai_model = AIModelFactory(name_en="Drifted")
    AIModel.objects.filter(pk=ai_model.pk).update(status=Status.NATIONAL_REVIEW)

    output, failure = check_integrity()

    assert failure == "1 problem found."
    assert f"Model {ai_model.pk} (drifted)" in output
    assert "“national_review”" in output
    assert "last history step is “submitted”" in output


def test_the_last_step_is_taken_by_date_then_recording_time_then_id():
    ai_model = AIModelFactory(status=Status.PROVINCIAL_REVIEW)
    day = datetime.date(2024, 2, 1)
    now = timezone.now()
    StatusChange.objects.create(
        model=ai_model, from_status="submitted", to_status="provincial_review", happened_on=day
    )
    # Recorded earlier but happened later: still the last step.
    StatusChange.objects.create(
        model=ai_model,
        from_status="provincial_review",
        to_status="provincial_review",
        happened_on=day + datetime.timedelta(days=1),
        recorded_at=now - datetime.timedelta(days=30),
    )
    assert check_integrity()[1] is None

    StatusChange.objects.create(
        model=ai_model,
        from_status="provincial_review",
        to_status="withdrawn",
        happened_on=day + datetime.timedelta(days=1),
        recorded_at=now,
    )
    assert "last history step is “withdrawn”" in check_integrity()[0]


def test_same_day_steps_recorded_at_the_same_moment_are_ordered_by_id():
    ai_model = remove_history(AIModelFactory(status=Status.SUBMITTED))
    moment = timezone.now()
    for to_status in ("provincial_review", "submitted"):
        StatusChange.objects.create(
            model=ai_model,
            to_status=to_status,
            happened_on=datetime.date(2024, 2, 1),
            recorded_at=moment,
        )

    assert check_integrity() == ("No problems found.\n", None)


@contextmanager
def check_constraints_off():
    """Let a row the database normally refuses in, to prove the check would still see it."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA ignore_check_constraints = ON")
            try:
                yield
            finally:
                cursor.execute("PRAGMA ignore_check_constraints = OFF")
        else:
            # Rolled back with the test's transaction. Deferred foreign-key checks must run
            # first: PostgreSQL will not alter a table with pending trigger events.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("ALTER TABLE tracker_aimodel DROP CONSTRAINT aimodel_approved_has_date")
            yield


@pytest.mark.parametrize("status", [Status.APPROVED, Status.SUSPENDED, Status.REVOKED])
def test_an_approved_model_without_an_approval_date_is_reported(status):
    ai_model = ApprovedModelFactory(status=status, name_en="Undated")
    with check_constraints_off():
        AIModel.objects.filter(pk=ai_model.pk).update(approved_on=None)

    output, failure = check_integrity()

    assert failure == "1 problem found."
    assert f"Model {ai_model.pk} (undated): status is “{status}” but it has no approval date" in (
        output
    )


def test_a_registration_without_an_upstream_model_is_listed_to_check_not_failed():
    registration = AIModelFactory(filing_type=FilingType.REGISTRATION, name_en="Orphan")

    output, failure = check_integrity()

    assert failure is None
    assert output.splitlines() == [
        "To check (as published, not an error):",
        f"  Model {registration.pk} (orphan): a registration without the upstream model it calls.",
        "1 record to check.",
        "No problems found.",
    ]


@pytest.mark.parametrize(
    "number, filing_type, flag",
    [
        ("Jiangsu-SiWeiXiangLiangZhiSuanYun-", FilingType.REGISTRATION, "looks cut off"),
        (
            "ZheJiang-HuaShuShiHuaWenLvDaMoXing-20250609000026",
            FilingType.FILING,
            "is not in the form REGION-NAME-DATE",
        ),
        ("Shinghai-AiMinSuGuanJia-20240726S0021", FilingType.REGISTRATION, "“Shinghai”"),
        ("Beijing-Example-20241301", FilingType.FILING, "20241301 in the number is not a"),
        ("Beijing-Example-20240105S0001", FilingType.FILING, "is a registration number"),
    ],
)
def test_a_malformed_published_number_is_listed_to_check(number, filing_type, flag):
    registration = filing_type == FilingType.REGISTRATION
    flagged = ApprovedModelFactory(
        name_en="Flagged",
        filing_number=number,
        filing_type=filing_type,
        upstream=ApprovedModelFactory() if registration else None,
    )

    output, failure = check_integrity()

    assert failure is None
    lines = output.splitlines()
    assert lines[0] == "To check (as published, not an error):"
    assert lines[1].startswith(f"  Model {flagged.pk} (flagged): ")
    assert flag in lines[1]
    assert lines[2:] == ["1 record to check.", "No problems found."]


def test_a_model_without_history_is_reported():
    ai_model = remove_history(ApprovedModelFactory(name_en="Silent"))

    output, failure = check_integrity()

    assert failure == "1 problem found."
    assert f"Model {ai_model.pk} (silent): status is “approved” but it has no history" in output


def test_every_problem_is_listed():
    remove_history(AIModelFactory(filing_type=FilingType.REGISTRATION))
    drifted = AIModelFactory()
    AIModel.objects.filter(pk=drifted.pk).update(status=Status.WITHDRAWN)

    output, failure = check_integrity()

    assert failure == "2 problems found."
    # Two problems, after the registration to check (a heading, the line, the count).
    assert len(output.splitlines()) == 5


@pytest.mark.parametrize("size", [2, 40])
def test_the_check_costs_the_same_few_queries_however_large_the_register(
    size, django_assert_num_queries
):
    for _ in range(size):
        drifted = AIModelFactory()
        AIModel.objects.filter(pk=drifted.pk).update(status=Status.WITHDRAWN)
        remove_history(AIModelFactory(filing_type=FilingType.REGISTRATION))

    # One query per check: upstreams, the regions of numbers and the numbers to check, then
    # status against history, approval dates and missing history.
    with django_assert_num_queries(6):
        output, failure = check_integrity()

    assert failure == f"{2 * size} problems found."


def test_the_command_exits_with_status_1_when_it_finds_a_problem(capsys):
    remove_history(AIModelFactory())

    with pytest.raises(SystemExit) as exit:
        ManagementUtility(["manage.py", "check_integrity"]).execute()

    assert exit.value.code == 1
    assert "1 problem found." in capsys.readouterr().err


def test_the_command_exits_with_status_0_on_a_clean_register(capsys):
    a_clean_register()

    ManagementUtility(["manage.py", "check_integrity"]).execute()

    assert "No problems found." in capsys.readouterr().out
