"""The Atom feed of every status step: /feeds/changes/."""

import datetime
import xml.etree.ElementTree as ET
from urllib.parse import urlsplit

import pytest

from tests.factories import (
    AIModelFactory,
    ApplicantFactory,
    ApprovedModelFactory,
    UserFactory,
    jurisdiction,
)
from tracker import workflow
from tracker.models import Status, StatusChange

pytestmark = pytest.mark.django_db

ATOM = {"atom": "http://www.w3.org/2005/Atom"}
NOTE_MARKER = "INTERNAL-7f3a"
STAFF_MARKER = "staffer-b91c"
# The steps are recorded an hour apart from this moment on, in the order they were made.
FIRST_RECORDED = datetime.datetime(2024, 5, 1, 8, 0, tzinfo=datetime.UTC)


def parse(response):
    assert response.status_code == 200
    assert response["Content-Type"] == "application/atom+xml; charset=utf-8"
    feed = ET.fromstring(response.content)
    assert feed.tag == "{http://www.w3.org/2005/Atom}feed"
    return feed


def entries(feed):
    return feed.findall("atom:entry", ATOM)


def titles(feed):
    return [e.findtext("atom:title", namespaces=ATOM) for e in entries(feed)]


@pytest.fixture
def steps():
    beijing = ApplicantFactory(name_en="Beijing Lab", jurisdiction=jurisdiction("BJ"))
    shanghai = ApplicantFactory(name_en="Shanghai Lab", jurisdiction=jurisdiction("SH"))
    staff = UserFactory(username=STAFF_MARKER)
    ernie = ApprovedModelFactory(
        name_en="ERNIE Bot",
        applicant=beijing,
        approved_on=datetime.date(2023, 8, 31),
        submitted_on=None,
        internal_notes=NOTE_MARKER,
    )
    hailuo = AIModelFactory(
        name_en="Hailuo",
        applicant=shanghai,
        status=Status.PROVINCIAL_REVIEW,
        submitted_on=datetime.date(2024, 2, 1),
        internal_notes=NOTE_MARKER,
    )
    workflow.transition(
        hailuo,
        Status.NATIONAL_REVIEW,
        by=staff,
        on=datetime.date(2024, 3, 1),
        note="Passed the provincial review.",
    )
    workflow.transition(
        ernie, Status.SUSPENDED, by=staff, on=datetime.date(2024, 4, 1), note="Suspended."
    )
    for i, change in enumerate(StatusChange.objects.order_by("pk")):
        StatusChange.objects.filter(pk=change.pk).update(
            recorded_at=FIRST_RECORDED + datetime.timedelta(hours=i)
        )
    return {"ernie": ernie, "hailuo": hailuo, "staff": staff}


ALL_TITLES = [
    "ERNIE Bot: Approved → Suspended",
    "Hailuo: Provincial review → National review",
    "Hailuo: entered → Provincial review",
    "ERNIE Bot: entered → Approved",
]


def test_the_feed_lists_every_step_newest_recorded_first(client, steps):
    feed = parse(client.get("/feeds/changes/"))

    assert titles(feed) == ALL_TITLES
    updated = [e.findtext("atom:updated", namespaces=ATOM) for e in entries(feed)]
    assert updated == [
        "2024-05-01T11:00:00+00:00",
        "2024-05-01T10:00:00+00:00",
        "2024-05-01T09:00:00+00:00",
        "2024-05-01T08:00:00+00:00",
    ]
    assert feed.findtext("atom:updated", namespaces=ATOM) == "2024-05-01T11:00:00+00:00"


def test_each_entry_has_a_unique_absolute_id_and_links_to_its_model(client, steps):
    feed = parse(client.get("/feeds/changes/"))

    ids = [e.findtext("atom:id", namespaces=ATOM) for e in entries(feed)]
    assert len(set(ids)) == len(ids) == 4
    for entry_id in ids:
        url = urlsplit(entry_id)
        assert (url.scheme, url.netloc) == ("http", "testserver")
    changes = StatusChange.objects.order_by("-recorded_at")
    assert ids == [
        f"http://testserver/models/{change.model.slug}/#change-{change.pk}" for change in changes
    ]
    links = [e.find("atom:link", ATOM).get("href") for e in entries(feed)]
    assert links[0] == f"http://testserver{steps['ernie'].get_absolute_url()}"
    assert links[1] == f"http://testserver{steps['hailuo'].get_absolute_url()}"


def test_the_summary_holds_the_public_note(client, steps):
    feed = parse(client.get("/feeds/changes/"))

    summary = entries(feed)[1].findtext("atom:summary", namespaces=ATOM)
    assert "Passed the provincial review." in summary
    assert "Shanghai Lab" in summary
    assert "2024-03-01" in summary


