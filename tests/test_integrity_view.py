"""The admin's integrity page: what check_integrity finds, each finding linked to its fix."""

from contextlib import suppress
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from tests.factories import AIModelFactory, ApprovedModelFactory, UserFactory, remove_history
from tracker.models import AIModel, FilingType, Status

pytestmark = pytest.mark.django_db

PAGE = "/admin/tracker/aimodel/integrity/"


def change_url(ai_model):
    return reverse("admin:tracker_aimodel_change", args=[ai_model.pk])


def shown(checks):
    """Each check's heading and the lines it shows, with the model each links to."""
    return [(str(check.label), [(str(f), f.model_id) for f in check.findings]) for check in checks]


def command_lines():
    out = StringIO()
    with suppress(CommandError):
        call_command("check_integrity", stdout=out)
    return [line.strip() for line in out.getvalue().splitlines()]


def test_the_page_has_its_address():
    assert reverse("admin:tracker_aimodel_integrity") == PAGE


def test_a_consistent_register_shows_no_problems(client, reviewer):
    upstream = ApprovedModelFactory()
    AIModelFactory(filing_type=FilingType.REGISTRATION, upstream=upstream)
    client.force_login(reviewer)

    response = client.get(PAGE)

    assert response.status_code == 200
    assert (response.context["problems"], response.context["to_check"]) == ([], [])
    page = response.content.decode()
    assert "No problems found." in page
    assert "Nothing to check." in page


def test_each_problem_is_listed_under_its_check_with_a_link_to_the_model(client, reviewer):
    drifted = AIModelFactory(name_en="Drifted")
    AIModel.objects.filter(pk=drifted.pk).update(status=Status.NATIONAL_REVIEW)
    silent = remove_history(ApprovedModelFactory(name_en="Silent"))
    client.force_login(reviewer)

    response = client.get(PAGE)

    assert shown(response.context["problems"]) == [
        (
            "Status differs from the last history step",
            [
                (
                    f"Model {drifted.pk} (drifted): status is “national_review” but its last "
                    "history step is “submitted”.",
                    drifted.pk,
                )
            ],
        ),
        (
            "Without history",
            [
                (
                    f"Model {silent.pk} (silent): status is “approved” but it has no history.",
                    silent.pk,
                )
            ],
        ),
    ]
    page = response.content.decode()
    assert "2 problems" in page
    assert f'<a href="{change_url(drifted)}">Correct it</a>' in page
    assert f'<a href="{change_url(silent)}">Correct it</a>' in page


def test_records_to_check_are_listed_apart_with_a_link_to_each(client, editor):
    orphan = AIModelFactory(filing_type=FilingType.REGISTRATION, name_en="Orphan")
    cut = ApprovedModelFactory(name_en="Cut", filing_number="Beijing-Cut-")
    client.force_login(editor)

    response = client.get(PAGE)

    assert response.context["problems"] == []
    assert shown(response.context["to_check"]) == [
        (
            "Registrations without an upstream model",
            [
                (
                    f"Model {orphan.pk} (orphan): a registration without the upstream model "
                    "it calls.",
                    orphan.pk,
                )
            ],
        ),
        (
            "Numbers that look cut off or mistyped",
            [
                (
                    f"Model {cut.pk} (cut): The number Beijing-Cut- looks cut off in the "
                    "published list.",
                    cut.pk,
                )
            ],
        ),
    ]
    page = response.content.decode()
    assert "2 records to check" in page
    assert f'<a href="{change_url(orphan)}">Check it</a>' in page
    assert f'<a href="{change_url(cut)}">Check it</a>' in page


def test_the_page_shows_what_the_command_finds(client, reviewer):
    remove_history(AIModelFactory(filing_type=FilingType.REGISTRATION))
    drifted = AIModelFactory()
    AIModel.objects.filter(pk=drifted.pk).update(status=Status.WITHDRAWN)
    ApprovedModelFactory(filing_number="Shinghai-Typo-20240726")
    client.force_login(reviewer)

    response = client.get(PAGE)

    on_page = [
        str(finding)
        for checks in (response.context["to_check"], response.context["problems"])
        for check in checks
        for finding in check.findings
    ]
    assert on_page == [line for line in command_lines() if line.startswith("Model ")]
    assert len(on_page) == 4


def test_a_long_check_shows_its_first_findings_and_says_how_many_more(
    client, reviewer, monkeypatch
):
    monkeypatch.setattr("tracker.admin.integrity_view.SHOWN", 2)
    for _ in range(3):
        AIModelFactory(filing_type=FilingType.REGISTRATION)
    client.force_login(reviewer)

    response = client.get(PAGE)

    (check,) = response.context["to_check"]
    assert (check.count, len(check.findings)) == (3, 2)
    page = response.content.decode()
    assert "Registrations without an upstream model (3)" in page
    assert "… and 1 more: <code>manage.py check_integrity</code> lists every one." in page


@pytest.mark.parametrize("who", ["editor", "reviewer"])
def test_editors_and_reviewers_see_the_page(client, request, who):
    client.force_login(request.getfixturevalue(who))

    assert client.get(PAGE).status_code == 200


def test_staff_without_the_right_to_view_models_are_refused(client):
    client.force_login(UserFactory())

    assert client.get(PAGE).status_code == 403


def test_visitors_are_sent_to_sign_in(client):
    response = client.get(PAGE)

    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))


def test_the_page_looks_like_the_admin_and_is_linked_from_its_index(client, editor):
    client.force_login(editor)

    page = client.get(PAGE).content.decode()

    assert '<a href="/admin/tracker/aimodel/">AI models</a>' in page
    assert '<li aria-current="page">Integrity check</li>' in page
    assert f'href="{PAGE}"' in client.get("/admin/").content.decode()
    assert f'href="{PAGE}"' in client.get("/admin/tracker/aimodel/").content.decode()


@pytest.mark.parametrize("size", [2, 12])
def test_the_page_costs_the_same_queries_however_many_findings(
    client, reviewer, django_assert_num_queries, session_reads, size
):
    for _ in range(size):
        drifted = AIModelFactory()
        AIModel.objects.filter(pk=drifted.pk).update(status=Status.WITHDRAWN)
        remove_history(AIModelFactory(filing_type=FilingType.REGISTRATION))
    client.force_login(reviewer)
    # session (unless the cache holds it), user, user's own and group permissions, then the
    # checks' own six queries.
    with django_assert_num_queries(session_reads + 9):
        response = client.get(PAGE)
    assert sum(check.count for check in response.context["problems"]) == 2 * size
