"""The listings' tables through HTTP: /models/ with each submission's date and days in
review, every sortable column ordered with unknown values last in both directions (the
API's cursor paging in the same order), and /applicants/ sorted by its columns."""

import datetime
from dataclasses import dataclass, field
from html.parser import HTMLParser

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from tests.factories import (
    AIModelFactory,
    ApplicantFactory,
    ApprovedModelFactory,
    BatchFactory,
    days_ago,
    jurisdiction,
)
from tracker.models import ApplicantKind, Status
from tracker.public.filters import APPLICANT_SORT_KEYS, SORT_KEYS

pytestmark = pytest.mark.django_db

UNNAMED = "Nowhere Co model (name not reported)"


@dataclass
class Row:
    heading: str
    cells: dict = field(default_factory=dict)
    unknown: set = field(default_factory=set)


class ListingRows(HTMLParser):
    """The body rows of a page's first table of class "listing": each row's heading, and
    its cells' text by their data-label (the label a phone shows beside the value), with
    the labels of the cells marked unknown (which a phone leaves out)."""

    def __init__(self):
        super().__init__()
        self.rows, self.depth, self.in_body = [], 0, False
        self.cell, self.text = None, []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        classes = (attrs.get("class") or "").split()
        if tag == "table" and (self.depth or "listing" in classes) and not self.rows:
            self.depth += 1
        elif not self.depth:
            return
        if tag == "tbody":
            self.in_body = True
        elif self.in_body and tag == "tr":
            self.rows.append(Row(heading=""))
        elif self.in_body and tag in ("th", "td"):
            self.cell, self.text = attrs.get("data-label", ""), []
            if "unknown" in classes:
                self.rows[-1].unknown.add(self.cell)

    def handle_endtag(self, tag):
        if not self.depth:
            return
        if tag in ("th", "td") and self.cell is not None:
            text = " ".join(" ".join(self.text).split())
            if tag == "th":
                self.rows[-1].heading = text
            else:
                self.rows[-1].cells[self.cell] = text
            self.cell = None
        elif tag == "tbody":
            self.in_body = False
        elif tag == "table":
            self.depth -= 1

    def handle_data(self, data):
        if self.cell is not None:
            self.text.append(data)


def rows_of(response):
    assert response.status_code == 200
    parser = ListingRows()
    parser.feed(response.content.decode())
    return parser.rows


def headings(response):
    return [row.heading for row in rows_of(response)]


@pytest.fixture
def models():
    """Seven models whose sortable values are each unknown for some: no submission date,
    no approval, no filing number, no batch, no name, an applicant without a
    jurisdiction; and four applicants with different counts, one with no model."""
    first = BatchFactory(title_en="April list", announced_on=datetime.date(2024, 4, 2))
    second = BatchFactory(title_en="August list", announced_on=datetime.date(2024, 8, 15))
    alpha = ApplicantFactory(
        name_en="Alpha Tech",
        name_zh="北京阿尔法科技有限公司",
        jurisdiction=jurisdiction("BJ"),
        kind=ApplicantKind.PRIVATE,
    )
    beta = ApplicantFactory(
        name_en="Beta Labs",
        name_zh="上海贝塔实验室",
        jurisdiction=jurisdiction("SH"),
        kind=ApplicantKind.ACADEMIC,
    )
    nowhere = ApplicantFactory(
        name_en="Nowhere Co", name_zh="", jurisdiction=None, kind=ApplicantKind.STATE_OWNED
    )
    ApplicantFactory(
        name_en="Zeta Quiet",
        name_zh="广州泽塔",
        jurisdiction=jurisdiction("GD"),
        kind=ApplicantKind.OTHER,
    )
    ApprovedModelFactory(
        name_en="Kestrel",
        applicant=alpha,
        submitted_on=datetime.date(2024, 1, 1),
        approved_on=datetime.date(2024, 3, 1),
        filing_number="Beijing-Kestrel-202403010001",
        batch=first,
    )
    ApprovedModelFactory(
        name_en="Heron",
        applicant=beta,
        submitted_on=None,
        approved_on=datetime.date(2024, 6, 1),
        filing_number="Shanghai-Heron-202406010002",
        batch=second,
    )
    ApprovedModelFactory(
        name_en="Osprey",
        applicant=nowhere,
        submitted_on=datetime.date(2023, 12, 1),
        approved_on=datetime.date(2024, 3, 1),
        filing_number="",
        batch=None,
    )
    AIModelFactory(
        name_en="Finch", applicant=alpha, status=Status.NATIONAL_REVIEW, submitted_on=days_ago(30)
    )
    AIModelFactory(
        name_en="Wren", applicant=beta, status=Status.SUBMITTED, submitted_on=days_ago(200)
    )
    AIModelFactory(
        name_en="Plover",
        applicant=alpha,
        status=Status.REJECTED,
        submitted_on=datetime.date(2024, 2, 1),
    )
    AIModelFactory(
        name_en="",
        name_zh="",
        applicant=nowhere,
        status=Status.PROVINCIAL_REVIEW,
        submitted_on=None,
    )
    return {"second": second}


