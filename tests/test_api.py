"""The JSON API under /api/v1/, through HTTP: resources, public fields, strict filters,
cursor paging, conditional caching, CORS, query counts, the rate limit, the schema and
the docs page."""

import datetime
import json
import math
import re
from urllib.parse import urlencode, urlsplit

import pytest
from django.conf import settings
from django.core.cache import cache, caches
from django.core.management import call_command
from django.http import QueryDict
from django.test import RequestFactory, override_settings
from django.utils import timezone, translation
from django.utils.csp import build_policy
from openapi_spec_validator import validate
from rest_framework.request import Request

from tests.factories import (
    AIModelFactory,
    ApplicantFactory,
    ApprovedModelFactory,
    BatchFactory,
    UserFactory,
    jurisdiction,
)
from tracker import limits, workflow
from tracker.api import pagination, serializers
from tracker.api.throttling import ClientRateThrottle
from tracker.api.urls import router
from tracker.models import AIModel, FilingType, Scope, Source, Status, StatusChange
from tracker.public.filters import AIModelFilter

pytestmark = pytest.mark.django_db

API = "/api/v1"
PROBLEM = "application/problem+json"
NOTE_MARKER = "INTERNAL-7f3a"
STAFF_MARKER = "staffer-b91c"


def get(client, path, params=None, **headers):
    """GET ``path`` with ``params`` (a dict, lists for repeated values)."""
    if params:
        path = f"{path}?{urlencode(params, doseq=True)}"
    return client.get(path, **headers)


def ok(response):
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json"
    return response.json()


