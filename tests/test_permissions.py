"""Permission sweep: every admin page, every review action, every public URL.

tests/test_admin.py covers single cases (anonymous users on the tracker's admin pages,
an editor approving, nobody editing a ``StatusChange``); this file sweeps all of them:
every model the admin registers (users and groups too), the import page, every review
action, and every public page, feed, export and report for internal notes.
"""

import datetime
import io

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.auth.models import Group, User
from django.contrib.contenttypes.models import ContentType
from django.urls import URLPattern, reverse
from django.utils import translation
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.factories import (
    AIModelFactory,
    ApplicantFactory,
    ApprovedModelFactory,
    UserFactory,
)
from tracker import audit
from tracker.admin import CHANGE_FORM_ACTION, REVIEW_STEPS
from tracker.analysis import reports
from tracker.models import AIModel, Applicant, Batch, FilingType, Source, Status, StatusChange
from tracker.public import data_urls
from tracker.public import urls as tracker_urls

pytestmark = pytest.mark.django_db

S = Status
IMPORT_PAGE = "/admin/tracker/aimodel/import/"
# Distinctive, and partly Chinese, so that an escaped or re-encoded leak is still found.
MARKER = "STAFFONLY-7Q2X-内部备注"
MARKER_PARTS = [MARKER.encode(), b"STAFFONLY-7Q2X", "内部备注".encode()]
PUBLIC_TEXT = "PUBLICTEXT-K9"
PUBLISHED_LIST = (
    "序号,属地,模型名称,备案单位,备案号,备案时间\n"
    "1,北京,新的模型,北京新公司,Beijing-New-20240101,2024-01-01\n"
)


def admin_url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def one_of_each_registered_model():
    Source.objects.create(title="A news report").ai_models.add(ApprovedModelFactory())
    user = UserFactory()
    # Sign-in records and second-factor devices (tests/test_accounts.py).
    sign_in = {"username": user.username, "ip_address": "203.0.113.7", "user_agent": "test"}
    AccessAttempt.objects.create(**sign_in, failures_since_start=1)
    AccessLog.objects.create(**sign_in)
    AccessFailureLog.objects.create(**sign_in)
    TOTPDevice.objects.create(user=user, name="phone")
    StaticDevice.objects.create(user=user, name="backup")
    # A correction, as the database records one.
    with audit.recorded(user, "A correction."):
        AIModel.objects.filter(pk=ApprovedModelFactory().pk).update(sector="finance")
    objects = {
        model: model._default_manager.order_by("pk").first() for model in admin.site._registry
    }
    missing = [model.__name__ for model, obj in objects.items() if obj is None]
    assert not missing, f"no object to try the admin pages of {missing}"
    return objects


def every_admin_page():
    """Every page the admin serves, for an object of every registered model."""
    objects = one_of_each_registered_model()
    pages = [
        reverse("admin:index"),
        reverse("admin:password_change"),
        reverse("admin:password_change_done"),
        reverse("admin:jsi18n"),
        reverse("admin:autocomplete")
        + "?app_label=tracker&model_name=aimodel&field_name=upstream&term=a",
        IMPORT_PAGE,
    ]
    pages += [reverse("admin:app_list", args=[label]) for label in {"auth", "tracker"}]
    for model, obj in objects.items():
        pages += [admin_url(model, "changelist"), admin_url(model, "add")]
        pages += [admin_url(model, view, obj.pk) for view in ("change", "delete", "history")]
    user = objects[User]
    pages.append(admin_url(User, "password_change", user.pk))
    ai_model = objects[AIModel]
    content_type = ContentType.objects.get_for_model(AIModel)
    pages.append(reverse("admin:view_on_site", args=[content_type.pk, ai_model.pk]))
    return pages


def register_state():
    """Everything an unauthorised request could try to change."""
    return {
        "models": list(AIModel.objects.order_by("pk").values_list("pk", "status", "version")),
        "steps": list(StatusChange.objects.order_by("pk").values_list("pk", "to_status", "note")),
        "applicants": list(Applicant.objects.order_by("pk").values_list("pk", "name_en")),
        "batches": list(Batch.objects.order_by("pk").values_list("pk", "slug")),
        "users": list(
            User.objects.order_by("pk").values_list("pk", "is_staff", "is_superuser", "password")
        ),
        "memberships": list(User.groups.through.objects.order_by("pk").values_list()),
        "group_rights": list(Group.permissions.through.objects.order_by("pk").values_list()),
    }


# Outsiders: anonymous visitors and signed-in users who are not staff ---------------------


@pytest.fixture(params=["anonymous", "not staff"])
def outsider(request, client):
    if request.param == "not staff":
        client.force_login(UserFactory(is_staff=False))
    return client


def test_outsiders_are_sent_to_login_from_every_admin_page(outsider):
    pages = every_admin_page()
    login = reverse("admin:login")

    for page in pages:
        response = outsider.get(page)
        assert response.status_code == 302, page
        assert response.url.startswith(login), page


