"""Staff data entry.

Status is never edited here: a new record enters through ``workflow.enter`` and every later
step through ``workflow.transition``, offered as review actions on the list and as buttons
on a model's page, each behind a small confirmation form.
"""

from dataclasses import dataclass

from django.contrib import admin, messages
from django.contrib.admin import ActionLocation, helpers
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.text import format_lazy
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from tracker import audit, workflow
from tracker.admin.forms import (
    AIModelAddForm,
    AIModelChangeForm,
    AIModelSubmissionForm,
    ApplicantForm,
    ApprovalForm,
    BatchForm,
    ReviewStepForm,
    SourceForm,
    UndoForm,
)
from tracker.admin.imports import import_page, rejected_rows
from tracker.admin.integrity_view import integrity_page
from tracker.admin.queue import queue_page
from tracker.analysis.exports import models_export
from tracker.models import (
    AIModel,
    Applicant,
    Batch,
    Correction,
    Jurisdiction,
    Source,
    Status,
    StatusChange,
    choice_label,
)

admin.site.site_header = _("Generative AI approval tracker")
admin.site.site_title = _("Generative AI approval tracker")
admin.site.index_title = _("Staff data entry")

S = Status


@dataclass(frozen=True)
class ReviewStep:
    """A review action offered to staff: the status it moves a model to.

    ``from_suspended`` tells Approve (never from suspended) from Reinstate (only from
    suspended): both move to approved, but they mean different things to a reviewer.
    """

    name: str
    to: Status
    label: str
    form: type = ReviewStepForm
    from_suspended: bool | None = None
    # Ends a submission or an approval, or suspends it: shown as such, and needs a reason.
    destructive: bool = False

    def misfit(self, status):
        suspended = status == S.SUSPENDED
        if self.from_suspended is True and not suspended:
            return gettext("Only a suspended model can be reinstated.")
        if self.from_suspended is False and suspended:
            return gettext("A suspended model is reinstated, not approved again.")
        return None

    def refusal(self, ai_model):
        """Why this step cannot be applied to ``ai_model`` as it stands, or None."""
        return self.misfit(ai_model.status) or workflow.transition_refusal(ai_model, self.to)

    def date_refusal(self, ai_model, on):
        return workflow.date_refusal(ai_model, self.to, on)

    def apply(self, ai_model, by, data):
        """Apply the step with the confirmed form's ``data``; return the new status."""
        workflow.transition(
            ai_model,
            self.to,
            by=by,
            on=data["happened_on"],
            note=data["note"],
            batch=data.get("batch"),
            filing_number=data.get("filing_number") or None,
        )
        return self.to


# Each name reads as what it does to the submission or the approval: "Cancel" alone would
# read as the way back from the confirmation page.
REVIEW_STEPS = [
    ReviewStep("move_to_provincial_review", S.PROVINCIAL_REVIEW, _("Move to provincial review")),
    ReviewStep("request_supplement", S.SUPPLEMENT_REQUESTED, _("Request a supplement")),
    ReviewStep("move_to_national_review", S.NATIONAL_REVIEW, _("Move to national review")),
    ReviewStep("approve", S.APPROVED, _("Approve"), ApprovalForm, from_suspended=False),
    ReviewStep("reject", S.REJECTED, _("Reject the submission"), destructive=True),
    ReviewStep("withdraw", S.WITHDRAWN, _("Withdraw the submission"), destructive=True),
    ReviewStep("suspend", S.SUSPENDED, _("Suspend the approval"), destructive=True),
    ReviewStep("reinstate", S.APPROVED, _("Reinstate the approval"), from_suspended=True),
    ReviewStep("cancel", S.CANCELLED, _("Cancel the approval (注销)"), destructive=True),
    ReviewStep("revoke", S.REVOKED, _("Revoke the approval (撤销)"), destructive=True),
]


class UndoStep:
    """Undoing a model's last step, entered in error (``workflow.undo``): the status it
    goes back to is each model's own."""

    name = "undo_last_step"
    to = None
    label = _("Undo the last step (entered in error)")
    form = UndoForm
    destructive = True

    def misfit(self, status):
        return None

    def refusal(self, ai_model):
        return workflow.undo_refusal(ai_model)

    def date_refusal(self, ai_model, on):
        return workflow.date_refusal(ai_model, workflow.last_step(ai_model).from_status, on)

    def apply(self, ai_model, by, data):
        return workflow.undo(ai_model, by=by, reason=data["note"], on=data["happened_on"]).to_status


UNDO_STEP = UndoStep()


def _review_action(step):
    def action(modeladmin, request, queryset):
        return modeladmin.review(request, queryset, step)

    action.__name__ = step.name
    return admin.action(
        permissions=["change_status"],
        description=format_lazy("{}…", step.label),
        location=[ActionLocation.CHANGE_LIST, ActionLocation.CHANGE_FORM],
    )(action)


