"""Accessibility checked by a tool: axe-core, from its npm package (tests/a11y), run in
Chromium on every public page in both languages; and the focus ring's contrast against
what it is drawn on.

axe-core is installed by ``make test`` when npm is there (``npm ci --prefix tests/a11y``).
Without it the axe tests are skipped, unless TRACKER_REQUIRE_A11Y=1 (as .ci/run sets), when
they fail.
"""

import datetime
import os
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from tests.browser import BROWSER_TEST, restore_jurisdictions
from tests.factories import (
    AIModelFactory,
    ApplicantFactory,
    ApprovedModelFactory,
    BatchFactory,
    days_ago,
    jurisdiction,
)
from tracker import audit, workflow
from tracker.models import AIModel, ApplicantKind, FilingType, Status

pytestmark = BROWSER_TEST


AXE = Path(__file__).parents[1] / "a11y" / "node_modules" / "axe-core" / "axe.min.js"
# WCAG 2.0, 2.1 and 2.2, levels A and AA.
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
FAILING_IMPACTS = {"serious", "critical"}
LANGUAGES = [code for code, _name in settings.LANGUAGES]


@pytest.fixture
def axe_installed():
    if not AXE.exists():
        message = f"axe-core is not installed ({AXE}): run npm ci --prefix tests/a11y"
        if os.environ.get("TRACKER_REQUIRE_A11Y") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return AXE


@pytest.fixture
def small_register():
    """Two published batches (the second long enough for a second page of models), an
    approval with its whole review and a correction, a registration, a backlog, refusals,
    and a suspension entered in error and undone."""
    restore_jurisdictions()
    first = BatchFactory(
        title_en="First published list",
        title_zh="第一批公布名单",
        announced_on=datetime.date(2024, 4, 2),
        reported_total=117,
    )
    second = BatchFactory(
        title_en="Second published list",
        title_zh="第二批公布名单",
        announced_on=datetime.date(2024, 8, 30),
        reported_total=190,
    )
    baidu = ApplicantFactory(name_en="Baidu", name_zh="北京百度网讯科技有限公司")
    minimax = ApplicantFactory(
        name_en="MiniMax", name_zh="上海稀宇科技有限公司", jurisdiction=jurisdiction("SH")
    )
    tsinghua = ApplicantFactory(
        name_en="Tsinghua University", name_zh="清华大学", kind=ApplicantKind.ACADEMIC
    )

    ernie = AIModelFactory(
        name_en="Ernie",
        name_zh="文心一言",
        applicant=baidu,
        submitted_on=datetime.date(2023, 5, 10),
        status=Status.PROVINCIAL_REVIEW,
    )
    workflow.transition(
        ernie, Status.NATIONAL_REVIEW, by=None, on=datetime.date(2023, 6, 20), note="Sent on."
    )
    workflow.transition(
        ernie,
        Status.APPROVED,
        by=None,
        on=datetime.date(2023, 8, 31),
        batch=first,
        filing_number="Beijing-WenXinYiYan-20230821",
        note="In the first published list.",
    )
    with audit.recorded(None, "The published list spells it so."):
        AIModel.objects.filter(pk=ernie.pk).update(name_en="ERNIE Bot")
    ernie.refresh_from_db()

    glow = ApprovedModelFactory(
        name_en="Glow", name_zh="星野", applicant=minimax, batch=first, submitted_on=None
    )
    workflow.transition(glow, Status.SUSPENDED, by=None, on=datetime.date(2024, 5, 1))
    workflow.undo(
        glow, by=None, reason="Entered for the wrong model.", on=datetime.date(2024, 5, 2)
    )
    ApprovedModelFactory(
        name_en="ERNIE helper",
        name_zh="文心助手",
        applicant=baidu,
        batch=first,
        filing_type=FilingType.REGISTRATION,
        upstream=ernie,
        submitted_on=None,
    )
    ApprovedModelFactory.create_batch(48, applicant=minimax, batch=second, submitted_on=None)
    AIModelFactory(
        name_en="Waiting model",
        name_zh="等待模型",
        applicant=tsinghua,
        submitted_on=days_ago(400),
        status=Status.NATIONAL_REVIEW,
    )
    AIModelFactory(
        applicant=tsinghua, submitted_on=days_ago(40), status=Status.SUPPLEMENT_REQUESTED
    )
    AIModelFactory(applicant=minimax, submitted_on=days_ago(90), status=Status.REJECTED)
    return {"ernie": ernie, "glow": glow, "batch": first, "baidu": baidu}


