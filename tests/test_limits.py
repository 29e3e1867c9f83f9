"""Per-client limits on the expensive paths: exports, search, the feeds (and the API, in
test_api). A client over its limit gets a 429 with Retry-After before any work, never a
cut-off file; another client is still served; signed-in staff are never refused; a 304 is
not counted."""

from unittest import mock

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import translation

from tests.factories import ApprovedModelFactory, UserFactory
from tracker import checks, limits

pytestmark = pytest.mark.django_db

# 40.5 s into a minute: 19.5 s of the window left, 20 in whole seconds.
FIXED_NOW = 1_000_000.5


@pytest.fixture
def two_a_minute(settings, monkeypatch):
    for setting in ("EXPORT_RATE", "SEARCH_RATE", "FEED_RATE", "API_RATE"):
        setattr(settings, setting, "2/minute")
    # The exports here are not read to their end: none waits for another's slot.
    settings.EXPORTS_AT_ONCE = 100
    monkeypatch.setattr(limits, "clock", lambda: FIXED_NOW)
    ApprovedModelFactory(name_en="ERNIE Bot")


EXPORTS = [
    "/models/export.csv",
    "/models/export.csv?status=approved",
    "/applicants/export.csv",
    "/backlog/export.csv",
    "/reports/time-to-approval.csv",
]


def test_a_client_over_the_export_limit_is_refused_in_plain_text(client, two_a_minute):
    assert client.get(EXPORTS[0]).status_code == 200
    assert client.get(EXPORTS[1]).status_code == 200

    for address in EXPORTS:
        response = client.get(address)
        assert response.status_code == 429, address
        assert response["Retry-After"] == "20"
        assert response["Content-Type"] == "text/plain; charset=utf-8"
        assert response.content == (
            b"Too many requests from your address: try again in 20 seconds.\n"
        )
        assert response["Cache-Control"] == "private, no-store"
    # Another client is served; other paths have counts of their own.
    assert client.get(EXPORTS[0], REMOTE_ADDR="10.0.0.7").status_code == 200
    assert client.get("/feeds/approvals/").status_code == 200


def test_the_feeds_share_one_limit(client, two_a_minute):
    assert client.get("/feeds/approvals/").status_code == 200
    assert client.get("/feeds/changes/").status_code == 200

    assert client.get("/feeds/approvals/").status_code == 429
    assert client.get("/feeds/changes/?status=approved").status_code == 429


def test_a_search_over_the_limit_gets_the_sites_own_page(client, two_a_minute):
    with translation.override("zh-hans"):
        models = reverse("tracker:model_list")
    for term in ("ernie", "bot"):
        assert client.get(models, {"q": term}).status_code == 200

    refused = client.get(models, {"q": "third"})

    assert refused.status_code == 429
    assert refused["Retry-After"] == "20"
    assert "<h1>搜索过于频繁</h1>" in refused.text
    assert '<input type="search" id="error-q" name="q"' in refused.text
    # Browsing without a search term is no search.
    assert client.get(models).status_code == 200
    assert client.get(models, {"q": " ", "status": "approved"}).status_code == 200
    assert client.get(reverse("tracker:applicant_list"), {"q": "baidu"}).status_code == 429


def test_signed_in_staff_are_never_refused(client, two_a_minute):
    client.force_login(UserFactory(groups=["Editors"]))

    for _ in range(4):
        assert client.get(EXPORTS[0]).status_code == 200
        assert client.get("/api/v1/models/").status_code == 200
        assert client.get(reverse("tracker:model_list"), {"q": "ernie"}).status_code == 200


def test_a_signed_in_reader_who_is_not_staff_is_counted(client, two_a_minute):
    client.force_login(UserFactory(is_staff=False))

    statuses = [client.get(EXPORTS[0]).status_code for _ in range(3)]

    assert statuses == [200, 200, 429]


def test_a_current_copy_is_answered_without_counting(client, two_a_minute):
    etag = client.get(EXPORTS[0])["ETag"]

    for _ in range(5):
        assert client.get(EXPORTS[0], HTTP_IF_NONE_MATCH=etag).status_code == 304
    assert client.get(EXPORTS[0]).status_code == 200
    assert client.get(EXPORTS[0]).status_code == 429