def test_outsiders_posting_to_every_admin_form_change_nothing(outsider):
    pages = every_admin_page()
    before = register_state()
    login = reverse("admin:login")

    for page in pages:
        response = outsider.post(page, {"post": "yes", "name_en": "Changed", "is_superuser": "on"})
        assert response.status_code == 302 and response.url.startswith(login), page

    assert register_state() == before


def test_outsiders_cannot_import_a_list(outsider):
    batch = ApprovedModelFactory().batch
    before = register_state()
    upload = io.BytesIO(PUBLISHED_LIST.encode())
    upload.name = "list.csv"

    response = outsider.post(
        IMPORT_PAGE, {"file": upload, "batch": batch.pk, "filing_type": "filing"}
    )

    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))
    assert outsider.post(IMPORT_PAGE, {"token": "anything"}).status_code == 302
    assert register_state() == before


# Staff without a group ------------------------------------------------------------------


def test_staff_without_a_group_see_no_model_page_and_cannot_import(client):
    objects = one_of_each_registered_model()
    pages = [IMPORT_PAGE, admin_url(User, "password_change", objects[User].pk)]
    for model, obj in objects.items():
        pages += [admin_url(model, "changelist"), admin_url(model, "add")]
        pages += [admin_url(model, view, obj.pk) for view in ("change", "delete", "history")]
    client.force_login(UserFactory())
    before = register_state()

    for page in pages:
        assert client.get(page).status_code == 403, page
        assert client.post(page, {"post": "yes", "name_en": "Changed"}).status_code == 403, page

    assert register_state() == before


# Editors --------------------------------------------------------------------------------


def a_status_the_step_applies_to(step):
    for status in Status:
        if step.refusal(AIModel(status=status, filing_type=FilingType.FILING)) is None:
            return status
    raise AssertionError(f"no status allows {step.name}")


def model_ready_for(step):
    status = a_status_the_step_applies_to(step)
    factory = ApprovedModelFactory if status in (S.APPROVED, S.SUSPENDED) else AIModelFactory
    return factory(status=status)


def confirm_step(client, step, ai_model, page):
    """Post a review action's confirmation as the browser does, from the list or the page."""
    data = {
        "_selected_action": [ai_model.pk],
        "happened_on": datetime.date(2024, 6, 1).isoformat(),
        # A reason, which the steps that end or suspend something require.
        "note": "As the CAC announced.",
        f"seen_{ai_model.pk}": ai_model.version,
        "apply": "Confirm",
    }
    if page == "list":
        return client.post(admin_url(AIModel, "changelist"), {"action": step.name, **data})
    return client.post(
        admin_url(AIModel, "change", ai_model.pk), {CHANGE_FORM_ACTION: step.name, **data}
    )


@pytest.mark.parametrize("page", ["list", "model page"])
@pytest.mark.parametrize("step", REVIEW_STEPS, ids=lambda step: step.name)
def test_an_editor_cannot_apply_any_review_action(client, editor, step, page):
    ai_model = model_ready_for(step)
    client.force_login(editor)
    before = register_state()

    confirm_step(client, step, ai_model, page)

    assert register_state() == before


@pytest.mark.parametrize("page", ["list", "model page"])
@pytest.mark.parametrize("step", REVIEW_STEPS, ids=lambda step: step.name)
def test_a_reviewer_posting_the_same_form_applies_the_step(client, reviewer, step, page):
    ai_model = model_ready_for(step)
    steps = ai_model.history.count()
    client.force_login(reviewer)

    confirm_step(client, step, ai_model, page)

    ai_model.refresh_from_db()
    assert ai_model.status == step.to
    assert ai_model.history.count() == steps + 1


def test_an_editor_cannot_rewrite_or_drop_history_through_the_model_form(client, editor):
    ai_model = AIModelFactory()
    step = ai_model.history.get()
    client.force_login(editor)
    page = client.get(admin_url(AIModel, "change", ai_model.pk))
    data = {
        key: value
        for key, value in page.context["adminform"].form.initial.items()
        if value is not None
    }
    data |= {
        "name_en": "Edited by an editor",
        "applicant": ai_model.applicant_id,
        "read_version": ai_model.version,
        "history-TOTAL_FORMS": "1",
        "history-INITIAL_FORMS": "1",
        "history-0-id": step.pk,
        "history-0-model": ai_model.pk,
        "history-0-to_status": S.APPROVED,
        "history-0-note": "Rewritten",
        "history-0-DELETE": "on",
    }

    response = client.post(admin_url(AIModel, "change", ai_model.pk), data)

    assert response.status_code == 302
    assert AIModel.objects.get(pk=ai_model.pk).name_en == "Edited by an editor"
    step.refresh_from_db()
    assert (step.to_status, step.note) == (S.SUBMITTED, "")
    assert StatusChange.objects.filter(model=ai_model).count() == 1