def models_url():
    return reverse("tracker:model_list")


def applicants_url():
    return reverse("tracker:applicant_list")


# /models/: the submission date and days in review


def test_the_models_table_shows_the_submission_date_and_days_in_review(client, models):
    rows = {row.heading: row for row in rows_of(client.get(models_url()))}

    assert rows["Finch"].cells["Submitted on"] == days_ago(30).isoformat()
    assert rows["Finch"].cells["Days in review"] == "30"
    assert rows["Wren"].cells["Days in review"] == "200"
    # A decided submission counts to its approval.
    assert rows["Kestrel"].cells["Submitted on"] == "2024-01-01"
    assert rows["Kestrel"].cells["Approved on"] == "2024-03-01"
    assert rows["Kestrel"].cells["Days in review"] == "60"
    assert rows["Osprey"].cells["Days in review"] == "91"


def test_unknown_review_values_show_a_dash_marked_unknown(client, models):
    rows = {row.heading: row for row in rows_of(client.get(models_url()))}

    # Approved without a known submission date; rejected, so never approved.
    assert rows["Heron"].cells["Submitted on"] == "—"
    assert rows["Heron"].cells["Days in review"] == "—"
    assert rows["Heron"].unknown == {"Submitted on", "Days in review"}
    assert rows["Plover"].cells["Days in review"] == "—"
    assert rows["Plover"].unknown == {"Filing number", "Approved on", "Days in review", "Batch"}
    assert rows["Kestrel"].unknown == set()


def test_the_applicant_cell_names_its_jurisdiction_beneath(client, models):
    rows = {row.heading: row for row in rows_of(client.get(models_url()))}

    assert rows["Kestrel"].cells["Applicant"] == "Alpha Tech Beijing"
    assert rows["Osprey"].cells["Applicant"] == "Nowhere Co"


def test_a_batch_page_leaves_out_the_review_columns(client, models):
    response = client.get(models["second"].get_absolute_url())

    assert [(row.heading, row.cells) for row in rows_of(response)] == [
        (
            "Heron",
            {
                "No.": "",
                "Applicant": "Beta Labs Shanghai",
                "Type": "Filing",
                "Status": "Approved",
                "Filing number": "Shanghai-Heron-202406010002",
                "Approved on": "2024-06-01",
            },
        )
    ]


# /models/: sorting, unknown values last in both directions


@pytest.mark.parametrize(
    "sort, expected",
    [
        (
            "submitted_on",
            ["Osprey", "Kestrel", "Plover", "Wren", "Finch", "Heron", UNNAMED],
        ),
        (
            "-submitted_on",
            ["Finch", "Wren", "Plover", "Kestrel", "Osprey", "Heron", UNNAMED],
        ),
        (
            "days_in_review",
            ["Finch", "Kestrel", "Osprey", "Wren", "Heron", "Plover", UNNAMED],
        ),
        (
            "-days_in_review",
            ["Wren", "Osprey", "Kestrel", "Finch", "Heron", "Plover", UNNAMED],
        ),
        (
            "filing_number",
            ["Kestrel", "Heron", "Osprey", "Finch", "Wren", "Plover", UNNAMED],
        ),
        (
            "-filing_number",
            ["Heron", "Kestrel", "Osprey", "Finch", "Wren", "Plover", UNNAMED],
        ),
    ],
)
def test_sorting_puts_unknown_values_last_in_either_direction(client, models, sort, expected):
    assert headings(client.get(models_url(), {"sort": sort})) == expected


# The rows whose value is unknown for each sort key, in the order they were made (their ids).
UNKNOWN = {
    "name": [UNNAMED],
    "applicant": [],
    "jurisdiction": ["Osprey", UNNAMED],
    "filing_type": [],
    "status": [],
    "filing_number": ["Osprey", "Finch", "Wren", "Plover", UNNAMED],
    "submitted_on": ["Heron", UNNAMED],
    "approved_on": ["Finch", "Wren", "Plover", UNNAMED],
    "batch": ["Osprey", "Finch", "Wren", "Plover", UNNAMED],
    "days_in_review": ["Heron", "Plover", UNNAMED],
}


def test_every_sort_key_says_which_rows_it_cannot_place():
    assert set(UNKNOWN) == set(SORT_KEYS)