def public_pages(data, language):
    """(name, address, expected status) of every public page, in ``language``."""
    with translation.override(language):
        models = reverse("tracker:model_list")
        report_csv = reverse("data:report_csv", args=["status-as-of"])
        return [
            ("overview", reverse("tracker:overview"), 200),
            ("models", models, 200),
            ("models, second page", f"{models}?page=2", 200),
            (
                "models, filtered",
                f"{models}?status=approved&jurisdiction=BJ&sort=-approved_on",
                200,
            ),
            ("models, a bad filter", f"{models}?status=nonsense&approved_after=2024-13-45", 200),
            ("model with its history", data["ernie"].get_absolute_url(), 200),
            ("model with an undone step", data["glow"].get_absolute_url(), 200),
            ("applicants", reverse("tracker:applicant_list"), 200),
            ("applicant", data["baidu"].get_absolute_url(), 200),
            ("batches", reverse("tracker:batch_list"), 200),
            ("batch", data["batch"].get_absolute_url(), 200),
            ("backlog", reverse("tracker:backlog"), 200),
            ("reports", reverse("tracker:reports"), 200),
            ("time to approval", reverse("tracker:report_time_to_approval"), 200),
            ("backlog ageing", reverse("tracker:report_backlog_ageing"), 200),
            ("batch reconciliation", reverse("tracker:report_batches"), 200),
            ("status as of", reverse("tracker:report_status_as_of"), 200),
            (
                "status as of a bad date",
                f"{reverse('tracker:report_status_as_of')}?date=someday",
                400,
            ),
            ("charts", reverse("tracker:report_charts"), 200),
            ("a report refused", f"{report_csv}?date=someday", 400),
            ("about", reverse("tracker:about"), 200),
            ("downloads", reverse("data:downloads"), 200),
            ("API documentation", reverse("api_docs"), 200),
            ("page not found", f"{reverse('tracker:overview')}no-such-page/", 404),
            ("staff sign-in", reverse("admin:login"), 200),
        ]


def in_language(page, live_server, language):
    """The language cookie, for the pages whose address has no language prefix (the API's
    documentation, the downloads, the staff sign-in): there the cookie chooses."""
    page.context.add_cookies(
        [{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url}]
    )


def serious_violations(page):
    """axe's serious and critical violations of WCAG 2.x A and AA on the page, one line
    each: rule, impact, the elements (as CSS selectors) and what the rule asks."""
    page.add_script_tag(path=str(AXE))
    results = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_TAGS
    )
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']}; "
        + ", ".join(" ".join(node["target"]) for node in violation["nodes"])
        for violation in results["violations"]
        if violation["impact"] in FAILING_IMPACTS
    ]


# axe is put into each page as a script of its own, which the content security policy
# rightly refuses: this context alone does not enforce the policy.
@pytest.mark.browser_context_args(bypass_csp=True)
@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("width", [1280, 390])
def test_no_page_has_a_serious_accessibility_violation(
    live_server, axe_installed, small_register, page, language, width
):
    page.set_viewport_size({"width": width, "height": 900})
    in_language(page, live_server, language)
    found = []

    for name, address, status in public_pages(small_register, language):
        response = page.goto(f"{live_server.url}{address}")
        assert response.status == status, address
        assert page.locator("html").get_attribute("lang") == language, address
        found.extend(f"{name} ({address}): {line}" for line in serious_violations(page))

    assert found == [], "\n".join(found)


@pytest.mark.browser_context_args(bypass_csp=True)
def test_an_image_without_a_text_alternative_is_a_critical_violation(
    live_server, axe_installed, page
):
    page.goto(f"{live_server.url}{reverse('tracker:about')}")
    page.evaluate(
        "html => document.querySelector('main').insertAdjacentHTML('beforeend', html)",
        '<img src="/favicon.ico">',
    )

    assert serious_violations(page) == [
        "image-alt (critical): Images must have alternative text; img"
    ]


RGBA = re.compile(r"rgba?\((\d+(?:\.\d+)?), (\d+(?:\.\d+)?), (\d+(?:\.\d+)?)(?:, ([\d.]+))?\)")