def problem(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["status"] == status
    assert body["type"] == "about:blank"
    return body


def refused(response):
    """The names of the parameters a 400 answer refuses, in its order."""
    body = problem(response, 400)
    return [param["name"] for param in body["invalid_params"]]


def slugs(body):
    return [row["slug"] for row in body["results"]]


def filterset_slugs(params):
    """The slugs of /models/ for ``params``, in the order the filter set gives."""
    return [m.slug for m in AIModelFilter(QueryDict(urlencode(params, doseq=True))).qs]


@pytest.fixture
def register():
    """A small register with one record for each thing a filter can tell apart."""
    baidu = ApplicantFactory(
        name_zh="北京百度网讯科技有限公司", name_en="Baidu", jurisdiction=jurisdiction("BJ")
    )
    minimax = ApplicantFactory(
        name_zh="上海稀宇科技有限公司", name_en="MiniMax", jurisdiction=jurisdiction("SH")
    )
    first = BatchFactory(title_en="First batch", announced_on=datetime.date(2023, 8, 31))
    second = BatchFactory(title_en="Second batch", announced_on=datetime.date(2024, 4, 2))
    ernie = ApprovedModelFactory(
        name_zh="文心一言",
        name_en="ERNIE Bot",
        applicant=baidu,
        filing_number="Beijing-WenXinYiYan-20230821",
        approved_on=datetime.date(2023, 8, 31),
        approved_on_estimated=True,
        submitted_on=datetime.date(2023, 5, 1),
        batch=first,
        sector="search",
        description="A chatbot.",
        aliases="文心\nERNIE",
        internal_notes=NOTE_MARKER,
    )
    abab = ApprovedModelFactory(
        name_zh="ABAB大模型",
        name_en="ABAB",
        applicant=minimax,
        filing_number="Shanghai-ABAB-20230821",
        approved_on=datetime.date(2023, 8, 31),
        submitted_on=None,
        batch=first,
        sector="entertainment",
    )
    app = ApprovedModelFactory(
        name_zh="百度问答助手",
        name_en="Baidu Answers",
        applicant=baidu,
        filing_type=FilingType.REGISTRATION,
        scope=Scope.INDUSTRY,
        upstream=ernie,
        filing_number="Beijing-REG-2024-0001",
        approved_on=datetime.date(2024, 3, 20),
        submitted_on=datetime.date(2024, 1, 5),
        batch=second,
    )
    pending = AIModelFactory(
        name_zh="海螺",
        name_en="Hailuo",
        applicant=minimax,
        status=Status.PROVINCIAL_REVIEW,
        submitted_on=datetime.date(2024, 2, 1),
        internal_notes=NOTE_MARKER,
    )
    staff = UserFactory(username=STAFF_MARKER)
    workflow.transition(
        pending,
        Status.NATIONAL_REVIEW,
        by=staff,
        on=datetime.date(2024, 3, 1),
        note="Passed the provincial review.",
    )
    rejected = AIModelFactory(
        name_zh="", name_en="Rejected One", applicant=minimax, status=Status.REJECTED
    )
    source = Source.objects.create(
        title="Baidu opens ERNIE Bot",
        publisher="Example News",
        url="https://news.example.com/ernie",
        published_on=datetime.date(2023, 9, 1),
    )
    source.ai_models.add(ernie)
    return {
        "baidu": baidu,
        "minimax": minimax,
        "first": first,
        "second": second,
        "ernie": ernie,
        "abab": abab,
        "app": app,
        "pending": pending,
        "rejected": rejected,
        "staff": staff,
    }


def slugs_of(register, *names):
    return {register[name].slug for name in names}


# Resources


def test_the_api_root_lists_the_four_resources(client):
    body = ok(client.get(f"{API}/"))

    assert body == {
        "models": "http://testserver/api/v1/models/",
        "applicants": "http://testserver/api/v1/applicants/",
        "batches": "http://testserver/api/v1/batches/",
        "changes": "http://testserver/api/v1/changes/",
    }


def test_the_models_listing_gives_every_model_newest_approval_first(client, register):
    body = ok(client.get(f"{API}/models/"))

    assert body["count"] == 5
    assert body["count_capped"] is False
    assert body["next"] is None
    assert body["first"] == "http://testserver/api/v1/models/"
    assert slugs(body) == filterset_slugs({})
    assert slugs(body)[:3] == [register["app"].slug, register["ernie"].slug, register["abab"].slug]


def test_a_model_record_has_its_history_registrations_and_sources(client, register):
    ernie = register["ernie"]

    body = ok(client.get(f"{API}/models/{ernie.slug}/"))

    assert body["slug"] == ernie.slug
    assert body["url"] == f"http://testserver/api/v1/models/{ernie.slug}/"
    assert body["html_url"] == f"http://testserver/models/{ernie.slug}/"
    assert body["description"] == "A chatbot."
    assert body["aliases"] == ["文心", "ERNIE"]
    assert body["history"] == [
        {
            "id": ernie.history.get().pk,
            "from_status": "",
            "to_status": "approved",
            "to_status_label": "Approved",
            "happened_on": "2023-08-31",
            "recorded_at": body["history"][0]["recorded_at"],
            "note": "",
            "reverses": None,
        }
    ]
    app = register["app"]
    assert body["registrations"] == [
        {
            "slug": app.slug,
            "name_zh": "百度问答助手",
            "name_en": "Baidu Answers",
            "filing_number": "Beijing-REG-2024-0001",
            "url": f"http://testserver/api/v1/models/{app.slug}/",
        }
    ]
    assert body["sources"] == [
        {
            "title": "Baidu opens ERNIE Bot",
            "publisher": "Example News",
            "url": "https://news.example.com/ernie",
            "published_on": "2023-09-01",
        }
    ]


def test_a_model_history_lists_every_step_oldest_first_with_public_notes(client, register):
    body = ok(client.get(f"{API}/models/{register['pending'].slug}/"))

    assert [
        (s["from_status"], s["to_status"], s["happened_on"], s["note"]) for s in body["history"]
    ] == [
        ("", "provincial_review", "2024-02-01", ""),
        ("provincial_review", "national_review", "2024-03-01", "Passed the provincial review."),
    ]


def test_the_applicants_listing_is_in_the_order_they_were_entered(client, register):
    body = ok(client.get(f"{API}/applicants/"))

    assert slugs(body) == [register["baidu"].slug, register["minimax"].slug]
    baidu = body["results"][0]
    assert baidu["models"] == f"http://testserver/api/v1/models/?applicant={register['baidu'].slug}"
    assert baidu["jurisdiction"] == {"code": "BJ", "name_zh": "北京", "name_en": "Beijing"}
    assert baidu["parent"] is None


def test_an_applicant_record_counts_its_models_by_every_status(client, register):
    minimax = register["minimax"]

    body = ok(client.get(f"{API}/applicants/{minimax.slug}/"))

    assert body["slug"] == minimax.slug
    assert body["name_en"] == "MiniMax"
    assert body["model_counts"] == {
        "submitted": 0,
        "provincial_review": 0,
        "supplement_requested": 0,
        "national_review": 1,
        "approved": 1,
        "rejected": 1,
        "withdrawn": 0,
        "suspended": 0,
        "cancelled": 0,
        "revoked": 0,
    }
    assert list(body["model_counts"]) == Status.values


def test_an_applicant_with_a_parent_links_to_it(client):
    parent = ApplicantFactory(name_en="Group")
    child = ApplicantFactory(name_en="Subsidiary", parent=parent)

    body = ok(client.get(f"{API}/applicants/{child.slug}/"))

    assert body["parent"] == f"http://testserver/api/v1/applicants/{parent.slug}/"


def test_the_batches_listing_is_newest_first_and_a_batch_has_its_record(client, register):
    body = ok(client.get(f"{API}/batches/"))

    assert slugs(body) == [register["second"].slug, register["first"].slug]
    first = register["first"]
    record = ok(client.get(f"{API}/batches/{first.slug}/"))
    assert record["slug"] == first.slug
    assert record["title_en"] == "First batch"
    assert record["announced_on"] == "2023-08-31"
    assert record["models"] == f"http://testserver/api/v1/models/?batch={first.slug}"
    assert record["url"] == f"http://testserver/api/v1/batches/{first.slug}/"
    assert record["html_url"] == f"http://testserver/batches/{first.slug}/"


def test_the_changes_listing_gives_every_step_newest_recorded_first(client, register):
    body = ok(client.get(f"{API}/changes/"))

    expected = list(StatusChange.objects.order_by("-recorded_at", "pk"))
    assert body["count"] == StatusChange.objects.count() == 7
    assert [(r["model"]["slug"], r["to_status"]) for r in body["results"]] == [
        (change.model.slug, change.to_status) for change in expected
    ]
    recorded = [r["recorded_at"] for r in body["results"]]
    assert recorded == sorted(recorded, reverse=True)
    step = next(r for r in body["results"] if r["to_status"] == "national_review")
    pending = register["pending"]
    change = StatusChange.objects.get(model=pending, to_status="national_review")
    assert step == {
        "id": change.pk,
        "kind": "status",
        "model": {
            "slug": pending.slug,
            "name_zh": "海螺",
            "name_en": "Hailuo",
            "filing_number": "",
            "url": f"http://testserver/api/v1/models/{pending.slug}/",
        },
        "html_url": f"http://testserver/models/{pending.slug}/",
        "from_status": "provincial_review",
        "to_status": "national_review",
        "to_status_label": "National review",
        "happened_on": "2024-03-01",
        "recorded_at": step["recorded_at"],
        "note": "Passed the provincial review.",
        "reverses": None,
        "field": None,
        "field_label": None,
        "old_value": None,
        "new_value": None,
    }


@pytest.mark.parametrize("resource", ["models", "applicants", "batches"])
def test_an_unknown_slug_is_a_404_problem_document(client, register, resource):
    response = client.get(f"{API}/{resource}/no-such-slug/")

    body = problem(response, 404)
    assert body["title"] == "Not found"
    assert body["instance"] == f"/api/v1/{resource}/no-such-slug/"
    assert response["Access-Control-Allow-Origin"] == "*"


# Public fields only


def test_internal_notes_and_staff_names_reach_no_answer(client, register):
    pending = register["pending"]
    paths = [
        f"{API}/models/",
        f"{API}/models/?status=national_review",
        f"{API}/models/{pending.slug}/",
        f"{API}/models/{register['ernie'].slug}/",
        f"{API}/applicants/",
        f"{API}/applicants/{pending.applicant.slug}/",
        f"{API}/batches/",
        f"{API}/batches/{register['first'].slug}/",
        f"{API}/changes/",
        f"{API}/changes/?jurisdiction=SH",
        "/feeds/changes/",
    ]
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, path
        text = response.content.decode()
        assert NOTE_MARKER not in text, path
        assert STAFF_MARKER not in text, path
    # The records those answers leave the markers out of are in them.
    assert pending.slug in client.get(f"{API}/changes/").content.decode()
    assert "Passed the provincial review." in client.get("/feeds/changes/").content.decode()


def declared(serializer_class):
    return set(serializer_class().fields)


def test_each_answer_has_exactly_the_fields_its_serializer_declares(client, register):
    ernie, app = register["ernie"], register["app"]
    models = ok(client.get(f"{API}/models/"))
    for row in models["results"]:
        assert set(row) == declared(serializers.AIModelSerializer)
    row = next(r for r in models["results"] if r["slug"] == app.slug)
    assert set(row["applicant"]) == declared(serializers.ApplicantRefSerializer)
    assert set(row["jurisdiction"]) == declared(serializers.JurisdictionSerializer)
    assert set(row["batch"]) == declared(serializers.BatchRefSerializer)
    assert set(row["upstream"]) == declared(serializers.ModelRefSerializer)

    detail = ok(client.get(f"{API}/models/{ernie.slug}/"))
    assert set(detail) == declared(serializers.AIModelDetailSerializer)
    assert set(detail["history"][0]) == declared(serializers.StepSerializer)
    assert set(detail["registrations"][0]) == declared(serializers.ModelRefSerializer)
    assert set(detail["sources"][0]) == declared(serializers.SourceSerializer)

    applicants = ok(client.get(f"{API}/applicants/"))
    assert set(applicants["results"][0]) == declared(serializers.ApplicantSerializer)
    applicant = ok(client.get(f"{API}/applicants/{ernie.applicant.slug}/"))
    assert set(applicant) == declared(serializers.ApplicantDetailSerializer)

    batches = ok(client.get(f"{API}/batches/"))
    assert set(batches["results"][0]) == declared(serializers.BatchSerializer)
    batch = ok(client.get(f"{API}/batches/{ernie.batch.slug}/"))
    assert set(batch) == declared(serializers.BatchDetailSerializer)

    changes = ok(client.get(f"{API}/changes/"))
    for row in changes["results"]:
        assert set(row) == declared(serializers.ChangeSerializer)
        assert set(row["model"]) == declared(serializers.ModelRefSerializer)


@pytest.mark.parametrize("resource", ["models", "applicants", "batches", "changes"])
def test_a_listing_answers_with_the_paging_envelope(client, register, resource):
    body = ok(client.get(f"{API}/{resource}/"))

    assert list(body) == ["count", "count_capped", "next", "first", "data_changed_at", "results"]


# Filters


@pytest.mark.parametrize(
    "params, expected",
    [
        ({"status": "approved"}, ("ernie", "abab", "app")),
        ({"status": ["national_review", "rejected"]}, ("pending", "rejected")),
        ({"filing_type": "registration"}, ("app",)),
        ({"filing_type": "filing"}, ("ernie", "abab", "pending", "rejected")),
        ({"scope": "industry"}, ("app",)),
        ({"sector": ["search", "entertainment"]}, ("ernie", "abab")),
        ({"sector": "search"}, ("ernie",)),
        ({"jurisdiction": "SH"}, ("abab", "pending", "rejected")),
        ({"jurisdiction": "BJ"}, ("ernie", "app")),
        ({"q": "文心"}, ("ernie",)),
        ({"q": "minimax"}, ("abab", "pending", "rejected")),
        ({"q": "WenXinYiYan"}, ("ernie",)),
        ({"submitted_after": "2024-01-05"}, ("app", "pending", "rejected")),
        ({"submitted_before": "2023-12-31"}, ("ernie",)),
        ({"approved_after": "2024-01-01"}, ("app",)),
        ({"approved_before": "2023-08-31"}, ("ernie", "abab")),
        ({"approved_after": "2023-08-31", "approved_before": "2023-08-31"}, ("ernie", "abab")),
        ({"jurisdiction": "BJ", "filing_type": "registration"}, ("app",)),
        ({"status": "approved", "jurisdiction": "SH", "sort": "name"}, ("abab",)),
    ],
)
def test_each_models_filter_narrows_exactly(client, register, params, expected):
    body = ok(get(client, f"{API}/models/", params))

    assert set(slugs(body)) == slugs_of(register, *expected)
    assert body["count"] == len(expected)
    assert slugs(body) == filterset_slugs(params)


def test_the_applicant_and_batch_filters_take_slugs(client, register):
    body = ok(get(client, f"{API}/models/", {"applicant": register["baidu"].slug}))
    assert set(slugs(body)) == slugs_of(register, "ernie", "app")
    body = ok(get(client, f"{API}/models/", {"batch": register["first"].slug}))
    assert set(slugs(body)) == slugs_of(register, "ernie", "abab")
    both = {"batch": [register["first"].slug, register["second"].slug]}
    body = ok(get(client, f"{API}/models/", both))
    assert set(slugs(body)) == slugs_of(register, "ernie", "abab", "app")


def test_the_models_sort_by_name(client, register):
    body = ok(get(client, f"{API}/models/", {"sort": "name"}))

    assert [row["name_en"] for row in body["results"]] == [
        "ABAB",
        "Baidu Answers",
        "ERNIE Bot",
        "Hailuo",
        "Rejected One",
    ]
    body = ok(get(client, f"{API}/models/", {"sort": "-name"}))
    assert [row["name_en"] for row in body["results"]][0] == "Rejected One"


@pytest.mark.parametrize(
    "params, names",
    [
        ({"status": "aproved"}, ["status"]),
        ({"filing_type": "model"}, ["filing_type"]),
        ({"scope": "everything"}, ["scope"]),
        ({"jurisdiction": "XX"}, ["jurisdiction"]),
        ({"applicant": "nobody"}, ["applicant"]),
        ({"batch": "batch-99"}, ["batch"]),
        ({"approved_after": "2024-13-45"}, ["approved_after"]),
        ({"approved_before": "yesterday"}, ["approved_before"]),
        ({"submitted_after": "31/12/2024"}, ["submitted_after"]),
        ({"submitted_before": "2024-02-30"}, ["submitted_before"]),
        ({"sort": "bogus"}, ["sort"]),
        ({"sort": "internal_notes"}, ["sort"]),
        ({"sort": "name,status"}, ["sort"]),
        ({"sort": ["name", "status"]}, ["sort"]),
        ({"q": "x" * 201}, ["q"]),
        ({"q": ["ernie", "bot"]}, ["q"]),
        ({"approved_after": ["2024-01-01", "2024-02-01"]}, ["approved_after"]),
        ({"stauts": "approved"}, ["stauts"]),
        ({"page": "2"}, ["page"]),
        ({"status": ["approved", "aproved"]}, ["status"]),
        ({"sector": [f"s{i}" for i in range(51)]}, ["sector"]),
        ({"page_size": "0"}, ["page_size"]),
        ({"page_size": "1001"}, ["page_size"]),
        ({"page_size": "abc"}, ["page_size"]),
        ({"page_size": "-1"}, ["page_size"]),
        ({"cursor": "garbage"}, ["cursor"]),
        ({"cursor": ""}, ["cursor"]),
        # Several bad values of the filters: each is named.
        (
            {
                "status": "aproved",
                "jurisdiction": "XX",
                "approved_after": "2024-13-45",
                "sort": "bogus",
            },
            ["status", "jurisdiction", "approved_after", "sort"],
        ),
        ({"stauts": "approved", "scope": "everything"}, ["stauts", "scope"]),
    ],
)
def test_a_bad_parameter_is_a_400_naming_it(client, register, params, names):
    response = get(client, f"{API}/models/", params)

    assert sorted(refused(response)) == sorted(names)
    body = response.json()
    assert body["title"] == "Bad request"
    assert body["instance"] == f"/api/v1/models/?{urlencode(params, doseq=True)}"
    for param in body["invalid_params"]:
        assert param["reason"].startswith(param["name"])


def test_a_search_of_exactly_the_length_limit_is_taken(client, register):
    body = ok(get(client, f"{API}/models/", {"q": "x" * 200}))

    assert body["results"] == []


def test_a_refusal_names_the_parameter_and_says_why(client, register):
    response = get(client, f"{API}/models/", {"status": "aproved", "stauts": "approved"})

    assert problem(response, 400)["invalid_params"] == [
        {
            "name": "stauts",
            "reason": "stauts: not a parameter of this list; it takes q, status, filing_type, "
            "scope, sector, jurisdiction, applicant, batch, submitted_after, submitted_before, "
            "approved_after, approved_before, sort, cursor, page_size.",
        },
        {"name": "status", "reason": "status “aproved”: not a known value."},
    ]


@pytest.mark.parametrize(
    "params, names",
    [
        ({"q": "x" * 201, "status": "aproved"}, ["q", "status"]),
        ({"sort": ["name", "status"], "jurisdiction": "XX"}, ["sort", "jurisdiction"]),
    ],
)
def test_a_repeated_or_overlong_parameter_does_not_hide_other_bad_values(
    client, register, params, names
):
    assert sorted(refused(get(client, f"{API}/models/", params))) == sorted(names)


def test_bad_paging_parameters_are_named_with_bad_filters(client, register):
    params = {"status": "aproved", "page_size": "0", "cursor": "garbage"}

    assert sorted(refused(get(client, f"{API}/models/", params))) == [
        "cursor",
        "page_size",
        "status",
    ]


def test_a_cursor_of_another_query_is_refused(client, register):
    first = ok(get(client, f"{API}/models/", {"status": "approved", "page_size": 1}))
    cursor = QueryDict(urlsplit(first["next"]).query)["cursor"]

    other_filter = {"status": "rejected", "page_size": 1, "cursor": cursor}
    assert refused(get(client, f"{API}/models/", other_filter)) == ["cursor"]
    other_sort = {"status": "approved", "sort": "name", "page_size": 1, "cursor": cursor}
    assert refused(get(client, f"{API}/models/", other_sort)) == ["cursor"]
    other_list = {"status": "approved", "page_size": 1, "cursor": cursor}
    assert refused(get(client, f"{API}/changes/", other_list)) == ["cursor"]
    other_language = {"status": "approved", "page_size": 1, "cursor": cursor}
    response = get(client, f"{API}/models/", other_language, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert refused(response) == ["cursor"]
    # Another page size is the same query.
    same = {"status": "approved", "page_size": 2, "cursor": cursor}
    assert slugs(ok(get(client, f"{API}/models/", same))) == [
        register["ernie"].slug,
        register["abab"].slug,
    ]


def test_the_changes_refuse_sort_and_a_bad_since(client, register):
    assert refused(get(client, f"{API}/changes/", {"sort": "name"})) == ["sort"]
    assert refused(get(client, f"{API}/changes/", {"since": "last week"})) == ["since"]
    assert refused(get(client, f"{API}/changes/", {"since": "2024-13-01"})) == ["since"]
    assert refused(get(client, f"{API}/changes/", {"status": "aproved"})) == ["status"]
    both = {"sort": "-name", "since": "soon", "jurisdiction": "XX"}
    assert sorted(refused(get(client, f"{API}/changes/", both))) == [
        "jurisdiction",
        "since",
        "sort",
    ]


def change_keys(body):
    return {(row["model"]["slug"], row["to_status"]) for row in body["results"]}


def test_the_models_filters_narrow_the_changes_to_those_models_steps(client, register):
    body = ok(get(client, f"{API}/changes/", {"jurisdiction": "BJ"}))
    assert change_keys(body) == {
        (register["ernie"].slug, "approved"),
        (register["app"].slug, "approved"),
    }
    assert body["count"] == 2

    body = ok(get(client, f"{API}/changes/", {"status": "rejected"}))
    assert change_keys(body) == {
        (register["rejected"].slug, "provincial_review"),
        (register["rejected"].slug, "rejected"),
    }
    body = ok(get(client, f"{API}/changes/", {"q": "海螺"}))
    assert change_keys(body) == {
        (register["pending"].slug, "provincial_review"),
        (register["pending"].slug, "national_review"),
    }


def test_since_starts_the_changes_at_a_date_or_a_moment(client, register):
    old = StatusChange.objects.filter(model=register["ernie"]).get()
    StatusChange.objects.filter(pk=old.pk).update(
        recorded_at=datetime.datetime(2024, 1, 1, 12, 0, tzinfo=datetime.UTC)
    )
    everything_else = {(c.model.slug, c.to_status) for c in StatusChange.objects.exclude(pk=old.pk)}

    for since in ["2024-01-02", "2024-01-01T12:00:01Z", "2024-01-01T20:00:01+08:00"]:
        body = ok(get(client, f"{API}/changes/", {"since": since}))
        assert change_keys(body) == everything_else, since
    for since in ["2024-01-01", "2024-01-01T12:00:00Z", "2024-01-01T20:00:00"]:
        body = ok(get(client, f"{API}/changes/", {"since": since}))
        assert change_keys(body) == everything_else | {(old.model.slug, "approved")}, since
    # With a filter too.
    body = ok(get(client, f"{API}/changes/", {"since": "2024-01-02", "jurisdiction": "BJ"}))
    assert change_keys(body) == {(register["app"].slug, "approved")}


def test_the_applicants_search_either_name_and_take_nothing_else(client, register):
    assert slugs(ok(get(client, f"{API}/applicants/", {"q": "稀宇"}))) == [register["minimax"].slug]
    assert slugs(ok(get(client, f"{API}/applicants/", {"q": "baidu"}))) == [register["baidu"].slug]
    assert slugs(ok(get(client, f"{API}/applicants/", {"q": "科技有限公司"}))) == [
        register["baidu"].slug,
        register["minimax"].slug,
    ]
    assert refused(get(client, f"{API}/applicants/", {"q": "x" * 201})) == ["q"]
    assert refused(get(client, f"{API}/applicants/", {"status": "approved"})) == ["status"]
    assert refused(get(client, f"{API}/applicants/", {"sort": "name"})) == ["sort"]


@pytest.mark.parametrize("params", [{"q": "first"}, {"sort": "-announced_on"}, {"status": "x"}])
def test_the_batches_take_no_parameter_but_paging(client, register, params):
    assert refused(get(client, f"{API}/batches/", params)) == list(params)


def test_the_batches_page_with_cursor_and_page_size(client, register):
    body = ok(get(client, f"{API}/batches/", {"page_size": 1}))
    assert slugs(body) == [register["second"].slug]
    assert slugs(ok(client.get(body["next"]))) == [register["first"].slug]


# Paging


def walk(client, path, params, page_size=3, **headers):
    """Every page of a listing, following next: (slugs in order, number of pages)."""
    url = f"{path}?{urlencode({**params, 'page_size': page_size}, doseq=True)}"
    seen, pages, counts = [], 0, set()
    while url is not None:
        body = ok(client.get(url, **headers))
        rows = slugs(body)
        # Every page but the last is full.
        if body["next"] is not None:
            assert len(rows) == page_size
        seen += rows
        counts.add(body["count"])
        pages += 1
        url = body["next"]
    return seen, pages, counts


@pytest.fixture
def many():
    """21 models across three jurisdictions, with equal names, equal approval dates,
    statuses of every kind and unknown submission dates."""
    applicants = [
        ApplicantFactory(name_en="Alpha", jurisdiction=jurisdiction("BJ")),
        ApplicantFactory(name_en="Beta", jurisdiction=jurisdiction("SH")),
        ApplicantFactory(name_en="Gamma", jurisdiction=jurisdiction("GD")),
    ]
    batches = [
        BatchFactory(announced_on=datetime.date(2024, 1, 31)),
        BatchFactory(announced_on=datetime.date(2024, 3, 31)),
    ]
    statuses = [
        Status.APPROVED,
        Status.SUBMITTED,
        Status.APPROVED,
        Status.NATIONAL_REVIEW,
        Status.REJECTED,
        Status.SUSPENDED,
        Status.APPROVED,
    ]
    models = []
    for i in range(21):
        status = statuses[i % len(statuses)]
        submitted = (
            None if i % 4 == 0 else datetime.date(2023, 1, 1) + datetime.timedelta(i * 7 % 30)
        )
        fields = {
            # Three models of three applicants share a name: the id breaks the tie.
            "name_en": "Same name" if i in (0, 5, 10) else f"Model {(i * 11) % 21:02d}",
            "name_zh": f"模型{(i * 5) % 21:02d}",
            "applicant": applicants[i % 3],
            "submitted_on": submitted,
            "status": status,
        }
        if status in (Status.APPROVED, Status.SUSPENDED):
            models.append(
                ApprovedModelFactory(
                    **fields,
                    approved_on=datetime.date(2024, 1, 1) + datetime.timedelta(i % 3),
                    batch=batches[i % 2],
                )
            )
        else:
            models.append(AIModelFactory(**fields))
    return models


SORTS = [
    None,
    "name",
    "-name",
    "submitted_on",
    "-submitted_on",
    "status",
    "-status",
    "approved_on",
    "applicant",
    "-jurisdiction",
    "batch",
    "days_in_review",
    "-days_in_review",
]


@pytest.mark.parametrize("sort", SORTS)
@pytest.mark.parametrize("where", [{}, {"jurisdiction": ["BJ", "SH"]}])
def test_walking_every_page_gives_each_row_once_in_the_listing_order(client, many, sort, where):
    params = {**where, **({"sort": sort} if sort else {})}
    expected = filterset_slugs(params)
    assert len(expected) == (21 if not where else 14)

    seen, pages, counts = walk(client, f"{API}/models/", params, page_size=3)

    assert seen == expected
    assert pages == math.ceil(len(expected) / 3)
    assert counts == {len(expected)}
    # The same order in one page.
    assert slugs(ok(get(client, f"{API}/models/", {**params, "page_size": 1000}))) == expected


def test_walking_by_submission_date_descending_puts_the_unknown_dates_last(client, many):
    seen, _pages, _counts = walk(client, f"{API}/models/", {"sort": "-submitted_on"}, 4)

    undated = {m.slug for m in many if m.submitted_on is None}
    assert len(undated) == 6
    assert set(seen[-6:]) == undated
    by_slug = {m.slug: m.submitted_on for m in many}
    dates = [by_slug[slug] for slug in seen[:-6]]
    assert dates == sorted(dates, reverse=True)


def test_walking_by_name_in_chinese_follows_the_chinese_names(client, many):
    headers = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}
    seen, _pages, _counts = walk(client, f"{API}/models/", {"sort": "name"}, 4, **headers)

    with translation.override("zh-hans"):
        expected = filterset_slugs({"sort": "name"})
    assert seen == expected
    with translation.override("en"):
        assert seen != filterset_slugs({"sort": "name"})


def test_the_default_page_size_is_100_and_at_most_1000(client):
    for i in range(101):
        AIModelFactory(name_en=f"Pending {i}")

    body = ok(client.get(f"{API}/models/"))
    assert len(body["results"]) == 100
    assert body["count"] == 101
    rest = ok(client.get(body["next"]))
    assert len(rest["results"]) == 1
    assert rest["next"] is None
    assert len(ok(get(client, f"{API}/models/", {"page_size": 1000}))["results"]) == 101
    assert refused(get(client, f"{API}/models/", {"page_size": 1001})) == ["page_size"]


def test_the_next_and_first_links_keep_the_query(client, register):
    params = {"status": "approved", "jurisdiction": "BJ", "page_size": 1}
    body = ok(get(client, f"{API}/models/", params))

    next_url = urlsplit(body["next"])
    assert (next_url.scheme, next_url.netloc, next_url.path) == (
        "http",
        "testserver",
        "/api/v1/models/",
    )
    query = QueryDict(next_url.query)
    assert {k: query.getlist(k) for k in query if k != "cursor"} == {
        "status": ["approved"],
        "jurisdiction": ["BJ"],
        "page_size": ["1"],
    }
    second = ok(client.get(body["next"]))
    assert second["first"] == body["first"]
    assert QueryDict(urlsplit(second["first"]).query).dict() == {
        "status": "approved",
        "jurisdiction": "BJ",
        "page_size": "1",
    }
    assert second["next"] is None


def test_walking_while_models_are_added_serves_no_row_twice_and_skips_none(client):
    originals = [
        ApprovedModelFactory(
            submitted_on=None, approved_on=datetime.date(2024, 1, 1) + datetime.timedelta(i % 6)
        )
        for i in range(12)
    ] + [AIModelFactory(status=Status.SUBMITTED) for _ in range(4)]
    original = {m.slug for m in originals}
    inserted = []  # (slug, the slug of the last row served when it was added)

    url = f"{API}/models/?page_size=3"
    seen = []
    step = 0
    while url is not None:
        body = ok(client.get(url))
        seen += slugs(body)
        url = body["next"]
        if url is None:
            break
        last = seen[-1]
        step += 1
        day = AIModel.objects.get(slug=last).approved_on or datetime.date(2024, 1, 3)
        added = [
            # Newer than any: before every cursor.
            ApprovedModelFactory(
                submitted_on=None, approved_on=datetime.date(2024, 6, 1) + datetime.timedelta(step)
            ),
            # Older than any: after the cursor while it is in the approvals.
            ApprovedModelFactory(
                submitted_on=None, approved_on=datetime.date(2023, 6, 1) - datetime.timedelta(step)
            ),
            # On the same day as the last row served, with a larger id.
            ApprovedModelFactory(submitted_on=None, approved_on=day),
            # Undated: last.
            AIModelFactory(status=Status.SUBMITTED),
        ]
        inserted += [(m.slug, last) for m in added]

    assert len(seen) == len(set(seen))
    assert original <= set(seen)
    final_order = filterset_slugs({})
    position = {slug: i for i, slug in enumerate(final_order)}
    # Served in the listing's order; an added row is served exactly when it was added after
    # the last row served by then.
    assert seen == sorted(seen, key=position.get)
    expected_added = {slug for slug, last in inserted if position[slug] > position[last]}
    assert set(seen) - original == expected_added
    assert len(expected_added) > 0
    assert any(position[slug] < position[last] for slug, last in inserted)


def test_walking_the_changes_gives_each_step_once_ties_and_new_steps_included(client):
    models = [AIModelFactory(status=Status.WITHDRAWN) for _ in range(5)]  # two steps each
    moments = [
        datetime.datetime(2024, 5, 1, 8, 0, tzinfo=datetime.UTC),
        datetime.datetime(2024, 5, 1, 8, 0, 0, 250000, tzinfo=datetime.UTC),
    ]
    # Steps recorded at the same moment, three by three: the id breaks the tie.
    for i, change in enumerate(StatusChange.objects.order_by("pk")):
        StatusChange.objects.filter(pk=change.pk).update(recorded_at=moments[i // 3 % 2])
    expected = list(
        StatusChange.objects.order_by("-recorded_at", "pk").values_list("pk", flat=True)
    )

    url = f"{API}/changes/?page_size=2&since=2024-01-01"
    seen = []
    while url is not None:
        body = ok(client.get(url))
        seen += [
            (row["model"]["slug"], row["to_status"], row["recorded_at"]) for row in body["results"]
        ]
        url = body["next"]
        # A step recorded now is newer than every cursor: it is not served in this walk.
        AIModelFactory(status=Status.SUBMITTED)

    changes = {c.pk: c for c in StatusChange.objects.select_related("model")}
    assert seen == [
        (
            changes[pk].model.slug,
            changes[pk].to_status,
            changes[pk].recorded_at.isoformat().replace("+00:00", "Z"),
        )
        for pk in expected
    ]
    assert len(seen) == 10
    assert {slug for slug, _status, _at in seen} == {m.slug for m in models}


def test_a_count_over_the_cap_says_so(client, register, monkeypatch):
    assert ok(client.get(f"{API}/models/"))["count_capped"] is False
    monkeypatch.setattr(pagination, "COUNT_CAP", 3)

    body = ok(get(client, f"{API}/models/", {"page_size": 2}))

    assert body["count"] == 3
    assert body["count_capped"] is True
    seen, _pages, counts = walk(client, f"{API}/models/", {}, page_size=2)
    assert len(seen) == 5
    assert counts == {3}
    body = ok(get(client, f"{API}/models/", {"status": "approved"}))
    assert (body["count"], body["count_capped"]) == (3, False)


# Caching and CORS


def test_an_answer_carries_validators_and_caching_headers(client, register):
    response = client.get(f"{API}/models/")

    assert response.status_code == 200
    assert re.fullmatch(r'"[0-9a-f]{32}"', response["ETag"])
    assert response["Last-Modified"].endswith(" GMT")
    cache_control = {part.strip() for part in response["Cache-Control"].split(",")}
    assert cache_control == {"public", "max-age=60"}
    vary = {part.strip() for part in response["Vary"].split(",")}
    assert "Accept-Language" in vary
    assert response["Access-Control-Allow-Origin"] == "*"
    assert ok(response)["data_changed_at"] is not None


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/models/",
        "/models/?status=approved",
        "/applicants/",
        "/batches/",
        "/changes/",
        "/schema/",
    ],
)
def test_a_current_copy_is_a_304_in_one_query(client, register, django_assert_num_queries, path):
    url = f"{API}{path}"
    first = client.get(url)
    assert first.status_code == 200
    etag = first["ETag"]

    with django_assert_num_queries(1):
        again = client.get(url, HTTP_IF_NONE_MATCH=etag)

    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == etag
    assert again["Access-Control-Allow-Origin"] == "*"
    assert "Accept-Language" in again["Vary"]
    with django_assert_num_queries(1):
        since = client.get(url, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])
    assert since.status_code == 304
    assert since.content == b""


