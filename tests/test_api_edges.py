"""The API at its edges: forged cursors, moments out of range, addresses it does not have,
server errors, answers that change with the day, and the schema's error answers."""

import base64
import datetime
import json
import logging
from urllib.parse import urlsplit

import pytest
from django.core import signing
from django.db.models import F
from django.http import HttpResponse, QueryDict
from django.utils import timezone
from django.utils.http import http_date

from tests.factories import AIModelFactory, ApprovedModelFactory
from tests.test_api import API, PROBLEM, get, ok, problem, refused
from tracker import audit
from tracker.api import views
from tracker.api.pagination import CURSOR_SALT
from tracker.models import AIModel, Correction, Status, StatusChange
from tracker.opendata import files
from tracker.public.conditional import conditional

pytestmark = pytest.mark.django_db


@pytest.fixture
def models():
    return [
        ApprovedModelFactory(approved_on=datetime.date(2024, 1, day), submitted_on=None)
        for day in (1, 2, 3)
    ] + [
        AIModelFactory(status=Status.SUBMITTED, submitted_on=datetime.date(2024, 2, day))
        for day in (1, 2)
    ]


def next_cursor(body):
    return QueryDict(urlsplit(body["next"]).query)["cursor"]


def unsigned(data):
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def test_a_cursor_is_signed_so_an_edited_one_is_refused(client, models):
    first = ok(get(client, f"{API}/models/", {"page_size": 1}))
    cursor = next_cursor(first)
    data = signing.loads(cursor, salt=CURSOR_SALT)

    forged = [
        unsigned({**data, "v": "abc"}),
        signing.dumps({**data, "v": "abc"}, salt="another-salt"),
        cursor[:-1] + ("A" if cursor[-1] != "A" else "B"),
    ]

    for value in forged:
        response = get(client, f"{API}/models/", {"page_size": 1, "cursor": value})
        assert refused(response) == ["cursor"]
    assert ok(get(client, f"{API}/models/", {"page_size": 1, "cursor": cursor}))["results"]


@pytest.mark.parametrize(
    "sort", ["name", "status", "days_in_review", "-approved_on", "jurisdiction", "batch"]
)
def test_a_cursor_of_every_order_walks_the_listing(client, models, sort):
    expected = [m["slug"] for m in ok(get(client, f"{API}/models/", {"sort": sort}))["results"]]
    walked, params = [], {"sort": sort, "page_size": 2}
    while True:
        body = ok(get(client, f"{API}/models/", params))
        walked += [row["slug"] for row in body["results"]]
        if body["next"] is None:
            break
        params = {**params, "cursor": next_cursor(body)}

    assert walked == expected
    assert len(walked) == 5


def test_a_cursor_over_days_in_review_is_for_the_day_it_was_given(client, models, monkeypatch):
    body = ok(get(client, f"{API}/models/", {"sort": "days_in_review", "page_size": 2}))
    cursor = next_cursor(body)
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    monkeypatch.setattr(timezone, "localdate", lambda: tomorrow)

    response = get(
        client, f"{API}/models/", {"sort": "days_in_review", "page_size": 2, "cursor": cursor}
    )

    assert refused(response) == ["cursor"]


def test_a_cursor_of_another_order_keeps_working_the_next_day(client, models, monkeypatch):
    body = ok(get(client, f"{API}/models/", {"page_size": 2}))
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    monkeypatch.setattr(timezone, "localdate", lambda: tomorrow)

    again = ok(get(client, f"{API}/models/", {"page_size": 2, "cursor": next_cursor(body)}))

    assert len(again["results"]) == 2


@pytest.mark.parametrize(
    "params",
    [
        {"since": ["garbage", "2026-01-01"]},
        {"since": ["2026-01-01", "2026-02-01"]},
    ],
)
def test_a_repeated_since_is_refused(client, models, params):
    assert refused(get(client, f"{API}/changes/", params)) == ["since"]


@pytest.mark.parametrize(
    "params, names",
    [
        ({"page_size": ["abc", "5"]}, ["page_size"]),
        ({"page_size": ["5", "5"]}, ["page_size"]),
        ({"cursor": ["zzz", "yyy"]}, ["cursor"]),
        ({"cursor": ["zzz", "yyy"], "status": "aproved"}, ["status", "cursor"]),
    ],
)
def test_repeated_paging_parameters_are_refused(client, models, params, names):
    assert refused(get(client, f"{API}/models/", params)) == names


@pytest.mark.parametrize("since", ["0001-01-01", "9999-12-31T23:59:59-23:59"])
def test_a_moment_out_of_range_is_refused_by_the_api_and_dropped_by_the_feed(client, models, since):
    body = problem(get(client, f"{API}/changes/", {"since": since}), 400)
    assert body["invalid_params"] == [
        {"name": "since", "reason": f"since “{since}”: a moment out of range."}
    ]

    feed = client.get("/feeds/changes/", {"since": since})

    assert feed.status_code == 200
    assert feed.content.count(b"<entry>") == StatusChange.objects.count()


