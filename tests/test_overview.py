import datetime

import pytest

from tests.factories import SECRET, AIModelFactory, ApprovedModelFactory, BatchFactory, days_ago
from tracker.analysis import charts, stats
from tracker.models import FilingType, Status

pytestmark = pytest.mark.django_db


@pytest.fixture
def register():
    """Two batches with approvals, a backlog of four (one undated), one rejection."""
    first = BatchFactory(
        title_en="First notice", announced_on=datetime.date(2023, 8, 31), reported_total=8
    )
    second = BatchFactory(
        title_en="Second notice",
        announced_on=datetime.date(2024, 4, 2),
        reported_total=117,
        reported_registrations_total=5,
    )
    filings = ApprovedModelFactory.create_batch(2, batch=first, internal_notes=SECRET)
    ApprovedModelFactory(batch=second)
    ApprovedModelFactory(batch=second, filing_type=FilingType.REGISTRATION, upstream=filings[0])
    AIModelFactory(submitted_on=days_ago(10), internal_notes=SECRET)
    AIModelFactory(status=Status.PROVINCIAL_REVIEW, submitted_on=days_ago(30))
    AIModelFactory(status=Status.NATIONAL_REVIEW, submitted_on=days_ago(100))
    AIModelFactory(status=Status.NATIONAL_REVIEW, submitted_on=None)
    AIModelFactory(status=Status.REJECTED, submitted_on=days_ago(200))
    return first, second


def counts_of(summary):
    return {c.status: c.count for c in summary.counts}


def test_status_summary_counts_every_status_including_empty_ones(register):
    summary = stats.status_summary()

    counts = counts_of(summary)
    assert list(counts) == list(Status.values)
    assert counts[Status.APPROVED] == 4
    assert counts[Status.SUBMITTED] == 1
    assert counts[Status.PROVINCIAL_REVIEW] == 1
    assert counts[Status.NATIONAL_REVIEW] == 2
    assert counts[Status.REJECTED] == 1
    assert counts[Status.REVOKED] == 0
    assert summary.total == 9
    assert summary.approved == 4
    assert summary.backlog == 4
    assert summary.backlog_dated == 3


def test_stages_are_the_pending_statuses_in_workflow_order(register):
    stages = stats.status_summary().stages

    assert [s.status for s in stages] == [
        Status.SUBMITTED,
        Status.PROVINCIAL_REVIEW,
        Status.SUPPLEMENT_REQUESTED,
        Status.NATIONAL_REVIEW,
    ]
    assert [s.count for s in stages] == [1, 1, 0, 2]


def test_median_wait_of_an_odd_number_is_the_middle_wait(register):
    # Waits 10, 30 and 100 days; the undated one and the rejection do not count.
    assert stats.median_wait(3) == 30


def test_median_wait_of_an_even_number_averages_the_two_middles_rounding_half_up():
    for wait in (10, 30, 41, 100):
        AIModelFactory(submitted_on=days_ago(wait))

    assert stats.median_wait(4) == 36  # (30 + 41) / 2 = 35.5


def test_median_wait_is_unknown_without_dated_pending_submissions(
    django_assert_num_queries,
):
    AIModelFactory(submitted_on=None)

    with django_assert_num_queries(0):
        assert stats.median_wait(0) is None


def test_median_wait_counts_from_the_given_day():
    AIModelFactory(submitted_on=datetime.date(2024, 1, 1))

    assert stats.median_wait(1, today=datetime.date(2024, 1, 31)) == 30


def test_batch_timeline_sums_entered_models_and_keeps_announced_totals(register):
    first, second = register
    BatchFactory(title_en="Unreported notice", announced_on=datetime.date(2024, 8, 1))

    timeline = stats.batch_timeline()

    assert [p.batch.title_en for p in timeline] == [
        "First notice",
        "Second notice",
        "Unreported notice",
    ]
    assert [p.entered_filings for p in timeline] == [2, 3, 3]
    assert [p.entered_registrations for p in timeline] == [0, 1, 1]
    assert [p.announced_filings for p in timeline] == [8, 117, None]
    assert [p.announced_registrations for p in timeline] == [None, 5, None]
    assert [p.entered_in_batch for p in timeline] == [2, 2, 0]


def test_chart_draws_one_line_per_series_with_data(register):
    chart = charts.cumulative_chart(stats.batch_timeline())

    labels = [str(s.label) for s in chart.series]
    assert labels == [
        "Filings entered here",
        "Filings announced",
        "Registrations entered here",
        "Registrations announced",
    ]
    entered = chart.series[0]
    assert [p.value for p in entered.points] == [2, 3]
    # Later batches sit further right, larger counts higher up (smaller y).
    assert entered.points[0].x < entered.points[1].x
    announced = chart.series[1]
    assert announced.points[0].y > announced.points[1].y
    assert all(chart.top <= p.y <= chart.bottom for s in chart.series for p in s.points)
    assert all(chart.left <= p.x <= chart.right for s in chart.series for p in s.points)