def test_a_record_is_a_304_when_current(client, register):
    url = f"{API}/models/{register['ernie'].slug}/"
    etag = client.get(url)["ETag"]

    assert client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304


def test_a_write_changes_the_etag(client, register):
    url = f"{API}/applicants/"
    first = client.get(url)
    etag = first["ETag"]

    baidu = register["baidu"]
    baidu.name_en = "Baidu Inc."
    baidu.save()
    renamed = client.get(url, HTTP_IF_NONE_MATCH=etag)

    assert renamed.status_code == 200
    assert renamed["ETag"] != etag
    assert "Baidu Inc." in [row["name_en"] for row in renamed.json()["results"]]

    models = f"{API}/models/"
    before = client.get(models)["ETag"]
    workflow.transition(register["pending"], Status.APPROVED, by=register["staff"])
    after = client.get(models, HTTP_IF_NONE_MATCH=before)
    assert after.status_code == 200
    assert after["ETag"] != before
    assert client.get(models, HTTP_IF_NONE_MATCH=after["ETag"]).status_code == 304


def test_the_etag_depends_on_the_query_and_the_language(client, register):
    english = client.get(f"{API}/models/?status=approved")
    etags = {
        english["ETag"],
        client.get(f"{API}/models/?status=rejected")["ETag"],
        client.get(f"{API}/models/")["ETag"],
        client.get(f"{API}/changes/?status=approved")["ETag"],
        client.get(f"{API}/models/?status=approved", HTTP_ACCEPT_LANGUAGE="zh-hans")["ETag"],
    }
    assert len(etags) == 5
    chinese = client.get(
        f"{API}/models/?status=approved",
        HTTP_ACCEPT_LANGUAGE="zh-hans",
        HTTP_IF_NONE_MATCH=english["ETag"],
    )
    assert chinese.status_code == 200
    # The same parameters in another order are the same question.
    one = client.get(f"{API}/models/?status=approved&jurisdiction=BJ")["ETag"]
    other = client.get(f"{API}/models/?jurisdiction=BJ&status=approved")["ETag"]
    assert one == other