@pytest.mark.parametrize("path", ["/nope/", "/models/a/b/", "/models/a%2Fb/", "/nope"])
def test_an_address_the_api_does_not_have_is_a_404_problem(client, path):
    response = client.get(f"{API}{path}")

    body = problem(response, 404)
    assert body["detail"] == "No such address in the API; it starts at /api/v1/."
    assert response["Access-Control-Allow-Origin"] == "*"


def test_an_address_without_its_final_slash_is_redirected_with_cors(client, models):
    response = client.get(f"{API}/models", {"status": "approved"})

    assert response.status_code == 308
    assert response["Location"] == f"{API}/models/?status=approved"
    assert response["Access-Control-Allow-Origin"] == "*"


def test_a_server_error_is_a_500_problem_with_cors_and_a_logged_traceback(
    client, models, monkeypatch, caplog
):
    def broken(self, request, *args, **kwargs):
        raise RuntimeError("broken on purpose")

    monkeypatch.setattr(views.AIModelViewSet, "list", broken)

    with caplog.at_level(logging.ERROR, logger="tracker.api.problems"):
        response = client.get(f"{API}/models/")

    body = problem(response, 500)
    assert body["detail"] == "The server failed to answer; the error was logged."
    assert "broken on purpose" not in response.text
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "broken on purpose" in caplog.text


def test_the_etag_and_last_modified_change_with_the_day(client, models, monkeypatch):
    path = f"{API}/models/?status=submitted"
    today = client.get(path)
    assert client.get(path, HTTP_IF_NONE_MATCH=today["ETag"]).status_code == 304
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    monkeypatch.setattr(timezone, "localdate", lambda: tomorrow)

    after = client.get(path, HTTP_IF_NONE_MATCH=today["ETag"])

    assert after.status_code == 200
    assert after["ETag"] != today["ETag"]
    # Days in review count to the day: the answer is as new as the day's start.
    midnight = datetime.datetime.combine(
        tomorrow, datetime.time.min, timezone.get_current_timezone()
    )
    assert after["Last-Modified"] == http_date(midnight.timestamp())
    assert sorted(row["days_in_review"] for row in ok(after)["results"]) == [
        (tomorrow - datetime.date(2024, 2, 2)).days,
        (tomorrow - datetime.date(2024, 2, 1)).days,
    ]


def test_if_none_match_star_is_no_copy_of_a_record(client, models):
    response = client.get(f"{API}/models/no-such-model/", HTTP_IF_NONE_MATCH="*")

    problem(response, 404)


def test_an_answer_that_sets_a_cookie_is_not_cached_by_shared_caches(rf, db):
    def sets_a_cookie(request):
        response = HttpResponse("This reader's own")
        response.set_cookie("seen", "1")
        return response

    response = conditional(sets_a_cookie)(rf.get("/en/"))

    assert response.status_code == 200
    assert response["Cache-Control"] == "private, max-age=60"


def test_the_docs_page_sets_no_cookie_and_may_be_kept_by_shared_caches(client):
    response = client.get("/api/")

    assert response.status_code == 200
    assert not response.cookies
    assert response["Cache-Control"] == "public, max-age=60"


def test_the_schema_documents_the_error_answers_as_problem_documents(client):
    schema = client.get(f"{API}/schema/").json()

    for path, operations in schema["paths"].items():
        responses = operations["get"]["responses"]
        assert set(responses) == {"200", "304", "400", "404", "429"}, path
        for code in ("400", "404", "429"):
            assert responses[code]["content"] == {
                PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}
            }
    problem_schema = schema["components"]["schemas"]["Problem"]
    assert set(problem_schema["properties"]) == {
        "type",
        "title",
        "status",
        "detail",
        "instance",
        "invalid_params",
    }
    since = next(
        p for p in schema["paths"][f"{API}/changes/"]["get"]["parameters"] if p["name"] == "since"
    )
    assert since["schema"] == {
        "anyOf": [
            {"type": "string", "format": "date-time"},
            {"type": "string", "format": "date"},
        ]
    }


def test_a_failed_background_rebuild_is_logged(monkeypatch, caplog):
    def broken(force=False):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(files, "build", broken)

    with caplog.at_level(logging.ERROR, logger="tracker.opendata.files"):
        files._rebuild()

    assert "The bulk downloads were not rebuilt after an import" in caplog.text
    assert "disk on fire" in caplog.text


