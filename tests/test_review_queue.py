"""The admin's review queue: pending submissions by stage, the longest waiting first."""

import pytest
from django.urls import reverse

from tests.factories import AIModelFactory, ApprovedModelFactory, UserFactory, days_ago
from tracker.models import Status

pytestmark = pytest.mark.django_db

S = Status
QUEUE = "/admin/tracker/aimodel/queue/"


def change_url(ai_model):
    return reverse("admin:tracker_aimodel_change", args=[ai_model.pk])


def stage_rows(response):
    """Each stage's status and the names of its models, in the order shown."""
    return [
        (stage.status, [row.ai_model.name_en for row in stage.rows])
        for stage in response.context["stages"]
    ]


def test_the_queue_has_its_address():
    assert reverse("admin:tracker_aimodel_queue") == QUEUE


def test_pending_submissions_are_grouped_by_stage_in_workflow_order_oldest_first(client, reviewer):
    AIModelFactory(name_en="National new", status=S.NATIONAL_REVIEW, submitted_on=days_ago(5))
    AIModelFactory(name_en="Submitted", status=S.SUBMITTED, submitted_on=days_ago(3))
    AIModelFactory(name_en="National undated", status=S.NATIONAL_REVIEW, submitted_on=None)
    AIModelFactory(name_en="National old", status=S.NATIONAL_REVIEW, submitted_on=days_ago(50))
    AIModelFactory(name_en="Supplement", status=S.SUPPLEMENT_REQUESTED, submitted_on=days_ago(20))
    ApprovedModelFactory(name_en="Approved")
    AIModelFactory(name_en="Rejected", status=S.REJECTED)
    client.force_login(reviewer)

    response = client.get(QUEUE)

    assert response.status_code == 200
    assert stage_rows(response) == [
        ("submitted", ["Submitted"]),
        ("provincial_review", []),
        ("supplement_requested", ["Supplement"]),
        ("national_review", ["National old", "National new", "National undated"]),
    ]
    assert response.context["total"] == 5
    page = response.content.decode()
    assert "5 submissions are pending." in page
    assert "Nothing waiting at this stage." in page
    assert "Approved" not in [row for _s, rows in stage_rows(response) for row in rows]


def test_days_waiting_count_to_today_and_those_over_the_threshold_are_flagged(
    client, reviewer, settings
):
    settings.REVIEW_QUEUE_FLAG_DAYS = 30
    AIModelFactory(name_en="Long", submitted_on=days_ago(31))
    AIModelFactory(name_en="At the limit", submitted_on=days_ago(30))
    AIModelFactory(name_en="Undated", submitted_on=None)
    client.force_login(reviewer)

    response = client.get(QUEUE)

    rows = response.context["stages"][0].rows
    assert [(row.ai_model.name_en, row.days, row.overdue) for row in rows] == [
        ("Long", 31, True),
        ("At the limit", 30, False),
        ("Undated", None, False),
    ]
    page = response.content.decode()
    assert page.count("over 30 days") == 1
    assert "a submission waiting more than 30 days is flagged" in page
    assert page.count('class="overdue"') == 1


def test_the_threshold_defaults_to_ninety_days(settings):
    assert settings.REVIEW_QUEUE_FLAG_DAYS == 90


def test_each_row_links_to_the_models_admin_page(client, editor):
    ai_model = AIModelFactory(name_en="Waiting", status=S.PROVINCIAL_REVIEW)
    client.force_login(editor)

    page = client.get(QUEUE).content.decode()

    assert f'<a href="{change_url(ai_model)}">Waiting</a>' in page


@pytest.mark.parametrize("who", ["editor", "reviewer"])
def test_editors_and_reviewers_see_the_queue(client, request, who):
    AIModelFactory(name_en="Waiting")
    client.force_login(request.getfixturevalue(who))

    response = client.get(QUEUE)

    assert response.status_code == 200
    assert "Waiting" in response.content.decode()


def test_staff_without_the_right_to_view_models_are_refused(client):
    client.force_login(UserFactory())

    assert client.get(QUEUE).status_code == 403


def test_visitors_are_sent_to_sign_in(client):
    response = client.get(QUEUE)

    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))


def test_the_page_looks_like_the_admin_with_breadcrumbs(client, reviewer):
    client.force_login(reviewer)

    page = client.get(QUEUE).content.decode()

    assert '<ol class="breadcrumbs">' in page
    assert '<a href="/admin/">Home</a>' in page
    assert '<a href="/admin/tracker/">Approval tracker</a>' in page
    assert '<a href="/admin/tracker/aimodel/">AI models</a>' in page
    assert '<li aria-current="page">Review queue</li>' in page


def test_the_queue_is_linked_from_the_admin_index_and_the_model_list(client, editor):
    client.force_login(editor)

    assert f'href="{QUEUE}"' in client.get("/admin/").content.decode()
    assert f'href="{QUEUE}"' in client.get("/admin/tracker/aimodel/").content.decode()


def test_a_long_stage_shows_its_oldest_and_links_to_the_rest(client, reviewer, monkeypatch):
    monkeypatch.setattr("tracker.admin.queue.STAGE_ROWS", 2)
    for n in range(3):
        AIModelFactory(name_en=f"Model {n}", submitted_on=days_ago(10 - n))
    client.force_login(reviewer)

    response = client.get(QUEUE)

    assert stage_rows(response)[0] == ("submitted", ["Model 0", "Model 1"])
    assert "… and 1 more: see them in the model list." in response.content.decode()
    assert 'href="/admin/tracker/aimodel/?status__exact=submitted"' in response.content.decode()


@pytest.mark.parametrize("rows", [2, 12])
def test_the_queue_costs_the_same_queries_however_many_rows(
    client, reviewer, django_assert_num_queries, session_reads, rows
):
    for n in range(rows):
        status = S.SUBMITTED if n % 2 else S.NATIONAL_REVIEW
        AIModelFactory(status=status, submitted_on=days_ago(n))
    client.force_login(reviewer)
    # session, user, user's own and group permissions, the count per stage, then the rows
    # (with applicant) of each stage that has any.
    with django_assert_num_queries(session_reads + 6):
        response = client.get(QUEUE)
    assert response.context["total"] == rows
