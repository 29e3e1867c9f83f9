import datetime
import xml.etree.ElementTree as ET

import pytest

from tests.factories import (
    SECRET,
    AIModelFactory,
    ApplicantFactory,
    ApprovedModelFactory,
    jurisdiction,
)
from tracker.models import Status

pytestmark = pytest.mark.django_db

ATOM = {"atom": "http://www.w3.org/2005/Atom"}
CHINESE = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}


def parse(response):
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    return ET.fromstring(response.content)


def entry_titles(feed):
    return [e.findtext("atom:title", namespaces=ATOM) for e in feed.findall("atom:entry", ATOM)]


@pytest.fixture
def approvals():
    beijing = ApplicantFactory(name_en="Beijing Lab", name_zh="北京实验室")
    shanghai = ApplicantFactory(
        name_en="Shanghai Lab", name_zh="上海实验室", jurisdiction=jurisdiction("SH")
    )
    return {
        "old": ApprovedModelFactory(
            name_en="Old",
            applicant=beijing,
            approved_on=datetime.date(2023, 8, 31),
            submitted_on=None,
        ),
        "new": ApprovedModelFactory(
            name_en="New",
            applicant=shanghai,
            approved_on=datetime.date(2024, 4, 2),
            description="Answers questions about tea.",
            internal_notes=SECRET,
        ),
        "middle": ApprovedModelFactory(
            name_en="Middle", applicant=beijing, approved_on=datetime.date(2024, 1, 17)
        ),
    }


def test_feed_lists_approvals_newest_first(client, approvals):
    AIModelFactory(name_en="Pending")
    AIModelFactory(name_en="Refused", status=Status.REJECTED)

    feed = parse(client.get("/feeds/approvals/"))

    assert feed.tag == "{http://www.w3.org/2005/Atom}feed"
    assert entry_titles(feed) == [
        "New — Shanghai Lab",
        "Middle — Beijing Lab",
        "Old — Beijing Lab",
    ]


def test_feed_entries_link_to_the_model_page_and_carry_the_approval_date(client, approvals):
    feed = parse(client.get("/feeds/approvals/"))

    entry = feed.find("atom:entry", ATOM)
    link = entry.find("atom:link", ATOM).get("href")
    assert link == f"http://testserver{approvals['new'].get_absolute_url()}"
    # Midnight of the approval day in China's time zone.
    assert entry.findtext("atom:published", namespaces=ATOM) == "2024-04-02T00:00:00+08:00"
    assert entry.findtext("atom:updated", namespaces=ATOM) == "2024-04-02T00:00:00+08:00"
    assert feed.findtext("atom:updated", namespaces=ATOM) == "2024-04-02T00:00:00+08:00"


def test_feed_summary_holds_public_facts_but_never_internal_notes(client, approvals):
    response = client.get("/feeds/approvals/")
    entry = parse(response).find("atom:entry", ATOM)

    summary = entry.findtext("atom:summary", namespaces=ATOM)
    assert approvals["new"].filing_number in summary
    assert "Answers questions about tea." in summary
    assert SECRET not in response.content.decode()


def test_feed_escapes_markup_in_names_and_descriptions(client):
    ApprovedModelFactory(name_en="<b>Bold</b> & co", description="<script>x()</script>")

    response = client.get("/feeds/approvals/")
    entry = parse(response).find("atom:entry", ATOM)

    assert entry.findtext("atom:title", namespaces=ATOM).startswith("<b>Bold</b> & co")
    summary = entry.findtext("atom:summary", namespaces=ATOM)
    assert "<script>" not in summary
    assert "&lt;script&gt;" in summary


def test_feed_honours_the_listing_filters(client, approvals):
    feed = parse(client.get("/feeds/approvals/", {"jurisdiction": "BJ"}))

    assert entry_titles(feed) == ["Middle — Beijing Lab", "Old — Beijing Lab"]
    alternate = feed.find("atom:link[@rel='alternate']", ATOM).get("href")
    assert alternate == "http://testserver/en/models/?jurisdiction=BJ&status=approved"
    self_link = feed.find("atom:link[@rel='self']", ATOM).get("href")
    assert self_link == "http://testserver/feeds/approvals/?jurisdiction=BJ"


def test_feed_combines_filters_and_search(client, approvals):
    feed = parse(
        client.get(
            "/feeds/approvals/",
            {"q": "lab", "approved_after": "2024-01-01", "jurisdiction": ["BJ", "SH"]},
        )
    )

    assert entry_titles(feed) == ["New — Shanghai Lab", "Middle — Beijing Lab"]


def test_feed_shows_only_approvals_whatever_status_is_asked_for(client, approvals):
    AIModelFactory(name_en="Pending")

    feed = parse(client.get("/feeds/approvals/", {"status": "submitted"}))

    assert entry_titles(feed) == []


@pytest.mark.parametrize(
    "params, entries",
    [
        # A value the filters cannot use is dropped: every approval stays.
        ({"jurisdiction": "NOWHERE"}, 3),
        ({"status": "bogus"}, 3),
        ({"approved_after": "31/12/2024"}, 3),
        ({"sort": "internal_notes"}, 3),
        ({"page": "0"}, 3),
        # A search is kept, cut to its first 200 characters or stripped of control
        # characters, and matches nothing here.
        ({"q": "x" * 10_000}, 0),
        ({"q": "\x00\u202e\U0001f600"}, 0),
    ],
)
def test_feed_ignores_bad_filter_values(client, approvals, params, entries):
    feed = parse(client.get("/feeds/approvals/", params))

    assert len(feed.findall("atom:entry", ATOM)) == entries


def test_feed_is_capped_at_fifty_entries(client):
    ApprovedModelFactory.create_batch(52)

    feed = parse(client.get("/feeds/approvals/"))

    assert len(feed.findall("atom:entry", ATOM)) == 50


def test_feed_of_no_approvals_is_still_valid(client):
    feed = parse(client.get("/feeds/approvals/"))

    assert entry_titles(feed) == []


def test_feed_speaks_chinese(client, approvals):
    response = client.get("/feeds/approvals/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    feed = parse(response)

    assert feed.get("{http://www.w3.org/XML/1998/namespace}lang") == "zh-hans"
    assert feed.findtext("atom:title", namespaces=ATOM) == "最新备案 · 备案追踪"
    # Names show in the active language.
    assert entry_titles(feed)[0].endswith(" — 上海实验室")


def test_an_entry_links_in_the_feeds_language_under_an_id_the_same_in_every_one(client, approvals):
    slug = approvals["new"].slug
    for headers, page in [({}, f"/en/models/{slug}/"), (CHINESE, f"/zh-hans/models/{slug}/")]:
        entry = parse(client.get("/feeds/approvals/", **headers)).find("atom:entry", ATOM)

        assert entry.find("atom:link", ATOM).get("href") == f"http://testserver{page}"
        assert entry.findtext("atom:id", namespaces=ATOM) == f"http://testserver/models/{slug}/"


@pytest.mark.parametrize("n", [1, 30])
def test_feed_query_count_does_not_grow_with_the_register(client, django_assert_num_queries, n):
    ApprovedModelFactory.create_batch(n)

    # 1. the register stamp, for the validators; 2. the approvals with applicant,
    # jurisdiction and batch joined in.
    with django_assert_num_queries(2):
        parse(client.get("/feeds/approvals/"))
    # A filter naming a jurisdiction first checks that it exists.
    with django_assert_num_queries(3):
        parse(client.get("/feeds/approvals/", {"jurisdiction": "BJ"}))