@pytest.mark.parametrize("key", SORT_KEYS)
@pytest.mark.parametrize("descending", [False, True])
def test_every_sortable_column_lists_its_unknown_values_last(client, models, key, descending):
    sort = f"-{key}" if descending else key
    rows = headings(client.get(models_url(), {"sort": sort}))

    unknown = UNKNOWN[key]
    assert len(rows) == 7
    assert rows[len(rows) - len(unknown) :] == unknown


def test_the_review_columns_have_sort_links_that_reverse_on_the_second_click(client, models):
    html = client.get(models_url(), {"sort": "days_in_review"}).content.decode()

    assert (
        '<th scope="col" class="num prio-3" aria-sort="ascending">'
        '<a href="?sort=-days_in_review">Days in review&nbsp;<span aria-hidden="true">▲</span>'
    ) in html
    assert '<a href="?sort=submitted_on">Submitted on</a>' in html


def test_the_applicant_header_sorts_by_applicant_and_by_jurisdiction(client, models):
    html = client.get(models_url(), {"sort": "-jurisdiction", "status": "approved"})
    html = html.content.decode()

    assert '<th scope="col" class="name" aria-sort="descending">' in html
    assert '<a href="?status=approved&amp;sort=applicant">Applicant</a>' in html
    assert (
        '<span class="stacked"><a href="?status=approved&amp;sort=jurisdiction">Jurisdiction'
        '&nbsp;<span aria-hidden="true">▼</span></a></span>'
    ) in html


@pytest.mark.parametrize("sort", ["submitted", "days", "-days_in_review,name", "--submitted_on"])
def test_a_bad_sort_on_the_models_page_is_reported_not_an_error(client, models, sort):
    response = client.get(models_url(), {"sort": sort})

    assert f"Ignored sort “{sort}”: not a column that can be sorted." in response.text
    # The default order: newest approval first.
    assert headings(response)[:3] == ["Heron", "Kestrel", "Osprey"]
    # Its column says so, and the form does not send the ignored sort again.
    assert response.text.count("aria-sort=") == 1
    assert (
        '<th scope="col" aria-sort="descending"><a href="?sort=approved_on">Approved on'
        '&nbsp;<span aria-hidden="true">▼</span></a></th>'
    ) in response.text
    assert 'name="sort"' not in response.text


@pytest.mark.parametrize(
    "sort", ["filing_number", "-filing_number", "days_in_review", "-days_in_review"]
)
def test_the_api_pages_through_the_same_order(client, models, sort):
    page = [row.heading for row in rows_of(client.get(models_url(), {"sort": sort}))]
    url, walked = f"/api/v1/models/?sort={sort}&page_size=2", []
    while url is not None:
        body = client.get(url).json()
        walked += [row["name_en"] or UNNAMED for row in body["results"]]
        url = body["next"]

    assert walked == page


def test_sorting_by_the_review_columns_costs_no_more_queries_than_the_default(
    client, models, django_assert_num_queries
):
    with CaptureQueriesContext(connection) as default:
        client.get(models_url())
    for sort in ("submitted_on", "-submitted_on", "days_in_review", "-days_in_review"):
        cache.clear()
        with django_assert_num_queries(len(default)):
            client.get(models_url(), {"sort": sort})


def test_the_models_page_query_count_does_not_grow_with_rows(
    client, models, django_assert_num_queries
):
    with CaptureQueriesContext(connection) as few:
        client.get(models_url(), {"sort": "-days_in_review"})
    for i in range(12):
        AIModelFactory(submitted_on=days_ago(i))
    cache.clear()
    with django_assert_num_queries(len(few)):
        client.get(models_url(), {"sort": "-days_in_review"})


# /applicants/: sortable by every column


@pytest.mark.parametrize(
    "sort, expected",
    [
        ("name", ["Alpha Tech", "Beta Labs", "Nowhere Co", "Zeta Quiet"]),
        ("-name", ["Zeta Quiet", "Nowhere Co", "Beta Labs", "Alpha Tech"]),
        # Beijing, Shanghai, Guangdong in the usual order of provinces; none last.
        ("jurisdiction", ["Alpha Tech", "Beta Labs", "Zeta Quiet", "Nowhere Co"]),
        ("-jurisdiction", ["Zeta Quiet", "Beta Labs", "Alpha Tech", "Nowhere Co"]),
        # Private, state-owned, university or institute, other.
        ("kind", ["Alpha Tech", "Nowhere Co", "Beta Labs", "Zeta Quiet"]),
        ("-kind", ["Zeta Quiet", "Beta Labs", "Nowhere Co", "Alpha Tech"]),
        # 3, 2, 2, 0 models: equal counts by name, in either direction.
        ("models", ["Zeta Quiet", "Beta Labs", "Nowhere Co", "Alpha Tech"]),
        ("-models", ["Alpha Tech", "Beta Labs", "Nowhere Co", "Zeta Quiet"]),
        # 1, 1, 1, 0 approved.
        ("approved", ["Zeta Quiet", "Alpha Tech", "Beta Labs", "Nowhere Co"]),
        ("-approved", ["Alpha Tech", "Beta Labs", "Nowhere Co", "Zeta Quiet"]),
        # 1, 1, 1, 0 in review.
        ("pending", ["Zeta Quiet", "Alpha Tech", "Beta Labs", "Nowhere Co"]),
        ("-pending", ["Alpha Tech", "Beta Labs", "Nowhere Co", "Zeta Quiet"]),
        # 1, 0, 0, 0 other outcomes (Alpha Tech's rejection).
        ("other", ["Beta Labs", "Nowhere Co", "Zeta Quiet", "Alpha Tech"]),
        ("-other", ["Alpha Tech", "Beta Labs", "Nowhere Co", "Zeta Quiet"]),
    ],
)
def test_applicants_sort_by_each_column(client, models, sort, expected):
    assert headings(client.get(applicants_url(), {"sort": sort})) == expected


