import datetime
import re
from html.parser import HTMLParser

import pytest
from django.urls import reverse
from django.utils import translation

from tests.factories import (
    AIModelFactory,
    ApplicantFactory,
    ApprovedModelFactory,
    jurisdiction,
)
from tracker import workflow
from tracker.analysis import breakdowns, charts
from tracker.analysis.breakdowns import MonthCount
from tracker.models import AIModel, FilingType, Jurisdiction, Status

pytestmark = pytest.mark.django_db

MARCH = datetime.date(2024, 3, 1)
MAY = datetime.date(2024, 5, 10)


@pytest.fixture
def register():
    """Beijing: three filings approved in March 2024 after 10, 20 and 30 days, four
    registrations approved in May (three calling Ernie Bot, one GLM) and a pending
    submission. Shanghai: a filing approved in March after 40 days and one approved in
    January and since suspended. Guangdong: a registration naming no upstream model."""
    beijing = ApplicantFactory(jurisdiction=jurisdiction("BJ"))
    shanghai = ApplicantFactory(jurisdiction=jurisdiction("SH"))
    guangdong = ApplicantFactory(jurisdiction=jurisdiction("GD"))
    ernie, glm, _third = (
        ApprovedModelFactory(
            name_en=name,
            applicant=beijing,
            approved_on=MARCH,
            submitted_on=MARCH - datetime.timedelta(days=days),
        )
        for name, days in (("Ernie Bot", 10), ("GLM", 20), ("Third", 30))
    )
    ApprovedModelFactory(
        applicant=shanghai,
        approved_on=datetime.date(2024, 3, 15),
        submitted_on=datetime.date(2024, 3, 15) - datetime.timedelta(days=40),
    )
    AIModelFactory(
        applicant=shanghai,
        status=Status.SUSPENDED,
        approved_on=datetime.date(2024, 1, 20),
        submitted_on=None,
    )
    for upstream in (ernie, ernie, ernie, glm):
        ApprovedModelFactory(
            applicant=beijing,
            filing_type=FilingType.REGISTRATION,
            upstream=upstream,
            approved_on=MAY,
            submitted_on=None,
        )
    # As a published registration list enters it, before staff link its upstream model.
    unlinked = AIModel(applicant=guangdong, filing_type=FilingType.REGISTRATION, approved_on=MAY)
    workflow.enter_published([(unlinked, "")], by=None)
    AIModelFactory(applicant=beijing, submitted_on=datetime.date(2024, 4, 1))
    return {"ernie": ernie, "glm": glm}


class Tables(HTMLParser):
    """The cells' text of every table of a page, row by row, under the table's caption."""

    def __init__(self, html):
        super().__init__()
        self.tables, self.caption, self.row, self.cell = {}, None, None, None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        if tag == "caption":
            self.caption = ""
        elif tag == "tr":
            self.row = []
        elif tag in ("td", "th") and self.row is not None:
            self.cell = ""

    def handle_endtag(self, tag):
        if tag == "caption":
            self.tables[self.caption.strip()] = self.rows = []
            self.caption = None
        elif tag in ("td", "th") and self.cell is not None:
            self.row.append(" ".join(self.cell.split()))
            self.cell = None
        elif tag == "tr" and self.row is not None:
            self.rows.append(self.row)
            self.row = None

    def handle_data(self, data):
        if self.caption is not None:
            self.caption += data
        elif self.cell is not None:
            self.cell += data


def page(client, language="en"):
    with translation.override(language):
        url = reverse("tracker:report_charts")
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def desc(html, chart_id):
    found = re.search(rf'<desc id="{chart_id}-desc">(.*?)</desc>', html, re.S)
    return " ".join(found.group(1).split())


# Geometry ---------------------------------------------------------------------------------