def test_the_changes_list_corrections_with_their_model_and_reason(client, models, monkeypatch):
    corrected = models[0]
    with audit.recorded(None, "The list's own spelling."):
        AIModel.objects.filter(pk=corrected.pk).update(name_en="Corrected Name")
    correction = Correction.objects.get(field="name_en")

    body = ok(get(client, f"{API}/changes/", {"page_size": 1}))

    assert body["count"] == StatusChange.objects.count() + 1
    assert body["results"] == [
        {
            "id": correction.pk,
            "kind": "correction",
            "model": {
                "slug": corrected.slug,
                "name_zh": corrected.name_zh,
                "name_en": "Corrected Name",
                "filing_number": corrected.filing_number,
                "url": f"http://testserver/api/v1/models/{corrected.slug}/",
            },
            "html_url": f"http://testserver/models/{corrected.slug}/",
            "recorded_at": body["results"][0]["recorded_at"],
            "happened_on": timezone.localdate(correction.changed_at).isoformat(),
            "note": "The list's own spelling.",
            "reverses": None,
            "from_status": None,
            "to_status": None,
            "to_status_label": None,
            "field": "name_en",
            "field_label": "English name",
            "old_value": corrected.name_en or "—",
            "new_value": "Corrected Name",
        }
    ]
    # Walking on gives every status step after it, once.
    walked = [(row["kind"], row["id"]) for row in body["results"]]
    params = {"page_size": 2, "cursor": next_cursor(body)}
    while True:
        page = ok(get(client, f"{API}/changes/", params))
        walked += [(row["kind"], row["id"]) for row in page["results"]]
        if page["next"] is None:
            break
        params["cursor"] = next_cursor(page)
    assert sorted(walked) == sorted(
        [("correction", correction.pk)]
        + [("status", pk) for pk in StatusChange.objects.values_list("pk", flat=True)]
    )


def test_the_changes_filters_narrow_the_corrections_too(client, models):
    with audit.recorded(None, "Typo."):
        AIModel.objects.filter(pk=models[0].pk).update(sector="finance")
        AIModel.objects.filter(pk=models[3].pk).update(sector="health")

    approved = ok(get(client, f"{API}/changes/", {"status": "approved", "page_size": 100}))
    later = ok(get(client, f"{API}/changes/", {"since": "2999-01-01", "page_size": 100}))

    corrections = [row for row in approved["results"] if row["kind"] == "correction"]
    assert [(row["model"]["slug"], row["new_value"]) for row in corrections] == [
        (models[0].slug, "finance")
    ]
    assert later["results"] == []


def test_the_changes_feed_lists_corrections_with_their_reason(client, models):
    # The steps were recorded a second before the correction: the feed's newest entry.
    StatusChange.objects.update(recorded_at=F("recorded_at") - datetime.timedelta(seconds=1))
    with audit.recorded(None, "The list's own spelling."):
        AIModel.objects.filter(pk=models[0].pk).update(name_en="Corrected Name")
    correction = Correction.objects.get(field="name_en")

    feed = client.get("/feeds/changes/").content.decode()

    first = feed[feed.index("<entry>") : feed.index("</entry>")]
    assert "<title>Corrected Name: English name corrected</title>" in first
    assert f"/models/{models[0].slug}/#correction-{correction.pk}</id>" in first
    assert "The list&amp;#x27;s own spelling." in first
    assert feed.count("<entry>") == StatusChange.objects.count() + 1


def test_the_corrections_of_a_deleted_model_are_kept_but_not_listed(client, models):
    gone = AIModelFactory(status=Status.SUBMITTED)
    gone_pk = gone.pk
    AIModel.objects.filter(pk=gone_pk).update(name_en="Gone")
    StatusChange.objects.filter(model=gone).delete()
    gone.delete()

    body = ok(get(client, f"{API}/changes/", {"page_size": 100}))
    feed = client.get("/feeds/changes/")

    assert Correction.objects.filter(record_id=gone_pk).count() == 1
    assert [row for row in body["results"] if row["kind"] == "correction"] == []
    assert feed.status_code == 200
    assert b"Gone" not in feed.content


def test_a_kept_count_is_for_one_state_of_the_register(client, models):
    first = ok(get(client, f"{API}/models/", {"status": "approved", "page_size": 1}))
    ApprovedModelFactory(approved_on=datetime.date(2024, 1, 4), submitted_on=None)

    again = ok(get(client, f"{API}/models/", {"status": "approved", "page_size": 1}))

    assert (first["count"], again["count"]) == (3, 4)


# Memory


@pytest.mark.parametrize("address", ["/models/", "/models/{slug}/", "/models/?status=x"])
def test_a_written_answer_keeps_its_bytes_and_lets_its_records_go(client, db, address):
    # The view and its answer refer to each other: records the answer kept would wait
    # for a full garbage collection.
    model = ApprovedModelFactory()

    response = client.get(API + address.format(slug=model.slug))

    assert response.data is None
    assert response.json() == json.loads(response.content)
    assert response.content.startswith(b"{")
