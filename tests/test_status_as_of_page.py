import csv
import datetime
import io
import re

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from tests.factories import AIModelFactory, ApprovedModelFactory
from tracker import workflow
from tracker.models import Status

pytestmark = pytest.mark.django_db

SUBMITTED = datetime.date(2024, 1, 10)


@pytest.fixture
def history(reviewer):
    """A filing submitted on 2024-01-10, in provincial review from 2024-02-01, approved on
    2024-04-01; a second one approved on 2024-06-01."""
    model = AIModelFactory(name_en="Moving model", submitted_on=SUBMITTED)
    workflow.transition(model, Status.PROVINCIAL_REVIEW, by=reviewer, on=datetime.date(2024, 2, 1))
    workflow.transition(model, Status.NATIONAL_REVIEW, by=reviewer, on=datetime.date(2024, 3, 1))
    workflow.transition(model, Status.APPROVED, by=reviewer, on=datetime.date(2024, 4, 1))
    later = ApprovedModelFactory(name_en="Later model", approved_on=datetime.date(2024, 6, 1))
    return model, later


def url(language="en"):
    with translation.override(language):
        return reverse("tracker:report_status_as_of")


def csv_url(day):
    return f"{reverse('data:report_csv', args=['status-as-of'])}?date={day}"


def rows_of(html):
    """(name, status then, since, status now) of each row of the page's table."""
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    rows = []
    for row in re.findall(r"<tr>(.*?)</tr>", body, re.S):
        cells = [
            re.sub(r"<[^>]+>", "", cell).strip()
            for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        ]
        rows.append((cells[0], cells[3], cells[4], cells[5]))
    return rows


def test_the_page_shows_each_models_status_on_the_date_with_the_step_that_left_it(client, history):
    response = client.get(url(), {"date": "2024-02-19"})

    assert response.status_code == 200
    html = response.content.decode()
    assert rows_of(html) == [("Moving model", "Provincial review", "2024-02-01", "Approved")]
    assert 'type="date" id="id_date" name="date" value="2024-02-19" required>' in html
    assert "Statuses on 2024-02-19" in html
    assert f'href="{csv_url("2024-02-19")}"' in html


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        ("2024-01-10", {"Moving model": "submitted"}),
        ("2024-03-31", {"Moving model": "national_review"}),
        ("2024-06-01", {"Moving model": "approved", "Later model": "approved"}),
    ],
)
def test_the_page_holds_the_same_rows_as_the_csv_of_its_date(client, history, day, expected):
    html = client.get(url(), {"date": day}).content.decode()
    data = b"".join(client.get(csv_url(day)).streaming_content).decode("utf-8-sig")

    in_csv = {row["name_en"]: row["status"] for row in csv.DictReader(io.StringIO(data))}
    assert in_csv == expected
    assert {name for name, *_rest in rows_of(html)} == set(expected)


def test_the_statuses_are_counted_above_the_table(client, history):
    AIModelFactory(submitted_on=SUBMITTED)

    html = client.get(url(), {"date": "2024-02-19"}).content.decode()

    counts = re.findall(r'<li><span class="count-n">(\d+)</span> ([^<]+)</li>', html)
    assert counts == [("1", "Submitted"), ("1", "Provincial review")]


def test_without_a_date_the_page_shows_today(client, history):
    today = timezone.localdate().isoformat()

    response = client.get(url())

    html = response.content.decode()
    assert f'name="date" value="{today}"' in html
    assert f"Statuses on {today}" in html
    assert f'href="{csv_url(today)}"' in html
    assert {row[1] for row in rows_of(html)} == {"Approved"}


@pytest.mark.parametrize("typed", ["2024-13-45", "yesterday", "<b>2024</b>"])
def test_a_bad_date_is_a_bad_request_that_keeps_what_was_typed(client, history, typed):
    response = client.get(url(), {"date": typed})

    assert response.status_code == 400
    html = response.content.decode()
    escaped = typed.replace("<", "&lt;").replace(">", "&gt;")
    assert (
        f'<input class="date-field" type="text" id="id_date" name="date" value="{escaped}" '
        'placeholder="YYYY-MM-DD" required aria-invalid="true" aria-describedby="date-error">'
    ) in html
    assert (
        f'<p class="notice" id="date-error" role="alert">“{escaped}” is not a date: give it as '
        "YYYY-MM-DD, for example 2024-12-31.</p>"
    ) in html
    assert "<tbody>" not in html


def test_a_date_after_today_shows_the_register_as_it_stands_and_says_so(client, history):
    today = timezone.localdate()
    later = today + datetime.timedelta(days=400)

    response = client.get(url(), {"date": later.isoformat()})

    assert response.status_code == 200
    html = response.content.decode()
    assert (
        f"{later.isoformat()} is after today: later steps are not known yet, so this is the "
        f"register as it stands today, {today.isoformat()}."
    ) in html
    assert f'href="{csv_url(today.isoformat())}"' in html
    assert len(rows_of(html)) == 2


def test_a_date_before_the_history_starts_says_when_it_starts(
    client, history, django_assert_num_queries
):
    # 1: the register stamp; 2: the earliest step; nothing else to read.
    with django_assert_num_queries(2):
        response = client.get(url(), {"date": "2023-12-31"})

    assert response.status_code == 200
    html = response.content.decode()
    assert (
        "2023-12-31 is before the register's history starts, on 2024-01-10: no model had a "
        "status yet."
    ) in html
    assert 'href="?date=2024-01-10"' in html
    assert "<tbody>" not in html


def test_an_empty_register_says_it_has_no_history(client):
    html = client.get(url()).content.decode()

    assert "The register holds no status history yet." in html
    assert "<tbody>" not in html


@pytest.mark.parametrize("n", [1, 60])
def test_the_page_reads_a_fixed_number_of_queries(client, django_assert_num_queries, n):
    ApprovedModelFactory.create_batch(n)

    # 1: the register stamp; 2: the earliest step; 3: the statuses counted; 4: the page's
    # rows with their applicants.
    with django_assert_num_queries(4):
        response = client.get(url(), {"date": "2024-12-31"})

    assert len(rows_of(response.content.decode())) == min(n, 50)


def test_a_long_register_comes_in_pages_that_keep_the_date(client):
    ApprovedModelFactory.create_batch(51)

    first = client.get(url(), {"date": "2024-12-31"}).content.decode()
    second = client.get(url(), {"date": "2024-12-31", "page": "2"})

    assert 'href="?date=2024-12-31&amp;page=2"' in first
    assert len(rows_of(second.content.decode())) == 1
    missing = client.get(url(), {"date": "2024-12-31", "page": "9"})
    assert missing.status_code == 404
    assert "There is no page “9” in this list: it has 2 pages." in missing.content.decode()


def test_the_page_speaks_chinese(client, history):
    html = client.get(url("zh-hans"), {"date": "2024-02-19"}).content.decode()

    assert '<html lang="zh-hans">' in html
    assert rows_of(html) == [(history[0].name_zh, "省级审核", "2024-02-01", "已备案")]
