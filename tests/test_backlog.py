import pytest

from tests.factories import SECRET, AIModelFactory, ApprovedModelFactory, days_ago
from tracker.models import Status

pytestmark = pytest.mark.django_db


@pytest.fixture
def pending():
    """Four pending submissions, one without a date, beside decided ones."""
    models = {
        "recent": AIModelFactory(name_en="Recent", submitted_on=days_ago(3)),
        "oldest": AIModelFactory(
            name_en="Oldest",
            status=Status.NATIONAL_REVIEW,
            submitted_on=days_ago(400),
            internal_notes=SECRET,
        ),
        "undated": AIModelFactory(
            name_en="Undated", status=Status.PROVINCIAL_REVIEW, submitted_on=None
        ),
        "middle": AIModelFactory(
            name_en="Middle", status=Status.SUPPLEMENT_REQUESTED, submitted_on=days_ago(90)
        ),
    }
    ApprovedModelFactory(name_en="Approved one")
    AIModelFactory(name_en="Rejected one", status=Status.REJECTED, submitted_on=days_ago(900))
    return models


def test_backlog_lists_pending_submissions_longest_waiting_first(client, pending):
    response = client.get("/en/backlog/")

    assert response.status_code == 200
    rows = list(response.context["page"].object_list)
    assert [m.name_en for m in rows] == ["Oldest", "Middle", "Recent", "Undated"]


def test_backlog_shows_days_waiting_and_stage(client, pending):
    html = client.get("/en/backlog/").content.decode()

    assert '<td class="num" data-label="Days waiting">400</td>' in html
    assert '<td class="num" data-label="Days waiting">90</td>' in html
    assert '<td class="num" data-label="Days waiting">3</td>' in html
    assert "Supplement requested" in html
    assert days_ago(400).isoformat() in html


def test_backlog_leaves_out_decided_submissions(client, pending):
    html = client.get("/en/backlog/").content.decode()

    assert "Approved one" not in html
    assert "Rejected one" not in html


def test_backlog_gives_the_median_wait_and_the_count_per_stage(client, pending):
    response = client.get("/en/backlog/")

    assert response.context["median_wait"] == 90
    assert response.context["undated"] == 1
    stages = {s.status: s.count for s in response.context["summary"].stages}
    assert stages == {
        Status.SUBMITTED: 1,
        Status.PROVINCIAL_REVIEW: 1,
        Status.SUPPLEMENT_REQUESTED: 1,
        Status.NATIONAL_REVIEW: 1,
    }
    html = response.content.decode()
    assert "90 days" in html
    assert "leaves out 1 pending submission whose submission date is unknown" in html
    assert 'href="/en/models/?status=supplement_requested"' in html


def test_backlog_links_to_its_csv_export(client, pending):
    assert 'href="/backlog/export.csv"' in client.get("/en/backlog/").content.decode()


def test_backlog_never_shows_internal_notes(client, pending):
    assert SECRET not in client.get("/en/backlog/").content.decode()


def test_an_empty_backlog_says_so(client):
    response = client.get("/en/backlog/")

    assert response.status_code == 200
    assert response.context["median_wait"] is None
    assert "Nothing is waiting for a decision." in response.content.decode()


def test_backlog_pages_hold_fifty_rows(client):
    AIModelFactory.create_batch(51, submitted_on=days_ago(5))

    first = client.get("/en/backlog/")
    second = client.get("/en/backlog/?page=2")

    assert len(first.context["page"].object_list) == 50
    assert len(second.context["page"].object_list) == 1
    assert 'href="?page=2"' in first.content.decode()


@pytest.mark.parametrize("number", ["0", "999999", "abc", "-1", "1.5", "9" * 400])
def test_a_page_that_does_not_exist_is_a_404_not_an_error(client, pending, number):
    response = client.get("/en/backlog/", {"page": number})

    assert response.status_code == 404
    assert "Start again from the first page." in response.content.decode()


def test_backlog_speaks_chinese(client, pending):
    html = client.get("/zh-hans/backlog/").content.decode()

    assert "待审积压" in html
    assert "等待天数" in html


@pytest.mark.parametrize("n", [2, 60])
def test_backlog_query_count_does_not_grow_with_the_backlog(client, django_assert_num_queries, n):
    AIModelFactory.create_batch(n, submitted_on=days_ago(7))

    # 1. the register's stamp; 2. counts by status, the backlog's size among them (no
    # separate count for the paginator); 3. the page's ids; 4. their rows with applicant,
    # jurisdiction and batch joined in; 5. the median's middle dates.
    with django_assert_num_queries(5):
        assert client.get("/en/backlog/").status_code == 200
    # Then the stamp, the page's ids and rows only, until the register changes.
    with django_assert_num_queries(3):
        assert client.get("/en/backlog/").status_code == 200