def test_every_answer_is_readable_from_any_origin(client, register):
    ok_response = client.get(f"{API}/models/", HTTP_ORIGIN="https://example.org")
    assert ok_response["Access-Control-Allow-Origin"] == "*"
    assert "ETag" in ok_response["Access-Control-Expose-Headers"]
    bad = client.get(f"{API}/models/?status=aproved", HTTP_ORIGIN="https://example.org")
    assert bad.status_code == 400
    assert bad["Access-Control-Allow-Origin"] == "*"
    assert "ETag" not in bad
    missing = client.get(f"{API}/models/nope/", HTTP_ORIGIN="https://example.org")
    assert missing.status_code == 404
    assert missing["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize("path", ["/", "/models/", "/models/{ernie}/", "/changes/"])
def test_a_preflight_is_answered(client, register, path):
    response = client.options(
        API + path.format(ernie=register["ernie"].slug),
        HTTP_ORIGIN="https://example.org",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="If-None-Match",
    )

    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "*"
    assert response["Access-Control-Allow-Methods"] == "GET, HEAD, OPTIONS"
    assert response["Access-Control-Allow-Headers"] == "If-None-Match, If-Modified-Since"


def test_the_api_refuses_writes(client, register):
    response = client.post(f"{API}/models/", {"name_en": "x"})

    assert problem(response, 405)["title"] == "Method not allowed"
    assert AIModel.objects.count() == 5


# Query counts


def approved_models(n):
    batch = BatchFactory()
    applicant = ApplicantFactory()
    return [
        ApprovedModelFactory(
            applicant=applicant,
            batch=batch,
            approved_on=datetime.date(2024, 2, 1) + datetime.timedelta(i),
        )
        for i in range(n)
    ]


@pytest.mark.parametrize("n", [5, 30])
def test_listing_query_counts_do_not_grow_with_rows(client, django_assert_num_queries, n):
    models = approved_models(n)
    AIModelFactory(upstream=models[0], filing_type=FilingType.REGISTRATION)

    # The stamp, the count, the page's ids, its rows.
    with django_assert_num_queries(4):
        body = ok(get(client, f"{API}/models/", {"status": "approved", "page_size": 100}))
    assert len(body["results"]) == n
    # A lookup filter first checks that its value exists.
    with django_assert_num_queries(5):
        ok(get(client, f"{API}/models/", {"status": "approved", "jurisdiction": "BJ"}))
    # The next page: the stamp, the ids with the cursor's date and a larger id (none), the
    # ids of earlier dates (enough), the rows; the count is the first page's, kept for the
    # same query and state of the register.
    first = ok(get(client, f"{API}/models/", {"status": "approved", "page_size": 2}))
    with django_assert_num_queries(4):
        second = ok(client.get(first["next"]))
    assert len(second["results"]) == 2
    assert second["count"] == first["count"] == n
    # Sorted by name: the stamp, the count, the ids, the rows.
    with django_assert_num_queries(4):
        body = ok(get(client, f"{API}/models/", {"sort": "-name", "page_size": 1000}))
    assert len(body["results"]) == n + 1


@pytest.mark.parametrize("n", [5, 30])
def test_record_query_counts_do_not_grow_with_rows(client, django_assert_num_queries, n):
    upstream = approved_models(n)[0]
    for _ in range(n - 1):
        AIModelFactory(upstream=upstream, filing_type=FilingType.REGISTRATION)
    for i in range(n):
        source = Source.objects.create(title=f"Report {i}", publisher="Example News")
        source.ai_models.add(upstream)

    # The stamp, the row, its history, its registrations, its sources.
    with django_assert_num_queries(5):
        body = ok(client.get(f"{API}/models/{upstream.slug}/"))
    assert len(body["registrations"]) == n - 1
    assert len(body["sources"]) == n
    # The stamp, the row, the counts by status.
    with django_assert_num_queries(3):
        ok(client.get(f"{API}/applicants/{upstream.applicant.slug}/"))
    # The stamp, the row.
    with django_assert_num_queries(2):
        ok(client.get(f"{API}/batches/{upstream.batch.slug}/"))


@pytest.mark.parametrize("n", [5, 30])
def test_other_listing_query_counts_do_not_grow(client, django_assert_num_queries, n):
    approved_models(n)

    # The stamp, the steps and the corrections each counted and read (there are no
    # corrections, so no models of theirs to read).
    with django_assert_num_queries(5):
        body = ok(client.get(f"{API}/changes/"))
    assert body["count"] == n
    # A lookup filter first checks that its value exists.
    with django_assert_num_queries(6):
        body = ok(get(client, f"{API}/changes/", {"jurisdiction": "BJ", "since": "2024-02-01"}))
    assert body["count"] == n
    with django_assert_num_queries(4):
        ok(client.get(f"{API}/applicants/"))
    with django_assert_num_queries(4):
        ok(client.get(f"{API}/batches/"))


# The rate limit


# 40.5 s into a minute: 19.5 s of the window left, 20 in whole seconds.
FIXED_NOW = 1_000_000.5


@pytest.fixture
def three_a_minute(settings, monkeypatch):
    settings.API_RATE = "3/minute"
    # A fixed clock: the requests of a test never straddle two windows.
    monkeypatch.setattr(limits, "clock", lambda: FIXED_NOW)


def rate_key(address):
    window_start = int(FIXED_NOW // 60) * 60
    return f"tracker:rate:api:{address}:{window_start}"


def test_a_client_over_the_rate_gets_a_429_with_retry_after(client, three_a_minute):
    for _ in range(3):
        assert client.get(f"{API}/batches/").status_code == 200

    response = client.get(f"{API}/batches/")

    body = problem(response, 429)
    assert body["title"] == "Too many requests"
    assert response["Retry-After"] == "20"
    assert 1 <= int(response["Retry-After"]) <= 60
    assert response["Access-Control-Allow-Origin"] == "*"
    # Any listing, any record: the same client.
    assert client.get(f"{API}/models/").status_code == 429
    # Another client is still served.
    assert client.get(f"{API}/batches/", REMOTE_ADDR="10.0.0.7").status_code == 200


def test_the_rate_is_counted_in_the_shared_cache(client, three_a_minute):
    for _ in range(3):
        assert client.get(f"{API}/batches/").status_code == 200
    assert client.get(f"{API}/batches/").status_code == 429

    # The count lives in the cache every process reads: a new throttle sees it.
    assert cache.get(rate_key("127.0.0.1")) == 4
    assert ClientRateThrottle().allow_request(_request("127.0.0.1"), None) is False
    cache.clear()
    assert client.get(f"{API}/batches/").status_code == 200


def _request(address):
    return Request(RequestFactory().get(f"{API}/batches/", REMOTE_ADDR=address))


def test_the_rate_holds_across_instances_sharing_a_database_cache(client, three_a_minute):
    database_cache = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "tracker_api_rate_test",
        }
    }
    with override_settings(CACHES=database_cache):
        call_command("createcachetable", verbosity=0)
        first_instance = caches["default"]
        assert type(first_instance).__name__ == "DatabaseCache"
        for _ in range(2):
            assert client.get(f"{API}/batches/").status_code == 200

        # Another instance: a cache object of its own over the same table.
        del caches["default"]
        second_instance = caches["default"]
        assert second_instance is not first_instance
        assert client.get(f"{API}/batches/").status_code == 200
        assert client.get(f"{API}/batches/").status_code == 429
        assert second_instance.get(rate_key("127.0.0.1")) == 4
        assert first_instance.get(rate_key("127.0.0.1")) == 4
        first_instance.clear()
        assert client.get(f"{API}/batches/").status_code == 200


