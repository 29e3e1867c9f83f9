"""Every public page at a laptop's 1,280 px and a phone's 390 px, in Chromium: nothing is
wider than the screen, no table scrolls sideways at 1,280 px, and a phone still sees each
model's status. The register is the real one (every published list, with its longest
names and numbers), plus long names in both languages and submissions still in review.

Run alone with ``pytest -m browser``.
"""

import datetime
import io

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db.models import Count
from django.db.models.functions import Length
from django.urls import reverse
from django.utils import translation
from playwright.sync_api import expect

from tests.browser import BROWSER_TEST, restore_jurisdictions
from tests.factories import AIModelFactory, ApplicantFactory, ApprovedModelFactory, days_ago
from tracker.importing.register import load_register
from tracker.models import AIModel, Applicant, Batch, Jurisdiction, Status
from tracker.public.sitemaps import PagesSitemap

pytestmark = BROWSER_TEST

LAPTOP, PHONE = 1280, 390
LANGUAGES = ("en", "zh-hans")

# Each element whose box reaches past the right edge of the screen, unless a box that
# scrolls sideways holds it (and scrolling is allowed), or it is inside a box hidden from
# sight (a visually hidden caption); and every box that scrolls sideways when scrolling is
# not allowed. Every <details> is opened first, so that what it hides is measured too.
FIND_OVERFLOW = """(scrollingAllowed) => {
  document.querySelectorAll("details").forEach((details) => { details.open = true; });
  const width = document.documentElement.clientWidth;
  const name = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
    + [...el.classList].map((c) => "." + c).join("");
  const path = (el) => {
    const parts = [];
    for (let node = el; node && node !== document.body; node = node.parentElement) {
      parts.unshift(name(node));
    }
    return parts.slice(-4).join(" > ");
  };
  const found = [];
  if (document.documentElement.scrollWidth > width) {
    found.push(`the page is ${document.documentElement.scrollWidth} px wide`);
  }
  for (const el of document.body.querySelectorAll("*")) {
    const style = getComputedStyle(el);
    const scrolls = ["auto", "scroll"].includes(style.overflowX);
    if (scrolls && el.scrollWidth > el.clientWidth + 1 && !scrollingAllowed) {
      found.push(`${path(el)} scrolls sideways (${el.scrollWidth} > ${el.clientWidth} px)`);
    }
    const box = el.getBoundingClientRect();
    if (box.width === 0 || box.height === 0 || box.right <= width + 0.5) continue;
    let holder = el.parentElement;
    while (holder && getComputedStyle(holder).overflowX === "visible") {
      holder = holder.parentElement;
    }
    if (holder) {
      const held = getComputedStyle(holder).overflowX;
      if (["auto", "scroll"].includes(held) && scrollingAllowed) continue;
      if (holder.getBoundingClientRect().width <= 1) continue;
    }
    found.push(`${path(el)} ends at ${Math.round(box.right)} px`);
  }
  return found;
}"""


def long_names():
    """Records with names longer than any published list's, in both languages, some of
    them still in review (their submission dates and days in review shown)."""
    institute = ApplicantFactory(
        name_en=(
            "Shanghai Artificial Intelligence Laboratory and Shanghai Jiao Tong University "
            "Joint Institute for Multimodal Foundation Models"
        ),
        name_zh="上海人工智能实验室与上海交通大学多模态基础大模型联合研究院（上海）有限责任公司",
        jurisdiction=Jurisdiction.objects.get(code="SH"),
    )
    anonymous = ApplicantFactory(
        name_en="",
        name_zh="北京市海淀区人工智能与智慧城市基础设施协同创新研究院（北京）有限责任公司",
        jurisdiction=None,
    )
    stages = [
        Status.SUBMITTED,
        Status.PROVINCIAL_REVIEW,
        Status.SUPPLEMENT_REQUESTED,
        Status.NATIONAL_REVIEW,
    ]
    for i, status in enumerate(stages):
        AIModelFactory(
            applicant=institute if i % 2 else anonymous,
            name_en=(
                f"InternLM-XComposer Scientific Multimodal Reasoning Foundation Model for "
                f"Long-Context Vision-Language Understanding, Edition {i}"
            ),
            name_zh=f"书生·浦语灵笔科学多模态推理基础大模型长上下文视觉语言理解版本{i}",
            status=status,
            submitted_on=days_ago(40 * i + 7),
        )
    return ApprovedModelFactory(
        applicant=institute,
        name_en="SenseNovaUnifiedMultimodalLargeLanguageModelProfessionalEditionV5",
        name_zh="",
        submitted_on=datetime.date(2025, 1, 6),
        approved_on=datetime.date(2025, 6, 30),
        filing_number="Shanghai-ShangHaiRenGongZhiNengShiYanShiDuoMoTaiJiChuDaMoXing-202506300001",
        batch=Batch.objects.order_by("-announced_on").first(),
    )


