"""The /models/ filters as facets: each choice with the number of models it selects, the
same filters as CSV, JSON and Atom, and what a bad value does to them."""

import datetime

import pytest
from django.urls import reverse
from django.utils import translation

from tests.factories import (
    AIModelFactory,
    ApplicantFactory,
    ApprovedModelFactory,
    BatchFactory,
    jurisdiction,
)
from tracker.models import FilingType, Scope, Status

pytestmark = pytest.mark.django_db


@pytest.fixture
def register():
    """Five models across three jurisdictions, two batches with models and one without."""
    baidu = ApplicantFactory(name_en="Baidu", jurisdiction=jurisdiction("BJ"))
    minimax = ApplicantFactory(name_en="MiniMax", jurisdiction=jurisdiction("SH"))
    alibaba = ApplicantFactory(name_en="Alibaba", jurisdiction=jurisdiction("ZJ"))
    first = BatchFactory(
        title_en="First list", title_zh="第一批", announced_on=datetime.date(2023, 8, 31)
    )
    second = BatchFactory(
        title_en="Second list", title_zh="第二批", announced_on=datetime.date(2024, 4, 2)
    )
    empty = BatchFactory(
        title_en="Empty list", title_zh="空的一批", announced_on=datetime.date(2024, 8, 30)
    )
    ernie = ApprovedModelFactory(name_en="ERNIE Bot", applicant=baidu, batch=first, sector="search")
    ApprovedModelFactory(
        name_en="Baidu Answers",
        applicant=baidu,
        batch=second,
        upstream=ernie,
        filing_type=FilingType.REGISTRATION,
        scope=Scope.INDUSTRY,
        sector="finance",
    )
    ApprovedModelFactory(name_en="ABAB", applicant=minimax, batch=first)
    AIModelFactory(name_en="Hailuo", applicant=minimax, status=Status.NATIONAL_REVIEW)
    AIModelFactory(name_en="Qwen", applicant=alibaba, scope=Scope.INDUSTRY, sector="finance")
    return {"baidu": baidu, "first": first, "second": second, "empty": empty}


def models_url(query=""):
    return f"{reverse('tracker:model_list')}{query}"


def shown(response, name):
    """A facet's choices as the page lists them: (value, count, checked)."""
    return [(o.value, o.count, o.checked) for o in response.context["facets"][name].options]


def test_every_facet_counts_the_whole_register_when_nothing_is_chosen(client, register):
    response = client.get(models_url())

    assert shown(response, "status") == [
        (status, {"approved": 3, "national_review": 1, "submitted": 1}.get(status, 0), False)
        for status in Status.values
    ]
    assert shown(response, "filing_type") == [("filing", 4, False), ("registration", 1, False)]
    assert shown(response, "scope") == [("general", 3, False), ("industry", 2, False)]
    assert shown(response, "sector") == [("finance", 2, False), ("search", 1, False)]
    # The long lists leave out what selects nothing (the empty batch, the other regions).
    assert shown(response, "jurisdiction") == [("BJ", 2, False), ("SH", 2, False), ("ZJ", 1, False)]
    assert shown(response, "batch") == [
        (register["second"].slug, 1, False),
        (register["first"].slug, 2, False),
    ]


def test_each_facet_counts_with_the_other_filters_but_not_its_own(client, register):
    response = client.get(models_url("?jurisdiction=BJ&status=approved"))

    assert response.context["page"].paginator.count == 2
    # Approved models in each region: Beijing's checked, Shanghai's still there to add.
    assert shown(response, "jurisdiction") == [("BJ", 2, True), ("SH", 1, False)]
    # Beijing's models in each status: only approvals, the rest shown at 0.
    assert shown(response, "status") == [
        (status, 2 if status == "approved" else 0, status == "approved") for status in Status.values
    ]
    assert shown(response, "filing_type") == [("filing", 1, False), ("registration", 1, False)]
    assert shown(response, "scope") == [("general", 1, False), ("industry", 1, False)]
    assert shown(response, "sector") == [("finance", 1, False), ("search", 1, False)]
    assert shown(response, "batch") == [
        (register["second"].slug, 1, False),
        (register["first"].slug, 1, False),
    ]


def test_several_values_of_one_facet_add_up_and_keep_each_others_counts(client, register):
    response = client.get(models_url("?jurisdiction=BJ&jurisdiction=ZJ"))

    assert response.context["page"].paginator.count == 3
    assert shown(response, "jurisdiction") == [("BJ", 2, True), ("ZJ", 1, True), ("SH", 2, False)]
    assert shown(response, "sector") == [("finance", 2, False), ("search", 1, False)]


def test_a_checked_choice_that_selects_nothing_still_shows_with_zero(client, register):
    empty = register["empty"].slug
    response = client.get(models_url(f"?batch={empty}&sector=robotics"))

    assert response.context["page"].paginator.count == 0
    assert shown(response, "batch")[0] == (empty, 0, True)
    assert shown(response, "sector") == [("robotics", 0, True)]
    assert (
        f'<input type="checkbox" name="batch" value="{empty}" checked> '
        '<span class="facet-label">2024-08-30 Empty list</span> '
        '<span class="facet-count">0</span>'
    ) in response.text