# The schema and the docs page


def test_the_schema_is_valid_openapi_3_1_with_every_path(client):
    response = client.get(f"{API}/schema/")

    assert response.status_code == 200
    schema = json.loads(response.content)
    assert schema["openapi"] == "3.1.0"
    validate(schema)
    expected = set()
    for prefix, viewset, _basename in router.registry:
        expected.add(f"/api/v1/{prefix}/")
        if hasattr(viewset, "retrieve"):
            expected.add(f"/api/v1/{prefix}/{{slug}}/")
    assert set(schema["paths"]) == expected
    assert len(expected) == 7
    parameters = {p["name"] for p in schema["paths"]["/api/v1/changes/"]["get"]["parameters"]}
    assert "since" in parameters
    assert "sort" not in parameters


@pytest.mark.parametrize(
    "headers, lang, skip_link",
    [
        ({}, "en", "Skip to content"),
        ({"HTTP_ACCEPT_LANGUAGE": "zh-hans"}, "zh-hans", "跳到正文"),
    ],
)
def test_the_docs_page_is_plain_html_under_the_site_policy(client, headers, lang, skip_link):
    response = client.get("/api/", **headers)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/html; charset=utf-8"
    html = response.content.decode()
    assert f'<html lang="{lang}">' in html
    assert skip_link in html
    assert "curl 'http://testserver/api/v1/models/?status=approved&amp;jurisdiction=BJ'" in html
    for path in ["/api/v1/models/", "/api/v1/models/{slug}/", "/api/v1/changes/"]:
        assert f"<code>GET {path}</code>" in html
    assert "<script" not in html.lower()
    for url in re.findall(r'(?:src|href)\s*=\s*["\']?(https?://[^"\'\s>]+)', html, re.I):
        assert urlsplit(url).netloc == "testserver", url
    assert response["Content-Security-Policy"] == build_policy(settings.SECURE_CSP)


