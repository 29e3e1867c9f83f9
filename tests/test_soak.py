"""The soak test: gunicorn under load while the register is written, and nothing is lost."""

import re
import sqlite3
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from tests.factories import AIModelFactory
from tracker import workflow
from tracker.models import AIModel, Status, StatusChange
from tracker.perf import soak

SMALL = [
    "--seconds=5",
    "--clients=4",
    "--models=1000",
    "--applicants=100",
    "--import-rows=200",
    "--transitions=40",
]


def run_soak(*args, timeout=180):
    return subprocess.run(
        [sys.executable, "manage.py", "soak", *args],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def figure(pattern, text):
    match = re.search(pattern, text)
    assert match, f"{pattern!r} not in:\n{text}"
    return int(match.group(1).replace(",", ""))


def test_a_short_soak_serves_every_page_and_loses_no_history():
    result = run_soak(*SMALL)
    out = result.stdout

    assert result.returncode == 0, out + result.stderr
    assert out.rstrip().endswith("PASS")
    assert figure(r"Requests served: ([\d,]+) \(", out) > 0
    assert re.search(r"\(([\d,.]+) requests/s\)", out)
    assert re.search(r"Status codes: 200: [\d,]+$", out, re.MULTILINE)
    assert "Errors: 0 server errors, 0 failed requests" in out
    assert figure(r"Transitions: ([\d,]+) applied", out) > 0
    assert figure(r"Import: ([\d,]+) rows", out) == 200
    assert "first part again: 0 created" in out
    expected = figure(r"History: ([\d,]+) steps expected", out)
    assert figure(r"steps expected, ([\d,]+) found", out) == expected
    assert "Integrity problems: 0" in out
    assert "“database is locked” 0 times, 0 tracebacks" in out
    for path in ("/models/export.csv?status=national_review", "/feeds/approvals/", "/en/backlog/"):
        assert path in out


@pytest.mark.parametrize(
    "args, message",
    [
        (["--seconds=0"], "--seconds must be more than 0"),
        (["--seconds=86400"], "at most 3600"),
        (["--clients=0"], "--clients must be at least 1"),
        (["--import-rows=-5"], "--import-rows must be at least 1"),
        (["--port=70000"], "--port must be between"),
        (["--models=10", "--applicants=20"], "--applicants cannot exceed --models"),
        (["--seconds=soon"], "invalid float value"),
    ],
)
def test_bad_options_are_refused_before_anything_starts(args, message):
    with pytest.raises(CommandError, match=re.escape(message)):
        call_command("soak", *args)


def test_a_database_holding_other_data_is_refused(tmp_path):
    other = tmp_path / "other.sqlite3"
    with sqlite3.connect(other) as database:
        database.execute("CREATE TABLE precious (id integer)")

    result = run_soak(*SMALL, f"--database-url=sqlite:///{other}", timeout=60)

    assert result.returncode != 0
    assert "holds tables but no benchmark data set" in result.stderr
    with sqlite3.connect(other) as database:
        tables = [row[0] for row in database.execute("SELECT name FROM sqlite_master")]
    assert tables == ["precious"]


# The checks themselves: each kind of loss is caught ---------------------------------------


def served(**statuses):
    traffic = soak.Traffic()
    traffic.statuses.update({int(code): n for code, n in statuses.items()})
    return traffic


@pytest.fixture
def quiet_log(tmp_path):
    path = tmp_path / "gunicorn.log"
    path.write_text("[INFO] Booting worker\n")
    return path


@pytest.mark.django_db
def test_the_check_passes_when_every_step_is_present(quiet_log):
    ai_model = AIModelFactory()
    before = StatusChange.objects.count()
    step = workflow.transition(ai_model, Status.PROVINCIAL_REVIEW, by=None)
    reviews = soak.Reviews(attempted=1, applied=[(step.pk, ai_model.pk, Status.PROVINCIAL_REVIEW)])

    findings = soak.check(before, served(**{"200": 3}), reviews, soak.Imports(), quiet_log)

    assert findings.passed, findings.failures


@pytest.mark.django_db
def test_the_check_fails_when_a_written_step_is_missing(quiet_log):
    ai_model = AIModelFactory()
    before = StatusChange.objects.count()
    reviews = soak.Reviews(attempted=1, applied=[(10**9, ai_model.pk, Status.PROVINCIAL_REVIEW)])

    findings = soak.check(before, served(**{"200": 3}), reviews, soak.Imports(), quiet_log)

    assert findings.missing_steps == 1
    assert any("history steps expected" in failure for failure in findings.failures)


@pytest.mark.django_db
def test_the_check_fails_when_a_status_disagrees_with_its_history(quiet_log):
    ai_model = AIModelFactory()
    AIModel.objects.filter(pk=ai_model.pk).update(status=Status.WITHDRAWN)

    findings = soak.check(
        StatusChange.objects.count(),
        served(**{"200": 3}),
        soak.Reviews(),
        soak.Imports(),
        quiet_log,
    )

    assert len(findings.problems) == 1
    assert not findings.passed


@pytest.mark.django_db
def test_the_check_fails_on_server_errors_failed_requests_and_a_locked_database(tmp_path):
    log = tmp_path / "gunicorn.log"
    log.write_text("Traceback (most recent call last):\nOperationalError: database is locked\n")
    traffic = served(**{"200": 10, "500": 2})
    traffic.errors.append("/: connection refused")

    findings = soak.check(
        StatusChange.objects.count(), traffic, soak.Reviews(), soak.Imports(), log
    )

    failures = " ".join(findings.failures)
    assert "2 server errors" in failures
    assert "1 failed requests" in failures
    assert "“database is locked” 1 times" in failures
    assert "1 tracebacks" in failures
    assert (
        "FAIL"
        in soak.report_lines(
            soak.Outcome(soak.Plan(), 1.0, traffic, soak.Reviews(), soak.Imports(), findings)
        )[-1]
    )


@pytest.mark.django_db
def test_the_check_fails_when_no_request_was_served_or_a_reimport_duplicated_rows(quiet_log):
    imports = soak.Imports(reimported=3)

    findings = soak.check(
        StatusChange.objects.count(), soak.Traffic(), soak.Reviews(), imports, quiet_log
    )

    assert "no request was served" in findings.failures
    assert "importing a part again created 3 models" in findings.failures