@pytest.fixture
def register():
    """The published register, the long records, and the bulk downloads built from them;
    with the records whose pages show the longest values."""
    restore_jurisdictions()
    load_register()
    unbroken = long_names()
    call_command("build_downloads", stdout=io.StringIO())
    longest_number = AIModel.objects.order_by(Length("filing_number").desc(), "pk").first()
    most_registrations = (
        AIModel.objects.annotate(n=Count("registrations")).order_by("-n", "pk").first()
    )
    return {
        "models": [unbroken, longest_number, most_registrations],
        "applicants": [
            unbroken.applicant,
            Applicant.objects.order_by(Length("name_zh").desc(), "pk").first(),
        ],
        "batch": Batch.objects.annotate(n=Count("models")).order_by("-n", "pk").first(),
    }


def page_urls(register, language):
    """Every public page, in ``language``: the pages with a language prefix name it; the
    others (API documentation, downloads) follow the language cookie."""
    with translation.override(language):
        # The sitemap's pages, and the two it leaves to the data addresses' language.
        names = [*PagesSitemap().items(), "data:downloads", "api_docs"]
        named = [reverse(name) for name in names]
        records = [
            *(m.get_absolute_url() for m in register["models"]),
            *(a.get_absolute_url() for a in register["applicants"]),
            register["batch"].get_absolute_url(),
        ]
        sorted_listings = [
            f"{reverse('tracker:model_list')}?sort=-days_in_review",
            f"{reverse('tracker:applicant_list')}?sort=-models",
        ]
    return [*named, *records, *sorted_listings]


def missing_page(language):
    with translation.override(language):
        return f"{reverse('tracker:model_list')}no-such-model-was-ever-filed/"


def open_in(page, live_server, language, width):
    page.context.add_cookies(
        [{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url}]
    )
    page.set_viewport_size({"width": width, "height": 900})


def overflow(page, url, status, scrolling_allowed):
    response = page.goto(url)
    assert response.status == status, url
    return page.evaluate(FIND_OVERFLOW, scrolling_allowed)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("width", [LAPTOP, PHONE])
def test_no_public_page_is_wider_than_the_screen(live_server, register, page, width, language):
    open_in(page, live_server, language, width)
    # A phone may scroll a box sideways where it must; a laptop never needs to.
    scrolling_allowed = width == PHONE

    found = []
    for path in page_urls(register, language):
        boxes = overflow(page, f"{live_server.url}{path}", 200, scrolling_allowed)
        found += [f"{path}: {box}" for box in boxes[:5]]
    path = missing_page(language)
    boxes = overflow(page, f"{live_server.url}{path}", 404, scrolling_allowed)
    found += [f"{path}: {box}" for box in boxes[:5]]

    assert found == []
    assert page.locator("html").get_attribute("lang") == language


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_phone_sees_each_models_status_and_review_values(live_server, register, page, language):
    open_in(page, live_server, language, PHONE)
    with translation.override(language):
        url = f"{live_server.url}{reverse('tracker:model_list')}?sort=-days_in_review"
    page.goto(url)

    rows = page.locator("table.listing tbody tr")
    expect(rows).to_have_count(50)
    for i in range(5):
        status = rows.nth(i).locator(".status")
        status.scroll_into_view_if_needed()
        expect(status).to_be_in_viewport()
        box = status.bounding_box()
        # Wholly on the screen: neither edge past the phone's.
        assert box["x"] >= 0
        assert box["x"] + box["width"] <= PHONE
    # The longest review first, an approval's; then the longest wait of those in review.
    # On a phone each row is a card, which shows every known value.
    for i, days in enumerate(["175", "127"]):
        cell = rows.nth(i).locator("td.num")
        cell.scroll_into_view_if_needed()
        expect(cell).to_have_text(days)
        expect(cell).to_be_in_viewport()


def test_the_laptop_listing_shows_every_column_and_the_last_one_whole(live_server, register, page):
    open_in(page, live_server, "en", LAPTOP)
    page.goto(f"{live_server.url}{reverse('tracker:model_list')}?sort=-days_in_review")

    headers = page.locator("table.listing thead th")
    expect(headers).to_have_text(
        [
            "Name",
            "ApplicantJurisdiction",
            "Type",
            "Status",
            "Filing number",
            "Submitted on",
            "Approved on",
            "Days in review ▼",
            "Batch",
        ]
    )
    table = page.locator(".table-scroll").first.bounding_box()
    batch = headers.last.bounding_box()
    assert batch["x"] + batch["width"] <= table["x"] + table["width"]
