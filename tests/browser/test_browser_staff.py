"""The staff admin in a real browser: Debian's Chromium driven by Playwright, signing in
through the admin's own login form, as Editors, Reviewers and a superuser do.

Run alone with ``pytest -m browser``. The browser set-up (Chromium's path, the ORM beside
Playwright's event loop, the page that records console errors and CSP violations) is in
tests/browser/.
"""

import datetime
from importlib import import_module

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, Permission, User
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser import BROWSER_TEST, restore_jurisdictions, visit
from tests.factories import AIModelFactory, ApplicantFactory, ApprovedModelFactory, BatchFactory
from tracker import audit
from tracker.models import AIModel, Correction, Status

pytestmark = BROWSER_TEST


PASSWORD = "a-long-test-password"
WRONG_PASSWORD_ERROR = (
    "Please enter the correct username and password for a staff account. "
    "Note that both fields may be case-sensitive."
)


def restore_groups():
    """The Editors and Reviewers groups come from the data migration that the emptying of
    every table after a committed test removes (the permissions are made again by it)."""
    reference = import_module("tracker.migrations.0002_reference_data_and_database_features")
    for name, codenames in (
        ("Editors", reference.EDITOR_PERMISSIONS),
        ("Reviewers", reference.REVIEWER_PERMISSIONS),
    ):
        group, _created = Group.objects.get_or_create(name=name)
        group.permissions.set(
            Permission.objects.filter(content_type__app_label="tracker", codename__in=codenames)
        )


