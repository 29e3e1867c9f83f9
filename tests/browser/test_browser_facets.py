"""The /models/ facets in a real browser: narrowing a long list by typing, the same form
without JavaScript, and the panel on a phone."""

import datetime
import re
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests.browser import BROWSER_TEST, restore_jurisdictions, visit
from tests.factories import (
    AIModelFactory,
    ApplicantFactory,
    ApprovedModelFactory,
    BatchFactory,
    jurisdiction,
)
from tracker.models import Status

pytestmark = BROWSER_TEST


@pytest.fixture
def register():
    """Approvals in Beijing, Shanghai and Zhejiang from two batches, and one in review."""
    restore_jurisdictions()
    first = BatchFactory(
        title_en="First published list",
        title_zh="第一批公布名单",
        announced_on=datetime.date(2024, 4, 2),
    )
    second = BatchFactory(
        title_en="Second published list",
        title_zh="第二批公布名单",
        announced_on=datetime.date(2024, 8, 30),
    )
    for name, code, batch in [
        ("ERNIE Bot", "BJ", first),
        ("Glow", "SH", first),
        ("Tongyi", "ZJ", second),
    ]:
        ApprovedModelFactory(
            name_en=name,
            applicant=ApplicantFactory(jurisdiction=jurisdiction(code)),
            batch=batch,
        )
    AIModelFactory(
        name_en="Waiting model",
        applicant=ApplicantFactory(jurisdiction=jurisdiction("BJ")),
        status=Status.NATIONAL_REVIEW,
    )
    return {"first": first, "second": second}


def models_url(live_server, query=""):
    return f"{live_server.url}{reverse('tracker:model_list')}{query}"


def chosen(url):
    """The parameters of ``url`` that have a value, in order."""
    return [(name, value) for name, value in parse_qsl(urlsplit(url).query) if value]


def option(page, facet, label):
    return page.locator(f"#options-{facet} .facet-option").filter(has_text=label)


def test_typing_narrows_a_long_list_by_either_name_or_the_code(live_server, register, watched_page):
    page = watched_page
    visit(page, models_url(live_server, "?status=approved"))
    finder = page.get_by_label("Find a jurisdiction")
    beijing, shanghai = (
        option(page, "jurisdiction", "Beijing"),
        option(page, "jurisdiction", "Shanghai"),
    )

    finder.fill("shang")
    expect(shanghai).to_be_visible()
    expect(beijing).to_be_hidden()
    finder.fill("京")
    expect(beijing).to_be_visible()
    expect(shanghai).to_be_hidden()
    finder.fill("zj")
    expect(option(page, "jurisdiction", "Zhejiang")).to_be_visible()
    expect(page.locator("#options-jurisdiction .facet-option:visible")).to_have_count(1)
    finder.fill("nowhere")
    expect(page.locator("#options-jurisdiction .facet-option:visible")).to_have_count(0)
    expect(page.get_by_role("status").filter(has_text="No choice matches.")).to_be_visible()
    finder.fill("")
    expect(page.locator("#options-jurisdiction .facet-option:visible")).to_have_count(3)

    page.get_by_label("Find a batch").fill("第二批")
    expect(option(page, "batch", "Second published list")).to_be_visible()
    expect(option(page, "batch", "First published list")).to_be_hidden()
    # Enter in the field narrows; it does not send the form.
    page.get_by_label("Find a batch").press("Enter")
    expect(page).to_have_url(models_url(live_server, "?status=approved"))
    assert page.problems == []


def test_checking_choices_and_applying_filters_by_any_of_them(live_server, register, watched_page):
    page = watched_page
    visit(page, models_url(live_server))
    page.locator("details.filter-more summary").click()
    expect(option(page, "jurisdiction", "Beijing")).to_contain_text("2")

    page.get_by_label("Find a jurisdiction").fill("sh")
    option(page, "jurisdiction", "Shanghai").get_by_role("checkbox").check()
    page.get_by_label("Find a jurisdiction").fill("zhe")
    option(page, "jurisdiction", "Zhejiang").get_by_role("checkbox").check()
    page.get_by_role("checkbox", name=re.compile("^Approved")).check()
    page.get_by_role("button", name="Apply").click()

    expect(page).to_have_url(
        models_url(live_server, "?status=approved&jurisdiction=SH&jurisdiction=ZJ")
    )
    table = page.locator("table.listing")
    expect(table.get_by_role("link", name="Glow")).to_be_visible()
    expect(table.get_by_role("link", name="Tongyi")).to_be_visible()
    expect(table.get_by_role("link", name="ERNIE Bot")).to_have_count(0)
    # The checked regions come first, Beijing still offered with its approval.
    labels = page.locator("#options-jurisdiction .facet-option")
    expect(labels).to_have_text(
        [re.compile(r"Shanghai\s*1"), re.compile(r"Zhejiang\s*1"), re.compile(r"Beijing\s*1")]
    )
    assert page.problems == []


def test_without_javascript_the_whole_list_shows_and_the_form_works(live_server, register, browser):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(models_url(live_server))
        page.locator("details.filter-more summary").click()

        expect(page.get_by_label("Find a jurisdiction")).to_be_hidden()
        expect(page.locator("#options-jurisdiction .facet-option")).to_have_count(3)
        expect(page.locator("#options-batch .facet-option")).to_have_count(2)
        option(page, "jurisdiction", "Beijing").get_by_role("checkbox").check()
        option(page, "batch", "Second published list").get_by_role("checkbox").check()
        page.get_by_role("button", name="Apply").click()

        expect(page.locator(".result-count")).to_have_text("0 models")
        # The browser sends the empty fields too; the page reads them as not given.
        assert chosen(page.url) == [("jurisdiction", "BJ"), ("batch", register["second"].slug)]
        # Both stay checked, each with what it selects alongside the other filter.
        expect(option(page, "jurisdiction", "Beijing")).to_contain_text("0")
        expect(option(page, "jurisdiction", "Beijing").get_by_role("checkbox")).to_be_checked()
        expect(option(page, "jurisdiction", "Zhejiang")).to_contain_text("1")
    finally:
        context.close()


def test_the_filter_panel_fits_a_phone_screen(live_server, register, watched_page):
    page = watched_page
    page.set_viewport_size({"width": 390, "height": 844})
    visit(page, models_url(live_server, "?status=approved&jurisdiction=BJ"))

    expect(page.locator("details.filter-more")).to_have_attribute("open", "")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    box = page.locator("#options-batch").bounding_box()
    assert box["width"] <= 390
    page.locator("details.filter-more summary").click()
    expect(page.get_by_label("Find a jurisdiction")).to_be_hidden()
    assert page.problems == []