# For the element that has the focus: whether it had it before, its outline, and the
# background colours of its ancestors from its parent up (the ring is drawn outside the
# element, on what is behind it).
FOCUS_RING = """() => {
  const element = document.activeElement;
  const style = getComputedStyle(element);
  const html = element.outerHTML.slice(0, 120);
  const visited = element.hasAttribute("data-focus-visited");
  element.setAttribute("data-focus-visited", "");
  const backgrounds = [];
  for (let node = element.parentElement; node; node = node.parentElement) {
    backgrounds.push(getComputedStyle(node).backgroundColor);
  }
  return {
    visited: visited,
    element: html,
    style: style.outlineStyle,
    width: parseFloat(style.outlineWidth),
    colour: style.outlineColor,
    backgrounds: backgrounds,
  };
}"""


def rgba(colour):
    red, green, blue, alpha = RGBA.fullmatch(colour).groups()
    return (float(red), float(green), float(blue), 1.0 if alpha is None else float(alpha))


def over(top, bottom):
    """``top`` painted on the opaque colour ``bottom``."""
    *rgb, alpha = top
    return tuple(alpha * a + (1 - alpha) * b for a, b in zip(rgb, bottom, strict=True))


def luminance(rgb):
    def linear(channel):
        channel /= 255
        return channel / 12.92 if channel <= 0.04045 else ((channel + 0.055) / 1.055) ** 2.4

    red, green, blue = (linear(channel) for channel in rgb)
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast(first, second):
    lighter, darker = sorted((luminance(first), luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def effective_background(backgrounds):
    """The colour the ancestors' backgrounds (innermost first) make together, on the
    browser's white canvas."""
    colour = (255.0, 255.0, 255.0)
    for background in reversed(backgrounds):
        colour = over(rgba(background), colour)
    return colour


def test_the_contrast_arithmetic():
    white, black = (255, 255, 255), (0, 0, 0)
    assert contrast(white, black) == pytest.approx(21)
    assert contrast((118, 118, 118), white) == pytest.approx(4.54, abs=0.01)
    assert effective_background(["rgba(0, 0, 0, 0)", "rgba(0, 0, 0, 0.5)"]) == (127.5,) * 3
    assert effective_background(["rgb(31, 79, 143)", "rgba(0, 0, 0, 0)"]) == (31, 79, 143)


def focus_ring_problems(page, presses=150):
    """Tab through the page, its disclosures open; what is wrong with each focused
    element's ring."""
    page.evaluate("document.querySelectorAll('details').forEach(details => details.open = true)")
    problems = []
    reached = 0
    for _press in range(presses):
        page.keyboard.press("Tab")
        ring = page.evaluate(FOCUS_RING)
        if ring["visited"] or ring["element"].startswith("<body"):
            break
        reached += 1
        background = effective_background(ring["backgrounds"])
        ratio = contrast(over(rgba(ring["colour"]), background), background)
        if ring["style"] in ("none", "hidden") or ring["width"] < 2 or ratio < 3:
            problems.append(
                f"{ring['element']}: {ring['style']} {ring['width']}px {ring['colour']}, "
                f"contrast {ratio:.2f}:1"
            )
    assert reached > 5, "the Tab key reached almost nothing"
    return problems


def test_the_focus_ring_stands_out_from_what_is_behind_it(live_server, small_register, page):
    with translation.override("en"):
        addresses = [
            reverse("tracker:overview"),
            f"{reverse('tracker:model_list')}?jurisdiction=BJ&status=nonsense",
            small_register["ernie"].get_absolute_url(),
            f"{reverse('tracker:overview')}no-such-page/",
        ]
    in_language(page, live_server, "en")
    found = []

    for address in addresses:
        page.goto(f"{live_server.url}{address}")
        found.extend(f"{address}: {problem}" for problem in focus_ring_problems(page))

    assert found == [], "\n".join(found)


def test_a_light_ring_on_a_light_page_is_found_wanting(live_server, page):
    page.goto(f"{live_server.url}{reverse('tracker:about')}")
    # A light amber ring: 1.8:1 on white, 1.7:1 on the header's grey.
    page.evaluate("document.documentElement.style.setProperty('--focus', '#f2b705')")

    problems = focus_ring_problems(page)

    ratios = [float(problem.rsplit(" ", 1)[1].removesuffix(":1")) for problem in problems]
    assert ratios and max(ratios) < 1.9