REVIEW_ACTIONS = [_review_action(step) for step in [*REVIEW_STEPS, UNDO_STEP]]

# Said to staff who may edit a model but not review it, above its review fields.
REVIEWER_MOVES_IT_ON = _(
    "A Reviewer moves this model on to its next review step. You may correct the dates, "
    "number and batch below, saying why."
)

# The POST field that names an action submitted from a model's own page.
CHANGE_FORM_ACTION = f"{ActionLocation.CHANGE_FORM.value}-action"

# An edit writes everything but the status, which belongs to the workflow.
EDITABLE_FIELDS = [
    field.name
    for field in AIModel._meta.concrete_fields
    if field.name not in ("id", "status", "created_at")
]


def _precheck(request, ai_model, step):
    """Why the step is refused before the workflow is asked, or None."""
    # The confirmation page carries the version each model had when it was shown: a
    # model changed since then is refused rather than moved on an outdated view.
    seen = request.POST.get(f"seen_{ai_model.pk}")
    if seen is not None and seen != str(ai_model.version):
        return gettext("it changed after this page was opened. Reload it and try again.")
    return step.misfit(ai_model.status)


class ReadOnly:
    """Shown to staff, written by no one here: reference data from a migration, and the
    append-only history that only tracker.workflow writes."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.action(description=_("Export selected as CSV"), permissions=["view"])
def export_selected(modeladmin, request, queryset):
    """The admin's "Export selected as CSV": the /models/export.csv file for these rows."""
    return models_export(queryset, request.build_absolute_uri("/")).response()


@admin.register(Jurisdiction)
class JurisdictionAdmin(ReadOnly, admin.ModelAdmin):
    """Reference data from a migration: staff look it up, nobody edits it here."""

    list_display = ["code", "name_zh", "name_en", "filing_token"]
    search_fields = ["code", "name_zh", "name_en", "filing_token"]


def _model_count(field):
    """Each row's models, counted in a subquery: a join with GROUP BY would drop the
    list's ordering (autocompletes then page at random) and make every count, each
    autocomplete keystroke's included, group the whole models table."""
    models = AIModel.objects.filter(**{field: OuterRef("pk")}).order_by().values(field)
    return Coalesce(Subquery(models.annotate(n=Count("pk")).values("n")), 0)


class AuditedAdmin(admin.ModelAdmin):
    """An edit is recorded in the audit trail as the staff member's, with the form's
    reason (ReasonedEditForm)."""

    def save_model(self, request, obj, form, change):
        with audit.recorded(request.user, form.cleaned_data.get("change_reason", "")):
            super().save_model(request, obj, form, change)


@admin.register(Applicant)
class ApplicantAdmin(AuditedAdmin):
    form = ApplicantForm
    list_display = ["name_zh", "name_en", "jurisdiction", "kind", "model_count"]
    list_filter = ["kind", "jurisdiction"]
    list_select_related = ["jurisdiction"]
    search_fields = ["name_zh", "name_en", "slug"]
    autocomplete_fields = ["jurisdiction", "parent"]
    fields = [
        "name_zh",
        "name_en",
        "slug",
        "jurisdiction",
        "kind",
        "website",
        "parent",
        "change_reason",
    ]
    show_full_result_count = False

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(n_models=_model_count("applicant"))

    @admin.display(description=_("models"), ordering="n_models")
    def model_count(self, applicant):
        return applicant.n_models


@admin.register(Batch)
class BatchAdmin(AuditedAdmin):
    form = BatchForm
    list_display = [
        "__str__",
        "announced_on",
        "covers_until",
        "reported_new",
        "reported_total",
        "entered_count",
    ]
    search_fields = ["title_zh", "title_en", "slug"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "title_zh",
                    "title_en",
                    "slug",
                    ("announced_on", "announced_precision"),
                    "covers_until",
                ]
            },
        ),
        (_("Source"), {"fields": ["authority", "source_url", "description"]}),
        (
            _("Announced counts"),
            {
                "fields": [
                    ("reported_new", "reported_total"),
                    ("reported_registrations_new", "reported_registrations_total"),
                ]
            },
        ),
        (_("Why"), {"fields": ["change_reason"]}),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(n_entered=_model_count("batch"))

    @admin.display(description=_("models entered"), ordering="n_entered")
    def entered_count(self, batch):
        return batch.n_entered