def test_the_docs_page_in_chinese_by_cookie(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"

    response = client.get("/api/")

    assert response.status_code == 200
    assert '<html lang="zh-hans">' in response.content.decode()


# What the fields say


def test_dates_days_in_review_and_estimates(client, register):
    rows = {row["slug"]: row for row in ok(client.get(f"{API}/models/"))["results"]}

    ernie = rows[register["ernie"].slug]
    assert (ernie["submitted_on"], ernie["approved_on"]) == ("2023-05-01", "2023-08-31")
    assert ernie["approved_on_estimated"] is True
    assert ernie["days_in_review"] == 122
    assert ernie["batch"]["announced_on"] == "2023-08-31"
    abab = rows[register["abab"].slug]
    assert abab["submitted_on"] is None
    assert abab["days_in_review"] is None
    assert abab["approved_on_estimated"] is False
    pending = rows[register["pending"].slug]
    assert pending["approved_on"] is None
    assert pending["approved_on_estimated"] is None
    today = timezone.localdate()
    assert pending["days_in_review"] == (today - datetime.date(2024, 2, 1)).days
    rejected = rows[register["rejected"].slug]
    assert rejected["approved_on_estimated"] is None
    assert rejected["days_in_review"] is None
    assert rejected["name_zh"] == ""


def test_upstream_and_registrations_link_both_ways(client, register):
    ernie, app = register["ernie"], register["app"]

    registration = ok(client.get(f"{API}/models/{app.slug}/"))
    assert registration["upstream"] == {
        "slug": ernie.slug,
        "name_zh": "文心一言",
        "name_en": "ERNIE Bot",
        "filing_number": "Beijing-WenXinYiYan-20230821",
        "url": f"http://testserver/api/v1/models/{ernie.slug}/",
    }
    upstream = ok(client.get(registration["upstream"]["url"]))
    assert [r["slug"] for r in upstream["registrations"]] == [app.slug]
    assert ok(client.get(upstream["registrations"][0]["url"]))["slug"] == app.slug
    assert upstream["upstream"] is None
    assert registration["registrations"] == []


def test_labels_follow_the_language(client, register):
    pending = register["pending"].slug
    english = ok(client.get(f"{API}/models/{pending}/"))
    chinese = ok(client.get(f"{API}/models/{pending}/", HTTP_ACCEPT_LANGUAGE="zh-hans"))

    assert english["status_label"] == "National review"
    assert chinese["status_label"] == "国家级审核"
    assert chinese["filing_type_label"] == "备案"
    assert chinese["history"][-1]["to_status_label"] == "国家级审核"
    assert chinese["name_en"] == english["name_en"] == "Hailuo"
    changes = ok(client.get(f"{API}/changes/?status=approved", HTTP_ACCEPT_LANGUAGE="zh-hans"))
    assert {row["to_status_label"] for row in changes["results"]} == {"已备案"}


@pytest.mark.parametrize("resource", ["models", "applicants", "batches"])
def test_a_record_refuses_parameters(client, register, resource):
    listing = ok(get(client, f"{API}/{resource}/", {"page_size": 1}))
    record_url = listing["results"][0]["url"]

    response = client.get(record_url, {"fields": "slug"})

    assert problem(response, 400)["invalid_params"] == [
        {"name": "fields", "reason": "fields: a record takes no parameters."}
    ]