def test_no_internal_notes_or_staff_names_reach_the_feed(client, steps):
    for query in ["", "?jurisdiction=BJ", "?status=national_review"]:
        text = client.get(f"/feeds/changes/{query}").content.decode()
        assert NOTE_MARKER not in text, query
        assert STAFF_MARKER not in text, query


def test_the_models_filters_narrow_the_feed(client, steps):
    beijing = parse(client.get("/feeds/changes/", {"jurisdiction": "BJ"}))
    assert titles(beijing) == ["ERNIE Bot: Approved → Suspended", "ERNIE Bot: entered → Approved"]

    shanghai = parse(client.get("/feeds/changes/", {"jurisdiction": "SH"}))
    assert titles(shanghai) == [
        "Hailuo: Provincial review → National review",
        "Hailuo: entered → Provincial review",
    ]
    assert titles(parse(client.get("/feeds/changes/", {"status": "suspended"}))) == [
        "ERNIE Bot: Approved → Suspended",
        "ERNIE Bot: entered → Approved",
    ]
    assert titles(parse(client.get("/feeds/changes/", {"q": "hailuo"}))) == titles(shanghai)
    both = {"jurisdiction": ["BJ", "SH"]}
    assert titles(parse(client.get("/feeds/changes/", both))) == ALL_TITLES
    alternate = beijing.find("atom:link[@rel='alternate']", ATOM).get("href")
    assert alternate == "http://testserver/en/models/?jurisdiction=BJ"
    self_link = beijing.find("atom:link[@rel='self']", ATOM).get("href")
    assert self_link == "http://testserver/feeds/changes/?jurisdiction=BJ"


@pytest.mark.parametrize(
    "since, expected",
    [
        ("2024-05-01T10:00:00Z", ALL_TITLES[:2]),
        ("2024-05-01T18:00:01+08:00", ALL_TITLES[:1]),
        ("2024-05-01T18:00:00+08:00", ALL_TITLES[:2]),
        # China's time without a zone: 17:00 there is 09:00 UTC.
        ("2024-05-01T17:00:00", ALL_TITLES[:3]),
        ("2024-05-02", []),
        ("2024-05-01", ALL_TITLES),
    ],
)
def test_since_drops_the_older_steps(client, steps, since, expected):
    feed = parse(client.get("/feeds/changes/", {"since": since}))

    assert titles(feed) == expected


def test_since_combines_with_the_filters(client, steps):
    feed = parse(
        client.get("/feeds/changes/", {"since": "2024-05-01T09:30Z", "jurisdiction": "BJ"})
    )

    assert titles(feed) == ["ERNIE Bot: Approved → Suspended"]
    alternate = feed.find("atom:link[@rel='alternate']", ATOM).get("href")
    assert alternate == "http://testserver/en/models/?jurisdiction=BJ"


@pytest.mark.parametrize(
    "params",
    [
        {"jurisdiction": "XX"},
        {"status": "bogus"},
        {"approved_after": "2024-13-45"},
        {"since": "last week"},
        {"since": "2024-13-01"},
        {"sort": "bogus"},
        {"page": "0"},
        {"stauts": "approved"},
    ],
)
def test_bad_values_are_dropped_and_the_feed_stays(client, steps, params):
    feed = parse(client.get("/feeds/changes/", params))

    assert titles(feed) == ALL_TITLES


def test_the_feed_is_capped_at_fifty_entries(client):
    for _ in range(26):
        AIModelFactory(status=Status.WITHDRAWN)  # two steps each

    feed = parse(client.get("/feeds/changes/"))

    assert len(entries(feed)) == 50


def test_an_empty_register_gives_an_empty_valid_feed(client):
    feed = parse(client.get("/feeds/changes/"))

    assert entries(feed) == []
    assert feed.findtext("atom:title", namespaces=ATOM) == (
        "Changes to the register · Approval tracker"
    )


@pytest.mark.parametrize("n", [2, 20])
def test_the_feed_query_count_does_not_grow(client, django_assert_num_queries, n):
    for _ in range(n):
        AIModelFactory(status=Status.WITHDRAWN)

    # The register stamp, for the validators; the steps with their models and applicants,
    # and the corrections (there are none).
    with django_assert_num_queries(3):
        parse(client.get("/feeds/changes/"))
    # A filter naming a jurisdiction first checks that it exists.
    with django_assert_num_queries(4):
        parse(client.get("/feeds/changes/", {"jurisdiction": "BJ"}))