def months(*values):
    """MonthCount from January 2024 on, one a (filings, registrations) pair."""
    return [
        MonthCount(datetime.date(2024 + i // 12, i % 12 + 1, 1), f, r)
        for i, (f, r) in enumerate(values)
    ]


def test_monthly_columns_stack_registrations_on_filings_in_one_scale():
    chart = charts.monthly_chart(months((4, 0), (0, 0), (6, 4)))

    assert [c.label for c in chart.columns] == ["2024-01", "2024-02", "2024-03"]
    assert [c.values for c in chart.columns] == [(4, 0), (0, 0), (6, 4)]
    assert [len(c.segments) for c in chart.columns] == [1, 0, 2]
    filings, registrations = chart.columns[2].segments
    assert (filings.css, registrations.css) == ("filing", "registration")
    # The registrations sit on the filings, and the tallest column reaches the axis top of 10.
    assert registrations.y + registrations.height == filings.y
    assert registrations.y == chart.top
    assert filings.y + filings.height == chart.bottom
    assert chart.columns[0].segments[0].height == pytest.approx(filings.height * 4 / 6, abs=0.2)
    assert [label for _y, label in chart.y_ticks] == ["0", "2", "4", "6", "8", "10"]
    assert chart.totals == {"filings": 10, "registrations": 4}
    assert chart.total == 14
    assert chart.busiest.label == "2024-03"


def test_monthly_columns_stay_inside_the_frame_in_month_order():
    chart = charts.monthly_chart(months(*[(i, 1) for i in range(30)]))

    xs = [c.x for c in chart.columns]
    assert xs == sorted(xs)
    assert chart.left <= xs[0] and xs[-1] + chart.columns[-1].width <= chart.right
    assert [label for _x, label in chart.x_ticks] == [
        "2024-01",
        "2024-07",
        "2025-01",
        "2025-07",
        "2026-01",
    ]


def test_a_single_month_is_one_column_labelled_with_its_month():
    chart = charts.monthly_chart(months((0, 3)))

    assert chart.x_ticks == [(pytest.approx((chart.left + chart.right) / 2), "2024-01")]
    assert chart.series == [("Registrations", "registration")]


def test_there_are_no_columns_without_approvals():
    assert charts.monthly_chart([]) is None
    assert charts.monthly_chart(months((0, 0))) is None


def test_bars_are_proportional_to_their_values_in_their_order():
    chart = charts.bar_chart(
        [
            charts.BarRow("A", 10, "10"),
            charts.BarRow("B", 5, "5", marker=20),
            charts.BarRow("C", 0, "0"),
        ]
    )

    a, b, c = chart.bars
    # The largest value, the marker of B, spans the chart.
    assert b.marker_x == chart.width - 2
    assert a.length == pytest.approx(b.marker_x / 2, abs=0.1)
    assert b.length == pytest.approx(b.marker_x / 4, abs=0.1)
    assert c.length == 1  # a zero still shows where the bar starts
    assert a.y < b.y < c.y
    assert all(bar.label_y < bar.y for bar in chart.bars)
    assert chart.height == pytest.approx(c.y + chart.thickness, abs=2)
    assert chart.has_markers


def test_a_long_name_is_cut_to_fit_beside_its_figures():
    name = "北京百度网讯科技有限公司的文心一言大模型企业版专业增强版本"
    chart = charts.bar_chart([charts.BarRow(name, 1, "12 registrations")])

    label = chart.bars[0].label
    assert label.endswith("…") and name.startswith(label[:-1])
    width = charts.text_width(label) + charts.text_width(" 12 registrations")
    assert width <= charts.BAR_WIDTH / charts.LABEL_SIZE


def test_fit_counts_chinese_characters_as_wider_than_latin_ones():
    assert charts.fit("Inner Mongolia", 8) == "Inner Mongolia"
    assert charts.fit("Inner Mongolia", 6) == "Inner Mon…"
    assert charts.fit("内蒙古自治区", 6) == "内蒙古自治区"
    assert charts.fit("内蒙古自治区", 4) == "内蒙古…"


def test_there_are_no_bars_without_rows():
    assert charts.bar_chart([]) is None


@pytest.mark.parametrize(
    ("counts", "bounds"),
    [
        ([1, 2, 3, 4, 5, 6, 7, 8], [2, 4, 6, 8]),
        ([0, 0, 1, 1, 7], [1, 7]),
        ([5, 5, 5], [5]),
        ([0, 0], []),
    ],
)
def test_shades_split_the_counts_above_zero_into_groups_of_about_equal_size(counts, bounds):
    assert charts.shade_bounds(counts) == bounds


def test_the_tile_grid_places_every_jurisdiction_on_a_square_of_its_own():
    codes = set(Jurisdiction.objects.values_list("code", flat=True))

    assert set(charts.TILE_GRID) == codes
    places = list(charts.TILE_GRID.values())
    assert len(set(places)) == len(places)
    assert all(
        0 <= column < charts.GRID_COLUMNS and 0 <= row < charts.GRID_ROWS for column, row in places
    )
    # North above south, west left of east.
    grid = charts.TILE_GRID
    assert grid["HL"][1] < grid["BJ"][1] < grid["HE"][1] < grid["HA"][1] < grid["GD"][1]
    assert grid["XJ"][0] < grid["SN"][0] < grid["HA"][0] < grid["SD"][0] < grid["SH"][0]


def test_tiles_are_shaded_by_count_the_largest_darkest():
    jurisdictions = list(Jurisdiction.objects.all())

    tile_map = charts.tile_map({"BJ": 7, "SH": 1, "GD": 1}, jurisdictions)

    tiles = {tile.code: tile for tile in tile_map.tiles}
    assert len(tiles) == len(jurisdictions)
    assert (tiles["BJ"].shade, tiles["SH"].shade, tiles["TJ"].shade) == (4, 3, 0)
    assert tile_map.legend == [(0, 0, 0), (3, 1, 1), (4, 2, 7)]
    step = charts.TILE + charts.TILE_GAP
    assert (tiles["BJ"].x, tiles["BJ"].y) == (4 * step, 1 * step)
    assert tiles["SASAC"].apart and not tiles["BJ"].apart
    assert tile_map.height == charts.GRID_ROWS * step - charts.TILE_GAP
    assert (tile_map.total, tile_map.with_any) == (9, 3)
    assert tile_map.leaders == "Beijing (7), Shanghai (1), Guangdong (1)"


def test_tiles_are_labelled_by_code_in_english_and_by_short_name_in_chinese():
    jurisdictions = list(Jurisdiction.objects.filter(code__in=["BJ", "NM"]))

    english = charts.tile_map({"BJ": 1}, jurisdictions)
    with translation.override("zh-hans"):
        chinese = charts.tile_map({"BJ": 1}, jurisdictions)

    assert [t.label for t in english.tiles] == ["BJ", "NM"]
    assert [t.label for t in chinese.tiles] == ["北京", "内蒙古"]


def test_a_jurisdiction_the_grid_does_not_place_goes_in_a_row_below():
    new = Jurisdiction.objects.create(
        code="HK", name_zh="香港", name_en="Hong Kong", filing_token="HongKong", sort_order=99
    )

    tile_map = charts.tile_map({"HK": 2}, list(Jurisdiction.objects.all()))

    tile = next(t for t in tile_map.tiles if t.code == new.code)
    step = charts.TILE + charts.TILE_GAP
    assert (tile.x, tile.y) == (0, charts.GRID_ROWS * step)
    assert tile.apart
    assert tile_map.height == (charts.GRID_ROWS + 1) * step - charts.TILE_GAP


def test_there_is_no_map_without_approvals():
    assert charts.tile_map({}, list(Jurisdiction.objects.all())) is None


# Counts -----------------------------------------------------------------------------------


def test_approvals_by_month_include_the_months_without_any(register):
    result = breakdowns.approvals_by_month()

    assert [(m.month.isoformat(), m.filings, m.registrations) for m in result] == [
        ("2024-01-01", 1, 0),
        ("2024-02-01", 0, 0),
        ("2024-03-01", 4, 0),
        ("2024-04-01", 0, 0),
        ("2024-05-01", 0, 5),
    ]


def test_approved_by_jurisdiction_counts_what_the_approved_listing_shows(register, client):
    counts = breakdowns.approved_by_jurisdiction()

    assert counts == {"BJ": 7, "SH": 1, "GD": 1}
    listing = client.get(
        reverse("tracker:model_list"), {"jurisdiction": "BJ", "status": "approved"}
    )
    assert listing.context["page"].paginator.count == 7


def test_registrations_by_upstream_sums_the_rest_and_counts_the_unrecorded(register):
    upstream = breakdowns.registrations_by_upstream(top=1)

    assert upstream.top == [(register["ernie"], 3)]
    assert (upstream.others, upstream.others_registrations) == (1, 1)
    assert upstream.unrecorded == 1
    assert upstream.named == 4


# The page ---------------------------------------------------------------------------------


def test_the_charts_page_draws_four_charts_each_with_a_title_and_key_figures(client, register):
    html = page(client)

    assert html.count('<svg class="chart-svg') == 4
    assert '<title id="months-title">Approvals per month, by filing type</title>' in html
    assert desc(html, "months") == (
        "Approvals from 2024-01 to 2024-05: 10 (filings: 5, registrations: 5). The most in "
        "one month: 5, in 2024-05. The table gives every month's numbers."
    )
    assert desc(html, "map") == (
        "Approved models: 9, in 3 of 32 jurisdictions. The most: Beijing (7), Shanghai (1), "
        "Guangdong (1). The table gives every jurisdiction's count."
    )
    assert desc(html, "upstream-chart") == (
        "4 registrations name their upstream model. They call 2 models; the most called: "
        "Ernie Bot (3), GLM (1). The table gives every number."
    )
    assert desc(html, "time-chart") == (
        "Median days from submission to approval in 2 jurisdictions, from 20 in Beijing to "
        "40 in Shanghai. Only approvals whose submission date is known count; the table "
        "gives every number."
    )


def test_the_descriptions_of_a_single_value_say_so(client):
    upstream = ApprovedModelFactory(name_en="Ernie Bot")
    ApprovedModelFactory(filing_type=FilingType.REGISTRATION, upstream=upstream)

    html = page(client)

    assert desc(html, "upstream-chart") == (
        "1 registration names its upstream model. The model called: Ernie Bot (1). The "
        "table gives every number."
    )
    # Both approvals took 2024-01-10 to 2024-03-01.
    assert desc(html, "time-chart") == (
        "One jurisdiction: Beijing, with a median of 51 days from submission to approval. "
        "Only approvals whose submission date is known count; the table gives every number."
    )


def test_each_chart_has_a_table_with_every_number(client, register):
    tables = Tables(page(client)).tables

    assert tables["Approvals per month"] == [
        ["Month", "Filings", "Registrations", "Total"],
        ["2024-01", "1", "0", "1"],
        ["2024-02", "0", "0", "0"],
        ["2024-03", "4", "0", "4"],
        ["2024-04", "0", "0", "0"],
        ["2024-05", "0", "5", "5"],
        ["Total", "5", "5", "10"],
    ]
    by_jurisdiction = tables["Approved models by jurisdiction"]
    assert by_jurisdiction[:4] == [
        ["Jurisdiction", "Code", "Approved models"],
        ["Beijing", "BJ", "7"],
        ["Shanghai", "SH", "1"],
        ["Guangdong", "GD", "1"],
    ]
    assert len(by_jurisdiction) == 1 + Jurisdiction.objects.count()
    assert by_jurisdiction[-1][2] == "0"
    assert tables["Registrations by upstream model"] == [
        ["Upstream model", "Applicant", "Registrations"],
        ["Ernie Bot", register["ernie"].applicant.name, "3"],
        ["GLM", register["glm"].applicant.name, "1"],
        ["Upstream model not recorded", "—", "1"],
    ]
    assert tables["Time to approval by jurisdiction"] == [
        ["Jurisdiction", "Approvals", "Median days", "90th percentile, days"],
        ["Beijing", "3", "20", "30"],
        ["Shanghai", "1", "40", "40"],
    ]


def test_each_tile_links_to_the_approved_models_of_its_jurisdiction(client, register):
    html = page(client)

    listing = reverse("tracker:model_list")
    assert (
        f'<a class="tile tile--4" href="{listing}?jurisdiction=BJ&amp;status=approved" '
        'aria-label="BJ 7 approved models (Beijing)">' in html
    )
    assert (
        f'<a class="tile tile--0" href="{listing}?jurisdiction=TJ&amp;status=approved" '
        'aria-label="TJ 0 approved models (Tianjin)">' in html
    )
    assert html.count('<a class="tile ') == Jurisdiction.objects.count()
    assert '<text class="tile-label" x="' in html and ">BJ</text>" in html


def test_each_upstream_bar_links_to_the_upstream_model(client, register):
    html = page(client)

    ernie = register["ernie"].get_absolute_url()
    assert (
        f'<a href="{ernie}">\n      <text class="chart-bar-label" x="0" y="18"><tspan '
        'class="chart-bar-name">Ernie Bot</tspan> <tspan class="chart-bar-figures">3 '
        "registrations</tspan></text>"
    ) in html
    assert "1 registration does not name its upstream model" in html


def test_the_upstream_models_beyond_the_top_ones_share_one_bar(client, register):
    applicant = ApplicantFactory()
    for upstream in ApprovedModelFactory.create_batch(breakdowns.TOP_UPSTREAM, applicant=applicant):
        ApprovedModelFactory.create_batch(
            2, applicant=applicant, filing_type=FilingType.REGISTRATION, upstream=upstream
        )

    html = page(client)

    # Ernie Bot (3) and nine of the ten called twice are named; one of those and GLM (1)
    # are not.
    assert (
        '<tspan class="chart-bar-name">2 other upstream models</tspan> '
        '<tspan class="chart-bar-figures">3 registrations</tspan>'
    ) in html
    rows = Tables(html).tables["Registrations by upstream model"]
    assert len(rows) == 1 + breakdowns.TOP_UPSTREAM + 2
    assert rows[1][0] == "Ernie Bot"
    assert rows[-2:] == [
        ["2 other upstream models", "—", "3"],
        ["Upstream model not recorded", "—", "1"],
    ]


def test_the_charts_page_reads_a_fixed_number_of_queries(
    client, register, django_assert_num_queries
):
    ApprovedModelFactory.create_batch(
        5, applicant=ApplicantFactory(jurisdiction=jurisdiction("ZJ"))
    )
    url = reverse("tracker:report_charts")

    # 1: the register stamp, for the validators; 2: approvals per month and filing type;
    # 3: approved models per jurisdiction; 4: the jurisdictions; 5: registrations per
    # upstream model; 6: the most called upstream models; 7: approvals with both dates, for
    # the time to approval; 8: its jurisdictions' names.
    with django_assert_num_queries(8):
        response = client.get(url)

    assert response.status_code == 200


def test_an_empty_register_has_nothing_to_draw_yet(client, django_assert_num_queries):
    url = reverse("tracker:report_charts")

    # The same queries but the upstream models' rows, none being called.
    with django_assert_num_queries(7):
        html = client.get(url).content.decode()

    assert "<svg" not in html.split("<main", 1)[1]
    for sentence in (
        "Nothing to draw yet: no approval has been entered.",
        "Nothing to draw yet: no model is approved.",
        "Nothing to draw yet: no registration names its upstream model.",
        "Nothing to draw yet: no approval has a known submission date.",
    ):
        assert sentence in html


def test_the_charts_page_speaks_chinese(client, register):
    html = page(client, "zh-hans")

    assert '<html lang="zh-hans">' in html
    with translation.override("zh-hans"):
        listing = reverse("tracker:model_list")
    assert f'href="{listing}?jurisdiction=BJ&amp;status=approved"' in html
    assert ">北京</text>" in html and ">内蒙古</text>" in html
    assert ["北京", "BJ", "7"] in Tables(html).tables["各属地已备案模型"]
    assert '<th scope="col">属地</th>' in html


def test_the_charts_page_has_no_inline_styles_or_scripts(client, register):
    html = page(client)

    assert "style=" not in html
    assert "<style" not in html
    assert "<script" not in html


def test_the_reports_index_links_to_the_charts(client):
    html = client.get(reverse("tracker:reports")).content.decode()

    assert f'href="{reverse("tracker:report_charts")}"' in html


def test_the_time_to_approval_report_draws_its_chart_at_no_extra_query(
    client, register, django_assert_num_queries
):
    url = reverse("tracker:report_time_to_approval")

    # 1: the register stamp; 2: approvals with both dates; 3: the jurisdictions' names.
    with django_assert_num_queries(3):
        html = client.get(url).content.decode()

    assert '<svg class="chart-svg chart-svg--bars"' in html
    assert "from 20 in Beijing to 40 in Shanghai" in html
    assert "20 days, 90th percentile 30" in html