class StatusChangeInline(ReadOnly, admin.TabularInline):
    """The model's history, read-only: steps are written by the review actions alone."""

    model = StatusChange
    fields = ["happened_on", "from_status", "to_status", "note", "recorded_by", "recorded_at"]
    readonly_fields = fields
    extra = 0
    verbose_name_plural = _("history")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("recorded_by")


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin):
    """Reports other than the published lists, cited on the pages of the models they name."""

    form = SourceForm
    list_display = ["title", "publisher", "published_on", "named_count"]
    search_fields = ["title", "publisher", "url"]
    autocomplete_fields = ["ai_models"]
    fields = ["title", "publisher", "url", "published_on", "summary", "ai_models"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(n_named=Count("ai_models"))

    @admin.display(description=_("models it names"), ordering="n_named")
    def named_count(self, source):
        return source.n_named


@admin.register(AIModel)
class AIModelAdmin(admin.ModelAdmin):
    list_display = [
        "name_zh",
        "name_en",
        "applicant",
        "filing_type",
        "status",
        "filing_number",
        "approved_on",
        "batch",
    ]
    list_display_links = ["name_zh", "name_en"]
    list_filter = ["status", "filing_type", "scope", "applicant__jurisdiction", "batch"]
    list_select_related = ["applicant", "batch"]
    search_fields = [
        "name_zh",
        "name_en",
        "filing_number",
        "slug",
        "applicant__name_zh",
        "applicant__name_en",
    ]
    autocomplete_fields = ["applicant", "upstream", "batch"]
    readonly_fields = ["status", "version", "created_at", "updated_at"]
    inlines = [StatusChangeInline]
    actions = [*REVIEW_ACTIONS, export_selected]
    show_full_result_count = False
    change_form_template = "admin/tracker/aimodel/change_form.html"
    # Adds the links to the import, queue and integrity pages above the list.
    change_list_template = "admin/tracker/import_change_list.html"

    def get_urls(self):
        # Staff pages beside the list: …/aimodel/import/ (tracker.admin.imports), queue/
        # (tracker.admin.queue) and integrity/ (tracker.admin.integrity_view).
        pages = [
            ("import/", import_page, "import"),
            ("import/<str:token>/rejected.csv", rejected_rows, "import_rejected"),
            ("queue/", queue_page, "queue"),
            ("integrity/", integrity_page, "integrity"),
        ]
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        return [
            *(
                path(route, self.admin_site.admin_view(view), name=f"{prefix}_{name}")
                for route, view, name in pages
            ),
            *super().get_urls(),
        ]

    def get_queryset(self, request):
        # A model without a name is shown by its applicant's, here and in autocompletes.
        # (The list applies list_select_related only to a queryset without any.)
        return super().get_queryset(request).select_related(*self.list_select_related)

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is not None:
            kwargs["form"] = AIModelChangeForm
        elif self.has_change_status_permission(request):
            kwargs["form"] = AIModelAddForm
        else:
            kwargs["form"] = AIModelSubmissionForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fieldsets(self, request, obj=None):
        about = (
            None,
            {
                "fields": [
                    "name_zh",
                    "name_en",
                    *(["slug"] if obj is not None else []),
                    "applicant",
                    "aliases",
                    ("filing_type", "scope"),
                    "on_device_scenario",
                    "sector",
                    "upstream",
                ]
            },
        )
        described = (_("Public description"), {"fields": ["description"]})
        reviews = self.has_change_status_permission(request)
        if obj is None:
            entry = ["entry_status", "entry_note", "submitted_on"]
            # Without the right to review, a record enters as a new submission
            # (AIModelSubmissionForm): approval, number, batch and 序号 come later.
            if reviews:
                entry += [
                    ("approved_on", "approved_on_estimated"),
                    "filing_number",
                    "batch",
                    "seq_no",
                ]
            return [
                about,
                (_("Entry into the register"), {"fields": entry}),
                described,
                (_("Staff only"), {"fields": ["internal_notes"]}),
            ]
        review = [
            "status",
            "submitted_on",
            ("approved_on", "approved_on_estimated"),
            "filing_number",
            "batch",
            "seq_no",
        ]
        staff_only = ["internal_notes"]
        if self.has_change_permission(request, obj):
            staff_only.append("read_version")
        review_notice = {} if reviews else {"description": REVIEWER_MOVES_IT_ON}
        return [
            about,
            (_("Review"), {"fields": review, **review_notice}),
            described,
            (_("Why"), {"fields": ["change_reason"]}),
            (_("Staff only"), {"fields": staff_only}),
            (
                _("Record"),
                {"fields": ["version", "created_at", "updated_at"], "classes": ["collapse"]},
            ),
        ]

    def save_model(self, request, obj, form, change):
        if change:
            # AIModelChangeForm checked and bumped the version under a lock.
            with audit.recorded(request.user, form.cleaned_data["change_reason"]):
                obj.save(update_fields=EDITABLE_FIELDS)
        else:
            workflow.enter(
                obj,
                by=request.user,
                status=form.cleaned_data["entry_status"],
                note=form.cleaned_data["entry_note"],
            )

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        # A model's page offers the steps allowed from its status as buttons, rather than
        # the full list of review actions.
        context["action_form"] = None
        if obj is not None and self.has_change_status_permission(request):
            context["review_steps"] = [step for step in REVIEW_STEPS if not step.refusal(obj)]
            context["undo_step"] = None if UNDO_STEP.refusal(obj) else UNDO_STEP
            context["review_action_field"] = CHANGE_FORM_ACTION
        return super().render_change_form(request, context, add, change, form_url, obj)

    def has_change_status_permission(self, request, obj=None):
        return request.user.has_perm(f"{self.opts.app_label}.change_status")

    def review(self, request, queryset, step):
        """Show the step's form for the selected models; on confirmation, apply it."""
        models = list(queryset)
        data = request.POST if "apply" in request.POST else None
        form = step.form(data, models=models, step=step)
        if form.is_valid():
            self._apply(request, models, step, form.cleaned_data)
            return None
        on_own_page = CHANGE_FORM_ACTION in request.POST
        rows = [(ai_model, step.refusal(ai_model)) for ai_model in models]
        context = {
            **self.admin_site.each_context(request),
            "title": step.label,
            "subtitle": models[0] if on_own_page else None,
            "opts": self.opts,
            "step": step,
            "form": form,
            "rows": rows,
            # Nothing to confirm when every row would be refused: each row says why.
            "all_refused": all(refusal for _model, refusal in rows),
            "original": models[0] if on_own_page else None,
            "action_field": CHANGE_FORM_ACTION if on_own_page else "action",
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/tracker/aimodel/review_step.html", context)

    def _apply(self, request, models, step, data):
        moved = []
        for ai_model in models:
            reason = _precheck(request, ai_model, step)
            if reason is None:
                try:
                    status = step.apply(ai_model, request.user, data)
                except workflow.TransitionError as refusal:
                    reason = str(refusal)
            if reason is None:
                moved.append((ai_model, status))
            else:
                self.message_user(
                    request,
                    gettext("“%(model)s” was not changed: %(reason)s")
                    % {"model": ai_model, "reason": reason},
                    messages.ERROR,
                )
        if not moved:
            return
        if step is UNDO_STEP:
            message = _undone_message(moved)
        elif len(moved) == 1:
            message = gettext("“%(model)s” moved to “%(status)s”.") % {
                "model": moved[0][0],
                "status": step.to.label,
            }
        else:
            message = ngettext(
                "%(count)d model moved to “%(status)s”.",
                "%(count)d models moved to “%(status)s”.",
                len(moved),
            ) % {"count": len(moved), "status": step.to.label}
        self.message_user(request, message, messages.SUCCESS)


def _undone_message(undone):
    if len(undone) == 1:
        ai_model, status = undone[0]
        return gettext("“%(model)s”: the last step was undone; it is back to “%(status)s”.") % {
            "model": ai_model,
            "status": choice_label(Status, status),
        }
    return ngettext(
        "%(count)d model had its last step undone.",
        "%(count)d models had their last step undone.",
        len(undone),
    ) % {"count": len(undone)}


@admin.register(StatusChange)
class StatusChangeAdmin(ReadOnly, admin.ModelAdmin):
    """The full review log. Append-only: nobody, superusers included, edits it here."""

    list_display = [
        "model",
        "from_status",
        "to_status",
        "happened_on",
        "recorded_by",
        "recorded_at",
    ]
    list_filter = ["to_status", "from_status"]
    list_select_related = ["model__applicant", "recorded_by"]
    search_fields = [
        "model__name_zh",
        "model__name_en",
        "model__filing_number",
        "model__applicant__name_zh",
        "model__applicant__name_en",
        "note",
    ]
    ordering = ["-recorded_at", "-pk"]
    show_full_result_count = False


@admin.register(Correction)
class CorrectionAdmin(ReadOnly, admin.ModelAdmin):
    """The record history: every change to a public field, written by the database.
    Append-only: nobody, superusers included, edits or deletes a row (the database
    refuses it too)."""

    # The reason is on each row's page: the list stays narrow enough to read.
    list_display = [
        "changed_at",
        "record_type",
        "record_id",
        "field",
        "old_value",
        "new_value",
        "kind",
        "changed_by",
    ]
    list_filter = ["kind", "record_type", "field"]
    list_select_related = ["changed_by"]
    search_fields = ["reason", "old_value", "new_value"]
    ordering = ["-changed_at", "-pk"]
    show_full_result_count = False