@pytest.mark.parametrize("who", ["editor", "reviewer"])
def test_staff_cannot_grant_themselves_rights_through_the_user_admin(client, request, who):
    user = request.getfixturevalue(who)
    client.force_login(user)
    before = register_state()

    assert client.get(admin_url(User, "changelist")).status_code == 403
    assert client.get(admin_url(User, "change", user.pk)).status_code == 403
    assert client.get(admin_url(Group, "changelist")).status_code == 403
    client.post(
        admin_url(User, "change", user.pk),
        {
            "username": user.username,
            "is_superuser": "on",
            "groups": [g.pk for g in Group.objects.all()],
        },
    )

    assert register_state() == before


# Internal notes on public pages ---------------------------------------------------------


@pytest.fixture
def marked_register():
    """A model of every kind, each with a staff-only note and some public text."""
    group = ApplicantFactory(name_en="Marked Group")
    filing = ApprovedModelFactory(
        applicant=ApplicantFactory(parent=group),
        internal_notes=MARKER,
        description=PUBLIC_TEXT,
        sector="finance",
        scope="industry",
    )
    models = [
        filing,
        ApprovedModelFactory(
            filing_type=FilingType.REGISTRATION,
            upstream=filing,
            applicant=group,
            batch=filing.batch,
            internal_notes=MARKER,
        ),
        AIModelFactory(status=S.NATIONAL_REVIEW, applicant=group, internal_notes=MARKER),
        AIModelFactory(status=S.SUPPLEMENT_REQUESTED, internal_notes=f"{MARKER}\n{MARKER}"),
        ApprovedModelFactory(status=S.SUSPENDED, internal_notes=MARKER),
        AIModelFactory(status=S.REJECTED, name_zh="", name_en="", internal_notes=MARKER),
    ]
    return models


def public_pages(models):
    """(route name, path) of every public page, for every marked model and its relations."""
    applicants = {m.applicant for m in models} | {m.applicant.parent for m in models} - {None}
    batches = {m.batch for m in models if m.batch}
    as_of = datetime.date.today().isoformat()
    pages = [
        ("overview", reverse("tracker:overview")),
        ("backlog", reverse("tracker:backlog")),
        ("backlog_export", "/backlog/export.csv"),
        ("approvals_feed", "/feeds/approvals/"),
        ("changes_feed", "/feeds/changes/"),
        ("model_list", reverse("tracker:model_list")),
        ("model_list", reverse("tracker:model_list") + "?status=" + "&status=".join(Status.values)),
        ("model_list", reverse("tracker:model_list") + "?sort=internal_notes"),
        ("models_export", "/models/export.csv"),
        ("applicant_list", reverse("tracker:applicant_list")),
        ("applicants_export", "/applicants/export.csv"),
        ("batch_list", reverse("tracker:batch_list")),
        ("reports", reverse("tracker:reports")),
        ("report_charts", reverse("tracker:report_charts")),
        ("about", reverse("tracker:about")),
        ("report_time_to_approval", reverse("tracker:report_time_to_approval")),
        ("report_backlog_ageing", reverse("tracker:report_backlog_ageing")),
        ("report_batches", reverse("tracker:report_batches")),
        ("report_status_as_of", reverse("tracker:report_status_as_of")),
        ("report_status_as_of", reverse("tracker:report_status_as_of") + f"?date={as_of}"),
    ]
    for name in reports.REPORTS:
        path = reverse("data:report_csv", args=[name])
        # Only the status report needs the date; the others ignore it.
        pages.append(("report_csv", f"{path}?date={as_of}"))
    pages += [("model_detail", m.get_absolute_url()) for m in models]
    pages += [("applicant_detail", a.get_absolute_url()) for a in applicants]
    for batch in batches:
        pages += [
            ("batch_detail", batch.get_absolute_url()),
            ("batch_export", reverse("data:batch_export", args=[batch.slug])),
        ]
    return pages


def body(response):
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_the_sweep_covers_every_public_route(marked_register):
    routes = {
        p.name
        for p in [*tracker_urls.urlpatterns, *data_urls.urlpatterns]
        if isinstance(p, URLPattern)
    }

    assert {name for name, _path in public_pages(marked_register)} == routes


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_internal_notes_appear_on_no_public_page_feed_export_or_report(
    client, marked_register, language
):
    seen_public_text = False
    with translation.override(language):
        pages = public_pages(marked_register)
    for _name, path in pages:
        response = client.get(path, headers={"accept-language": language})
        assert response.status_code == 200, path
        content = body(response)
        for part in MARKER_PARTS:
            assert part not in content, (path, part)
        seen_public_text |= PUBLIC_TEXT.encode() in content

    # The sweep reads model text at all: the public description of the same model shows.
    assert seen_public_text


def test_searching_for_an_internal_note_finds_nothing(client, marked_register):
    for query in (MARKER, "STAFFONLY", "内部备注"):
        page = client.get("/en/models/", {"q": query})
        export = body(client.get("/models/export.csv", {"q": query})).decode("utf-8-sig")
        for ai_model in marked_register:
            if ai_model.name_en:
                assert ai_model.name_en not in page.content.decode(), query
        assert export.count("\n") == 1, query


def test_sorting_by_internal_notes_is_refused_on_the_page(client, marked_register):
    response = client.get("/en/models/", {"sort": "internal_notes"})

    assert "not a column that can be sorted" in response.content.decode()