def test_chart_leaves_out_a_series_without_any_value():
    BatchFactory(announced_on=datetime.date(2024, 1, 1), reported_total=10)
    BatchFactory(announced_on=datetime.date(2024, 6, 1), reported_total=20)

    chart = charts.cumulative_chart(stats.batch_timeline())

    assert [s.css for s in chart.series] == ["announced"]


def test_chart_axis_reaches_past_the_largest_value_in_round_steps():
    BatchFactory(announced_on=datetime.date(2023, 8, 31), reported_total=8)
    BatchFactory(announced_on=datetime.date(2026, 6, 30), reported_total=988)

    chart = charts.cumulative_chart(stats.batch_timeline())

    assert [label for _y, label in chart.y_ticks] == ["0", "200", "400", "600", "800", "1000"]
    assert [label for _x, label in chart.x_ticks] == [
        "2024-01",
        "2024-07",
        "2025-01",
        "2025-07",
        "2026-01",
    ]


def test_chart_of_a_single_batch_sits_in_the_middle():
    BatchFactory(announced_on=datetime.date(2024, 4, 2), reported_total=117)

    chart = charts.cumulative_chart(stats.batch_timeline())

    (point,) = chart.series[0].points
    assert point.x == (chart.left + chart.right) / 2
    assert chart.x_ticks == [(point.x, "2024-04-02")]


def test_there_is_no_chart_without_batches():
    assert charts.cumulative_chart([]) is None


def test_overview_shows_counts_linked_to_the_filtered_listing(client, register):
    response = client.get("/en/")

    assert response.status_code == 200
    html = response.content.decode()
    assert 'href="/en/models/?status=national_review"' in html
    assert 'href="/en/models/?status=approved">4</a>' in html
    assert 'href="/en/backlog/">4</a>' in html
    assert "30 days" in html  # the median wait
    assert response.context["median_wait"] == 30


def test_overview_lists_the_latest_batches_newest_first(client, register):
    first, second = register

    response = client.get("/en/")

    latest = [p.batch for p in response.context["latest_batches"]]
    assert latest == [second, first]
    html = response.content.decode()
    assert html.index(second.get_absolute_url()) < html.index(first.get_absolute_url())


def test_overview_draws_the_chart_with_a_text_equivalent(client, register):
    html = client.get("/en/").content.decode()

    assert '<svg class="chart-svg"' in html
    assert 'role="img"' in html
    assert '<title id="chart-title">' in html
    assert '<desc id="chart-desc">' in html
    assert "2 batches from 2023-08-31 to 2024-04-02" in html
    assert "The CAC announced 117 filings in total by then." in html
    # The data table holds every number of the chart.
    assert '<td class="num">117</td>' in html
    assert '<td class="num">3</td>' in html


def test_overview_of_an_empty_register_still_renders(client):
    response = client.get("/en/")

    assert response.status_code == 200
    assert response.context["chart"] is None
    assert response.context["median_wait"] is None
    assert "The chart appears once a batch has been entered." in response.content.decode()


def test_overview_never_shows_internal_notes(client, register):
    assert SECRET not in client.get("/en/").content.decode()


def test_overview_has_no_inline_styles_or_scripts(client, register):
    html = client.get("/en/").content.decode()

    assert "style=" not in html
    assert "<style" not in html
    assert "<script" not in html


def test_overview_speaks_chinese(client, register):
    response = client.get("/zh-hans/")

    html = response.content.decode()
    assert '<html lang="zh-hans">' in html
    assert "中国生成式人工智能模型备案" in html
    assert "各状态模型数" in html


@pytest.mark.parametrize("n", [1, 20])
def test_overview_query_count_does_not_grow_with_the_register(client, django_assert_num_queries, n):
    batch = BatchFactory()
    ApprovedModelFactory.create_batch(n, batch=batch)
    AIModelFactory.create_batch(n, submitted_on=days_ago(5))
    BatchFactory.create_batch(n, reported_total=3)

    # 1. the register's stamp; 2. batches; 3. entered counts; 4. counts by status;
    # 5. the median's middle dates.
    with django_assert_num_queries(5):
        assert client.get("/en/").status_code == 200
    # Then the stamp and the batches only, until the register changes.
    with django_assert_num_queries(2):
        assert client.get("/en/").status_code == 200