def test_the_checked_choices_are_checked_in_the_form_and_the_others_not(client, register):
    response = client.get(models_url("?status=approved&status=submitted&filing_type=filing"))

    html = response.text
    assert '<input type="checkbox" name="status" value="approved" checked>' in html
    assert '<input type="checkbox" name="status" value="submitted" checked>' in html
    assert '<input type="checkbox" name="status" value="rejected">' in html
    assert '<input type="checkbox" name="filing_type" value="filing" checked>' in html
    assert '<input type="checkbox" name="filing_type" value="registration">' in html
    # The panel is open on the choices made; the multi-select boxes are gone.
    assert '<details class="filter-more" open>' in html
    assert "<select" not in html.split('class="filters"')[1].split("</form>")[0]


def test_a_search_alone_leaves_the_filter_panel_closed(client, register):
    response = client.get(models_url("?q=ERNIE"))

    assert '<details class="filter-more">' in response.text
    assert shown(response, "jurisdiction") == [("BJ", 1, False)]


def test_a_zero_count_choice_of_a_short_list_is_greyed(client, register):
    response = client.get(models_url())

    assert (
        '<label class="facet-option facet-zero" data-match="Rejected "><input type="checkbox" '
        'name="status" value="rejected">'
    ) in response.text


def test_the_long_lists_carry_both_names_and_the_code_to_narrow_by(client, register):
    response = client.get(models_url())

    assert 'data-match="Beijing 北京 Beijing BJ"' in response.text
    first = register["first"]
    assert f'data-match="2023-08-31 First list 第一批 First list {first.slug}"' in response.text
    assert '<label for="narrow-jurisdiction">Find a jurisdiction</label>' in response.text
    assert '<div class="narrow" hidden>' in response.text
    assert 'id="narrow-batch" autocomplete="off" aria-controls="options-batch"' in response.text


def test_the_facets_speak_chinese(client, register):
    with translation.override("zh-hans"):
        url = models_url()
    response = client.get(url)

    assert '<span class="facet-label">北京</span> <span class="facet-count">2</span>' in (
        response.text
    )
    assert '<span class="facet-label">2023-08-31 第一批</span>' in response.text
    assert 'data-match="北京 北京 Beijing BJ"' in response.text


def test_the_page_loads_its_script_from_a_file_deferred(client, register):
    response = client.get(models_url())

    assert '<script src="/static/js/facets.js" defer></script>' in response.text
    assert "<script>" not in response.text


# The page's queries, pinned


def test_the_listing_with_facets_costs_a_fixed_number_of_queries(
    client, register, django_assert_num_queries
):
    url = models_url("?jurisdiction=BJ&status=approved")
    # The register's stamp; the batches (form and coverage line); the jurisdiction named
    # in the filter; the coverage line's entered counts; one GROUP BY for each of the six
    # facets; the jurisdictions, to name their choices; the count; the page's ids; its rows.
    with django_assert_num_queries(14):
        client.get(url)
    # The entered counts and the facets' numbers are cached until the register changes;
    # another sort or page counts the same.
    with django_assert_num_queries(7):
        client.get(url)
    with django_assert_num_queries(7):
        client.get(f"{url}&sort=name")
    # So do the same filters in another order.
    with django_assert_num_queries(7):
        client.get(models_url("?status=approved&jurisdiction=BJ"))
    # Other values count afresh (the entered counts stay cached).
    with django_assert_num_queries(13):
        client.get(models_url("?status=approved&status=rejected&jurisdiction=BJ"))
    with django_assert_num_queries(7):
        client.get(models_url("?jurisdiction=BJ&status=rejected&status=approved"))


def test_the_query_count_does_not_grow_with_the_rows_or_the_choices(
    client, register, django_assert_num_queries
):
    for i in range(12):
        ApprovedModelFactory(
            applicant=ApplicantFactory(jurisdiction=jurisdiction(["GD", "HB", "SC"][i % 3])),
            batch=BatchFactory(),
            sector=f"sector {i}",
        )
    with django_assert_num_queries(13):
        response = client.get(models_url())
    assert len(shown(response, "batch")) == 14
    assert len(shown(response, "sector")) == 14


def test_the_counts_follow_a_change_to_the_register(client, register):
    url = models_url("?status=approved")
    assert ("BJ", 2, False) in shown(client.get(url), "jurisdiction")

    ApprovedModelFactory(applicant=register["baidu"], batch=register["first"])

    assert ("BJ", 3, False) in shown(client.get(url), "jurisdiction")


# The same models as CSV, JSON and Atom


def test_the_format_links_carry_the_parameters_each_target_takes(client, register):
    response = client.get(models_url("?status=approved&jurisdiction=BJ&sort=name&page=1"))

    assert response.context["formats"] == {
        "csv": "/models/export.csv?status=approved&jurisdiction=BJ&sort=name",
        "json": "/api/v1/models/?status=approved&jurisdiction=BJ&sort=name",
        "atom": "/feeds/changes/?status=approved&jurisdiction=BJ",
    }
    html = response.text
    assert (
        '<a class="button-link" href="/models/export.csv?status=approved&amp;jurisdiction=BJ'
        '&amp;sort=name" download>Export CSV</a>'
    ) in html
    assert (
        '<a href="/api/v1/models/?status=approved&amp;jurisdiction=BJ&amp;sort=name" '
        'type="application/json">JSON (API)</a>'
    ) in html
    assert (
        '<link rel="alternate" type="application/atom+xml" '
        'href="/feeds/changes/?status=approved&amp;jurisdiction=BJ"'
    ) in html