def test_every_applicant_column_is_sortable(client, models):
    html = client.get(applicants_url()).content.decode()

    assert APPLICANT_SORT_KEYS == (
        "name",
        "jurisdiction",
        "kind",
        "models",
        "approved",
        "pending",
        "other",
    )
    assert '<th scope="col" aria-sort="ascending"><a href="?sort=-name">Applicant' in html
    for key in APPLICANT_SORT_KEYS[1:]:
        assert f'<a href="?sort={key}">' in html


def test_the_applicant_counts_match_their_columns(client, models):
    rows = {row.heading: row.cells for row in rows_of(client.get(applicants_url()))}

    assert rows["Alpha Tech"] == {
        "Jurisdiction": "Beijing",
        "Kind": "Private company",
        "Models": "3",
        "Approved": "1",
        "In review": "1",
        "Other outcomes": "1",
    }
    assert rows["Zeta Quiet"]["Models"] == "0"


def test_applicants_by_name_in_chinese_sort_by_the_chinese_name(client, models):
    with translation.override("zh-hans"):
        url = applicants_url()

    assert headings(client.get(url, {"sort": "name"})) == [
        # Without a Chinese name, the English one, whose letters come first.
        "Nowhere Co",
        "上海贝塔实验室",
        "北京阿尔法科技有限公司",
        "广州泽塔",
    ]


def test_the_applicant_sort_keeps_the_search_and_the_search_keeps_the_sort(client, models):
    html = client.get(applicants_url(), {"q": "a", "sort": "-models"}).content.decode()

    assert '<th scope="col" class="num" aria-sort="descending"><a href="?q=a&amp;sort=models">' in (
        html
    )
    assert '<input type="hidden" name="sort" value="-models">' in html


def test_the_default_applicant_sort_adds_nothing_to_the_search(client, models):
    html = client.get(applicants_url(), {"sort": "name"}).content.decode()

    assert 'name="sort"' not in html


@pytest.mark.parametrize("sort", ["bogus", "n_models", "name,kind", "--name", "-", "Name"])
def test_a_bad_applicant_sort_is_reported_and_the_default_order_kept(client, models, sort):
    response = client.get(applicants_url(), {"sort": sort})

    assert response.status_code == 200
    assert response.context["problems"] == [
        f"Ignored sort “{sort}”: not a column that can be sorted."
    ]
    assert headings(response) == ["Alpha Tech", "Beta Labs", "Nowhere Co", "Zeta Quiet"]


def test_a_bad_applicant_sort_with_a_long_search_reports_both(client, models):
    response = client.get(applicants_url(), {"q": "x" * 250, "sort": "bogus"})

    assert response.context["problems"] == [
        "The search was shortened to its first 200 characters.",
        "Ignored sort “bogus”: not a column that can be sorted.",
    ]


@pytest.mark.parametrize("sort", ["", "name", "-jurisdiction", "kind", "-models", "other"])
def test_the_applicants_page_query_count_does_not_grow_with_rows(
    client, models, django_assert_num_queries, sort
):
    # The register stamp; the count; the page's applicants in order; their models counted
    # by status.
    with django_assert_num_queries(4):
        client.get(applicants_url(), {"sort": sort})
    for i in range(12):
        AIModelFactory(applicant=ApplicantFactory(), submitted_on=days_ago(i))
    with django_assert_num_queries(4):
        assert len(rows_of(client.get(applicants_url(), {"sort": sort}))) == 16


def test_today_moves_the_days_in_review_of_a_pending_model(client, models, monkeypatch):
    later = timezone.localdate() + datetime.timedelta(days=10)
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: later)

    rows = {row.heading: row for row in rows_of(client.get(models_url()))}

    assert rows["Finch"].cells["Days in review"] == "40"
    assert rows["Kestrel"].cells["Days in review"] == "60"