def test_a_new_window_starts_a_new_count(client, two_a_minute, monkeypatch):
    for expected in (200, 200, 429):
        assert client.get(EXPORTS[0]).status_code == expected

    monkeypatch.setattr(limits, "clock", lambda: FIXED_NOW + 20)

    assert client.get(EXPORTS[0]).status_code == 200


@pytest.mark.parametrize(
    "rate, expected",
    [
        ("300/minute", (300, 60)),
        ("30/min", (30, 60)),
        ("20/second", (20, 1)),
        ("20/s", (20, 1)),
        ("5/day", (5, 86400)),
        ("100/hour", (100, 3600)),
    ],
)
def test_a_rate_is_a_number_per_period(rate, expected):
    assert limits.parse_rate(rate) == expected


@pytest.mark.parametrize("rate", ["300", "300/", "/minute", "many/minute", "30/week", "-1/s"])
def test_an_unreadable_rate_stops_the_start(settings, rate):
    settings.EXPORT_RATE = rate

    errors = checks.rates_are_readable(None)

    assert [(error.id, error.msg) for error in errors] == [
        (
            "tracker.E001",
            f"TRACKER_EXPORT_RATE is {rate!r}: Not a rate: {rate!r} (e.g. 300/minute, 20/second)",
        )
    ]


# Exports at once, whoever asks


def leave(response):
    """Close ``response`` as the server does when its reader goes away. Closing a response
    also says the request finished, which would close the database connection the test's
    transaction holds: as Django's test client does, the connection is left alone."""
    with mock.patch.object(connection, "close_if_unusable_or_obsolete"):
        response.close()


def test_an_export_holds_its_slot_until_its_last_byte(client, two_a_minute, settings):
    settings.EXPORTS_AT_ONCE = 1
    writing = client.get("/models/export.csv")
    assert writing.status_code == 200

    busy = client.get("/applicants/export.csv", REMOTE_ADDR="10.0.0.8")

    assert busy.status_code == 429
    assert busy["Retry-After"] == "5"
    assert busy.content == (
        b"The register is writing as many files as it can at once: try again in 5 seconds.\n"
    )
    body = b"".join(writing.streaming_content)
    assert body.count(b"\r\n") == 2
    assert client.get("/applicants/export.csv", REMOTE_ADDR="10.0.0.8").status_code == 200


def test_a_reader_who_leaves_gives_the_slot_back(client, two_a_minute, settings):
    settings.EXPORTS_AT_ONCE = 1
    writing = client.get("/models/export.csv")
    next(iter(writing.streaming_content))

    leave(writing)

    assert client.get("/backlog/export.csv", REMOTE_ADDR="10.0.0.8").status_code == 200


def test_a_reader_who_leaves_before_the_first_byte_gives_the_slot_back(
    client, two_a_minute, settings
):
    settings.EXPORTS_AT_ONCE = 1
    leave(client.get("/models/export.csv"))

    assert client.get("/backlog/export.csv", REMOTE_ADDR="10.0.0.8").status_code == 200


def test_as_many_exports_as_the_setting_allows_are_written_at_once(client, two_a_minute, settings):
    settings.EXPORTS_AT_ONCE = 2
    first = client.get("/models/export.csv", REMOTE_ADDR="10.0.0.1")
    second = client.get("/models/export.csv", REMOTE_ADDR="10.0.0.2")

    third = client.get("/models/export.csv", REMOTE_ADDR="10.0.0.3")

    assert (first.status_code, second.status_code, third.status_code) == (200, 200, 429)
    leave(first)
    leave(second)


def test_staff_export_even_when_every_slot_is_taken(client, two_a_minute, settings):
    settings.EXPORTS_AT_ONCE = 1
    writing = client.get("/models/export.csv", REMOTE_ADDR="10.0.0.1")
    client.force_login(UserFactory(groups=["Editors"]))

    assert client.get("/models/export.csv").status_code == 200
    leave(writing)