def test_each_format_link_is_accepted_and_selects_the_same_models(client, register):
    response = client.get(models_url("?status=approved&jurisdiction=BJ&sort=name&page=1"))
    formats = response.context["formats"]

    api = client.get(formats["json"])
    assert api.status_code == 200
    assert sorted(row["name_en"] for row in api.json()["results"]) == ["Baidu Answers", "ERNIE Bot"]
    csv = client.get(formats["csv"])
    assert csv.status_code == 200
    assert len(b"".join(csv.streaming_content).decode().strip().splitlines()) == 1 + 2
    feed = client.get(formats["atom"])
    assert feed.status_code == 200
    assert feed["Content-Type"].startswith("application/atom+xml")


def test_the_format_links_of_the_unfiltered_listing_have_no_query(client, register):
    response = client.get(models_url())

    assert response.context["formats"] == {
        "csv": "/models/export.csv",
        "json": "/api/v1/models/",
        "atom": "/feeds/changes/",
    }


def test_an_applicant_page_links_its_models_in_each_format(client, register):
    slug = register["baidu"].slug
    response = client.get(register["baidu"].get_absolute_url())

    assert response.context["formats"] == {
        "csv": f"/models/export.csv?applicant={slug}",
        "json": f"/api/v1/models/?applicant={slug}",
        "atom": f"/feeds/changes/?applicant={slug}",
    }
    assert f'<a href="/api/v1/models/?applicant={slug}" type="application/json">' in (response.text)
    assert len(client.get(response.context["formats"]["json"]).json()["results"]) == 2


def test_a_batch_page_links_its_models_in_each_format(client, register):
    slug = register["first"].slug
    response = client.get(register["first"].get_absolute_url())

    assert response.context["formats"] == {
        "csv": f"/models/export.csv?batch={slug}",
        "json": f"/api/v1/models/?batch={slug}",
        "atom": f"/feeds/changes/?batch={slug}",
    }
    assert 'type="application/atom+xml">Changes to these models (Atom)</a>' in response.text
    rows = client.get(response.context["formats"]["json"]).json()["results"]
    assert sorted(row["name_en"] for row in rows) == ["ABAB", "ERNIE Bot"]


# Bad input


def test_a_bad_date_is_explained_marked_and_left_out_of_counts_and_links(client, register):
    response = client.get(models_url("?submitted_after=2024-13-01&status=approved"))

    assert response.status_code == 200
    assert "Ignored Submitted from “2024-13-01”: not a date in the form YYYY-MM-DD." in (
        response.text
    )
    assert (
        '<input type="date" id="id_submitted_after" name="submitted_after" '
        'value="2024-13-01" aria-invalid="true">'
    ) in response.text
    assert (
        '<input type="date" id="id_approved_before" name="approved_before" value="">'
    ) in response.text
    assert shown(response, "jurisdiction") == [("BJ", 2, False), ("SH", 1, False)]
    assert response.context["formats"]["csv"] == "/models/export.csv?status=approved"
    assert response.context["formats"]["json"] == "/api/v1/models/?status=approved"


def test_a_good_date_narrows_the_counts_and_fills_its_input(client, register):
    response = client.get(models_url("?submitted_after=2024-01-10"))

    assert 'name="submitted_after" value="2024-01-10">' in response.text
    # Every factory model was submitted on 2024-01-10.
    assert sum(count for _value, count, _checked in shown(response, "jurisdiction")) == 5
    response = client.get(models_url("?submitted_after=2024-01-11"))
    assert shown(response, "jurisdiction") == []
    assert 'id="options-jurisdiction"' not in response.text


@pytest.mark.parametrize(
    "query",
    ["jurisdiction=XX", "batch=no-such-batch", "status=bogus", "scope=everything"],
)
def test_an_unknown_choice_is_explained_and_counts_as_if_not_given(client, register, query):
    response = client.get(models_url(f"?{query}"))

    assert response.status_code == 200
    assert "Ignored " in response.text
    facets = response.context["facets"].values()
    assert [o.value for facet in facets for o in facet.options if o.checked] == []
    assert shown(response, "jurisdiction") == [("BJ", 2, False), ("SH", 2, False), ("ZJ", 1, False)]
    assert response.context["formats"]["json"] == "/api/v1/models/"


def test_a_search_the_form_cut_still_links_a_search_the_api_takes(client, register):
    response = client.get(models_url(f"?q={'a' * 250}&sort=bogus"))

    assert response.status_code == 200
    json_url = response.context["formats"]["json"]
    assert json_url == f"/api/v1/models/?q={'a' * 200}"
    assert client.get(json_url).status_code == 200
