"""The public site in a real browser: searching and filtering, a model's page, the
languages and their addresses, the content security policy, the overview on a phone, and
a reload that revalidates."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.cache import get_conditional_response
from playwright.sync_api import expect

from tests.browser import BROWSER_TEST, restore_jurisdictions, visit
from tests.factories import (
    AIModelFactory,
    ApplicantFactory,
    ApprovedModelFactory,
    BatchFactory,
    jurisdiction,
)
from tracker.models import FilingType, Status
from tracker.public import conditional

pytestmark = BROWSER_TEST


@pytest.fixture
def register():
    """A small register: approvals in two jurisdictions, a registration, a backlog."""
    restore_jurisdictions()
    batch = BatchFactory(
        title_en="First published list",
        title_zh="第一批公布名单",
        announced_on=datetime.date(2024, 4, 2),
        reported_total=117,
    )
    baidu = ApplicantFactory(name_en="Baidu", name_zh="北京百度网讯科技有限公司")
    minimax = ApplicantFactory(
        name_en="MiniMax", name_zh="上海稀宇科技有限公司", jurisdiction=jurisdiction("SH")
    )
    ernie = ApprovedModelFactory(
        name_en="ERNIE Bot",
        name_zh="文心一言",
        applicant=baidu,
        batch=batch,
        submitted_on=None,
        approved_on=datetime.date(2023, 8, 31),
        filing_number="Beijing-WenXinYiYan-20230821",
    )
    ApprovedModelFactory(
        name_en="Glow",
        name_zh="星野",
        applicant=minimax,
        batch=batch,
        submitted_on=None,
        approved_on=datetime.date(2024, 1, 17),
    )
    ApprovedModelFactory(
        name_en="ERNIE helper",
        name_zh="文心助手",
        applicant=baidu,
        batch=batch,
        filing_type=FilingType.REGISTRATION,
        upstream=ernie,
        submitted_on=None,
    )
    AIModelFactory(name_en="Waiting model", name_zh="等待模型", status=Status.NATIONAL_REVIEW)
    return {"ernie": ernie, "batch": batch, "baidu": baidu}


def test_searching_and_filtering_models_with_the_form(live_server, register, watched_page):
    page = watched_page
    visit(page, f"{live_server.url}/models/")

    page.get_by_label("Search").first.fill("文心")
    page.get_by_role("button", name="Apply").click()

    expect(page).to_have_url(re.compile(r"q=%E6%96%87%E5%BF%83"))
    table = page.locator("table.listing")
    expect(table.get_by_role("link", name="ERNIE Bot", exact=True)).to_be_visible()
    expect(table.get_by_role("link", name="ERNIE helper")).to_be_visible()
    expect(table.get_by_role("link", name="Glow")).to_have_count(0)

    page.locator("details.filter-more summary").click()
    page.get_by_role("checkbox", name="Registration").check()
    page.get_by_role("button", name="Apply").click()

    expect(page).to_have_url(re.compile(r"filing_type=registration"))
    expect(table.get_by_role("link", name="ERNIE helper")).to_be_visible()
    expect(table.get_by_role("link", name="ERNIE Bot", exact=True)).to_have_count(0)
    assert page.problems == []


def test_removing_an_active_filter_widens_the_listing(live_server, register, watched_page):
    page = watched_page
    visit(page, f"{live_server.url}/models/?jurisdiction=SH")
    table = page.locator("table.listing")
    expect(table.get_by_role("link", name="Glow")).to_be_visible()
    expect(table.get_by_role("link", name="ERNIE Bot", exact=True)).to_have_count(0)

    page.locator(".active-filters a.chip").first.click()

    expect(table.get_by_role("link", name="ERNIE Bot", exact=True)).to_be_visible()
    assert page.problems == []


def test_opening_a_model_page_from_the_listing(live_server, register, watched_page):
    page = watched_page
    visit(page, f"{live_server.url}/models/")

    page.locator("table.listing").get_by_role("link", name="ERNIE Bot", exact=True).click()

    expect(page).to_have_url(f"{live_server.url}{register['ernie'].get_absolute_url()}")
    expect(page.get_by_role("heading", level=1)).to_have_text("ERNIE Bot")
    expect(page.get_by_text("Beijing-WenXinYiYan-20230821")).to_be_visible()
    assert page.problems == []


def test_switching_to_chinese_and_back(live_server, register, watched_page):
    page = watched_page
    # An address from before the language prefixes opens in the browser's language.
    visit(page, f"{live_server.url}/backlog/")
    expect(page).to_have_url(f"{live_server.url}/en/backlog/")

    page.locator("#lang-select").select_option("zh-hans")
    page.locator(".lang-switch button").click()

    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.get_by_role("heading", level=1)).to_have_text("待审积压")
    expect(page).to_have_url(f"{live_server.url}/zh-hans/backlog/")
    # The choice is kept for addresses without a language.
    visit(page, f"{live_server.url}/models/?status=approved")
    expect(page).to_have_url(f"{live_server.url}/zh-hans/models/?status=approved")

    page.locator("#lang-select").select_option("en")
    page.locator(".lang-switch button").click()

    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Models")
    expect(page).to_have_url(f"{live_server.url}/en/models/?status=approved")
    assert page.problems == []


def test_a_shared_link_opens_in_its_own_language_and_an_old_one_in_the_readers(
    live_server, register, browser
):
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    ernie = register["ernie"].slug

    assert page.goto(f"{live_server.url}/en/models/{ernie}/").status == 200
    expect(page.get_by_role("heading", level=1)).to_have_text("ERNIE Bot")

    assert page.goto(f"{live_server.url}/models/{ernie}/").status == 200
    expect(page).to_have_url(f"{live_server.url}/zh-hans/models/{ernie}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("文心一言")
    alternates = page.locator('link[rel="alternate"][hreflang]')
    expect(alternates).to_have_count(3)
    context.close()


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_no_page_logs_an_error_or_breaks_the_content_security_policy(
    live_server, register, watched_page, language
):
    page = watched_page
    with translation.override(language):
        paths = [
            reverse("tracker:overview"),
            reverse("tracker:model_list"),
            reverse("tracker:model_list") + "?status=approved&sort=-approved_on",
            register["ernie"].get_absolute_url(),
            reverse("tracker:applicant_list"),
            register["baidu"].get_absolute_url(),
            reverse("tracker:batch_list"),
            register["batch"].get_absolute_url(),
            reverse("tracker:backlog"),
            reverse("tracker:reports"),
        ]

    for path in paths:
        visit(page, f"{live_server.url}{path}")

    assert page.problems == []


def test_the_overview_chart_and_its_table_show(live_server, register, watched_page):
    page = watched_page
    visit(page, f"{live_server.url}/")

    chart = page.get_by_role("img", name=re.compile("Cumulative approvals per batch"))
    expect(chart).to_be_visible()
    page.get_by_text("The chart's numbers as a table").click()
    expect(page.locator(".chart-data table")).to_contain_text("117")
    assert page.problems == []


def test_the_overview_fits_a_phone_screen(live_server, register, watched_page):
    page = watched_page
    page.set_viewport_size({"width": 390, "height": 844})
    visit(page, f"{live_server.url}/")

    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    assert page.problems == []


def test_a_reload_revalidates_the_page_and_gets_a_304(
    live_server, register, watched_page, monkeypatch
):
    """Chromium keeps the page, and on a reload asks with its ETag: the server answers 304
    before rendering anything, and the browser shows the page it kept."""
    answered = []

    def recording(request, etag=None, last_modified=None):
        response = get_conditional_response(request, etag=etag, last_modified=last_modified)
        status = None if response is None else response.status_code
        answered.append((request.path, request.headers.get("If-None-Match"), status))
        return response

    monkeypatch.setattr(conditional, "get_conditional_response", recording)
    page = watched_page
    with translation.override("zh-hans"):
        address = reverse("tracker:model_list") + "?status=approved"
    first = page.goto(f"{live_server.url}{address}")
    etag = first.headers["etag"]
    answered.clear()

    page.reload()

    expect(page.get_by_role("heading", level=1)).to_have_text("模型")
    assert answered == [("/zh-hans/models/", etag, 304)]
    assert page.problems == []