def staff_member(username, group):
    user = User.objects.create_user(username, password=PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def published():
    """An approval in a published batch, and a submission waiting for review."""
    restore_jurisdictions()
    restore_groups()
    batch = BatchFactory(title_en="First published list", title_zh="第一批公布名单")
    baidu = ApplicantFactory(name_en="Baidu", name_zh="北京百度网讯科技有限公司")
    ernie = ApprovedModelFactory(
        name_en="ERNIE Bot",
        name_zh="文心一言",
        applicant=baidu,
        batch=batch,
        approved_on=datetime.date(2023, 8, 31),
        submitted_on=datetime.date(2023, 6, 1),
        filing_number="Beijing-WenXinYiYan-20230821",
    )
    waiting = AIModelFactory(name_en="Waiting model", name_zh="等待模型", applicant=baidu)
    return {"ernie": ernie, "waiting": waiting}


def sign_in(page, base_url, username, password=PASSWORD):
    """Fill in and send the admin's login form."""
    visit(page, f"{base_url}/admin/login/?next=/admin/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def signed_in(page, base_url, username):
    sign_in(page, base_url, username)
    expect(page).to_have_url(f"{base_url}/admin/")
    expect(page.locator("#user-tools")).to_contain_text(username)


def change_page(base_url, ai_model):
    return f"{base_url}/admin/tracker/aimodel/{ai_model.pk}/change/"


def test_an_editor_corrects_a_published_name_with_a_reason_the_public_sees(
    live_server, published, watched_page
):
    page = watched_page
    ernie = published["ernie"]
    staff_member("ana.editor", "Editors")
    signed_in(page, live_server.url, "ana.editor")
    visit(page, change_page(live_server.url, ernie))

    page.get_by_label("English name").fill("ERNIE Bot 4.0")
    page.get_by_role("button", name="Save", exact=True).click()

    reason_row = page.locator(".form-row.field-change_reason")
    expect(reason_row.locator(".errorlist")).to_have_text(
        "This record is published: say why it changes. The reason is shown with the correction."
    )
    expect(page.get_by_label("English name")).to_have_value("ERNIE Bot 4.0")
    ernie.refresh_from_db()
    assert ernie.name_en == "ERNIE Bot"

    page.get_by_label("Reason for the change").fill("The CAC list gives the version number.")
    page.get_by_role("button", name="Save", exact=True).click()

    expect(page.locator(".messagelist .success")).to_contain_text("was changed successfully")
    ernie.refresh_from_db()
    assert ernie.name_en == "ERNIE Bot 4.0"

    visit(page, f"{live_server.url}{ernie.get_absolute_url()}")
    history = page.locator("section[aria-labelledby=record-history-title]")
    expect(history.get_by_role("heading", level=2)).to_have_text("Record history")
    corrections = history.locator("ol.corrections > li")
    expect(corrections).to_have_count(1)
    expect(corrections.locator(".step")).to_have_text("English name corrected by staff")
    expect(corrections.locator(".correction del")).to_have_text("ERNIE Bot")
    expect(corrections.locator(".correction ins")).to_have_text("ERNIE Bot 4.0")
    expect(corrections.locator(".note")).to_have_text("The CAC list gives the version number.")
    assert "ana.editor" not in page.content()
    assert page.problems == []


def test_a_reviewer_cancels_an_approval_then_undoes_the_cancellation(
    live_server, published, watched_page
):
    page = watched_page
    ernie = published["ernie"]
    staff_member("rui.reviewer", "Reviewers")
    signed_in(page, live_server.url, "rui.reviewer")
    visit(page, change_page(live_server.url, ernie))

    page.get_by_role("button", name="Cancel the approval (注销)").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Cancel the approval (注销)")
    page.get_by_label("Public reason").fill("The company closed the service.")
    page.get_by_role("button", name="Cancel the approval (注销): confirm").click()

    expect(page.locator(".messagelist .success")).to_have_text("“ERNIE Bot” moved to “Cancelled”.")
    ernie.refresh_from_db()
    assert ernie.status == Status.CANCELLED

    page.get_by_role("button", name="Undo the last step (entered in error)…").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Undo the last step (entered in error)"
    )
    page.get_by_label("Public reason").fill("Another company's service was closed, not this one.")
    page.get_by_role("button", name="Undo the last step (entered in error): confirm").click()

    expect(page.locator(".messagelist .success")).to_have_text(
        "“ERNIE Bot”: the last step was undone; it is back to “Approved”."
    )
    ernie.refresh_from_db()
    assert ernie.status == Status.APPROVED

    visit(page, f"{live_server.url}{ernie.get_absolute_url()}")
    timeline = page.locator("section[aria-labelledby=timeline-title] ol.timeline")
    struck = timeline.locator("li.reversed")
    expect(struck).to_have_count(1)
    expect(struck.locator("del .step")).to_have_text("Approved → Cancelled")
    expect(struck.locator(".flag")).to_have_text("entered in error")
    expect(struck.locator("p.note del")).to_have_text("The company closed the service.")
    today = timezone.localdate().isoformat()
    expect(struck.locator("p.note").last).to_have_text(
        f"Corrected on {today}: Another company's service was closed, not this one."
    )
    expect(timeline.locator("li.reversal .step")).to_have_text("Corrected: back to Approved")
    expect(page.locator(".subtitle .status")).to_have_text("Approved")
    assert "rui.reviewer" not in page.content()
    assert page.problems == []


def test_a_review_step_dated_in_the_future_is_refused_and_keeps_the_note(
    live_server, published, watched_page
):
    page = watched_page
    waiting = published["waiting"]
    staff_member("rui.reviewer", "Reviewers")
    signed_in(page, live_server.url, "rui.reviewer")
    visit(page, change_page(live_server.url, waiting))

    page.get_by_role("button", name="Move to provincial review").click()
    future = timezone.localdate() + datetime.timedelta(days=3)
    page.get_by_label("Date").fill(future.isoformat())
    page.get_by_label("Public note").fill("The provincial office confirmed receipt.")
    page.get_by_role("button", name="Move to provincial review: confirm").click()

    date_row = page.locator(".form-row.field-happened_on")
    expect(date_row.locator(".errorlist")).to_have_text(f"The date {future} is in the future.")
    expect(page.locator(".form-row.field-note .errorlist")).to_have_count(0)
    expect(page.get_by_label("Public note")).to_have_value(
        "The provincial office confirmed receipt."
    )
    expect(page.get_by_label("Date")).to_have_value(future.isoformat())
    waiting.refresh_from_db()
    assert waiting.status == Status.SUBMITTED
    assert page.problems == []


@pytest.fixture
def locks_lifted():
    yield
    call_command("axes_reset", verbosity=0)


def test_repeated_failed_sign_ins_lock_the_user_out(
    live_server, published, watched_page, locks_lifted
):
    page = watched_page
    staff_member("ana.editor", "Editors")
    limit = settings.AXES_FAILURE_LIMIT
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    # The login form posts to its own address, the page to go to after signing in included.
    login_url = f"{live_server.url}/admin/login/?next=/admin/"

    for _attempt in range(limit - 1):
        sign_in(page, live_server.url, "ana.editor", "not-the-password")
        expect(page.locator("p.errornote")).to_have_text(WRONG_PASSWORD_ERROR)

    sign_in(page, live_server.url, "ana.editor", "not-the-password")

    expect(page.get_by_role("heading", level=1)).to_have_text("Sign-in locked")
    lock_message = (
        "Too many failed sign-ins: signing in with this username, or from this address, "
        f"is locked for {minutes} minutes."
    )
    expect(page.locator("p.errornote")).to_have_text(lock_message)

    sign_in(page, live_server.url, "ana.editor")

    expect(page.get_by_role("heading", level=1)).to_have_text("Sign-in locked")
    expect(page.locator("p.errornote")).to_have_text(lock_message)
    visit(page, f"{live_server.url}/admin/")
    expect(page).to_have_url(f"{live_server.url}/admin/login/?next=/admin/")
    # The two refused sign-ins are the lock-out page's own status, and nothing else failed.
    refused = [
        f"HTTP 429: {login_url}",
        "console: Failed to load resource: the server responded with a status of 429 "
        f"(Too Many Requests) ({login_url})",
    ]
    assert page.problems == refused * 2


def test_a_superuser_cannot_change_or_delete_the_record_history(
    live_server, published, watched_page
):
    page = watched_page
    ernie = published["ernie"]
    editor = staff_member("ana.editor", "Editors")
    ernie.name_en = "ERNIE Bot 4.0"
    with audit.recorded(editor, "The CAC list gives the version number."):
        ernie.save(update_fields=["name_en"])
    correction = Correction.objects.get(field="name_en")
    before = Correction.objects.values().get(pk=correction.pk)
    User.objects.create_superuser("sam.root", password=PASSWORD)
    signed_in(page, live_server.url, "sam.root")

    visit(page, f"{live_server.url}/admin/tracker/correction/")

    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("ERNIE Bot 4.0")
    expect(page.get_by_role("button", name="Save")).to_have_count(0)
    expect(page.locator("select[name=action]")).to_have_count(0)
    expect(page.locator(".object-tools .addlink")).to_have_count(0)

    rows.first.locator("th a, td a").first.click()

    change_url = f"{live_server.url}/admin/tracker/correction/{correction.pk}/change/"
    expect(page).to_have_url(change_url)
    expect(page.get_by_role("heading", level=1)).to_have_text("View correction")
    expect(page.locator(".submit-row input[type=submit]")).to_have_count(0)
    expect(page.get_by_role("button", name="Save")).to_have_count(0)
    expect(page.get_by_role("link", name="Delete")).to_have_count(0)
    token = page.locator("input[name=csrfmiddlewaretoken]").first.input_value()

    changed = page.request.post(
        change_url,
        form={
            "csrfmiddlewaretoken": token,
            "old_value": "Forged",
            "new_value": "Forged",
            "reason": "Forged",
            "_save": "Save",
        },
    )
    deleted = page.request.post(
        f"{live_server.url}/admin/tracker/correction/{correction.pk}/delete/",
        form={"csrfmiddlewaretoken": token, "post": "yes"},
    )

    assert changed.status == 403
    assert deleted.status == 403
    assert Correction.objects.values().get(pk=correction.pk) == before
    assert Correction.objects.count() == 1
    assert AIModel.objects.get(pk=ernie.pk).name_en == "ERNIE Bot 4.0"
    assert page.problems == []
