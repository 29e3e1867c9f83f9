"""Forms behind the staff admin: entering a record, editing it safely, and review steps."""

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import AdminDateWidget, AutocompleteSelect
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import router
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tracker import workflow
from tracker.audit import AUDITED_FIELDS
from tracker.models import (
    APPROVED_STATUSES,
    AIModel,
    Applicant,
    Batch,
    RecordType,
    Sequence,
    Source,
    Status,
    choice_label,
    sequence_of,
)
from tracker.text import clean_name, clean_number
from tracker.workflow import ENTRY_STATUSES

STALE_EDIT = _(
    "This model was changed by someone else while you were editing it. Reload the page to "
    "see the current record, then make your changes again."
)


# The database constraints staff can run into through the admin's forms: the field each
# concerns and a sentence for it, instead of Django's "Constraint “…” is violated.". The
# others cannot be reached here: a status, kind or precision is chosen from a list, the
# published sequence follows the type, and the history is read-only.
CONSTRAINT_MESSAGES = {
    "applicant_has_a_name": (
        "name_zh",
        _("Give the applicant's Chinese name, its English name, or both."),
    ),
    "applicant_unique_name_zh": (
        "name_zh",
        _("Another applicant already has this Chinese name: choose that applicant instead."),
    ),
    "applicant_unique_name_en": (
        "name_en",
        _("Another applicant already has this English name: choose that applicant instead."),
    ),
    "applicant_not_its_own_parent": (
        "parent",
        _("An applicant cannot be its own parent group."),
    ),
    "batch_has_a_title": (
        "title_zh",
        _("Give the batch's Chinese title, its English title, or both."),
    ),
    "aimodel_approved_after_submitted": (
        "approved_on",
        _("The approval date is before the submission date: a decision follows the submission."),
    ),
    "aimodel_unique_filing_number": (
        "filing_number",
        _("Another model already has this filing number."),
    ),
    "aimodel_unique_name_zh_per_applicant": (
        "name_zh",
        _("This applicant already has a model of this filing type with this Chinese name."),
    ),
    "aimodel_unique_name_en_per_applicant": (
        "name_en",
        _("This applicant already has a model of this filing type with this English name."),
    ),
    "aimodel_unique_seq_no": (
        "seq_no",
        _("Another row of the same published list already has this sequence number."),
    ),
    "source_unique_title_url": (
        "title",
        _("This report is listed already: another source has the same title and address."),
    ),
}


class ConstraintMessagesForm(forms.ModelForm):
    """Checks the model's constraints as Django does, saying what a broken one means on
    the field it concerns (CONSTRAINT_MESSAGES)."""

    def validate_constraints(self):
        exclude = self._get_validation_exclusions()
        using = router.db_for_write(self._meta.model, instance=self.instance)
        for model_class, constraints in self.instance.get_constraints():
            for constraint in constraints:
                try:
                    constraint.validate(model_class, self.instance, exclude=exclude, using=using)
                except ValidationError as error:
                    self._constraint_error(constraint, error)

    def _constraint_error(self, constraint, error):
        if constraint.name in CONSTRAINT_MESSAGES:
            field, message = CONSTRAINT_MESSAGES[constraint.name]
            field = field if field in self.fields else None
            error = ValidationError(message, code=constraint.name)
        elif getattr(error, "code", None) == "unique" and len(constraint.fields) == 1:
            field = constraint.fields[0]
        else:
            field = None
        self._update_errors(ValidationError({field or NON_FIELD_ERRORS: error}))


class NormalisedNamesForm(ConstraintMessagesForm):
    """Validates uniqueness against the names as the model stores them (see clean_name)."""

    normalised_fields = {"name_zh": clean_name, "name_en": clean_name}

    def clean(self):
        cleaned = super().clean()
        for name, clean in self.normalised_fields.items():
            if name in cleaned:
                cleaned[name] = clean(cleaned[name])
        return cleaned


def _check_approval_date(form, status):
    """An approved record has an approval date; a pending or refused one has none."""
    approved_on = form.cleaned_data.get("approved_on")
    if "approved_on" in form.errors:
        return
    if status in APPROVED_STATUSES and approved_on is None:
        form.add_error("approved_on", _("An approved record needs its approval date."))
    elif status not in APPROVED_STATUSES and approved_on is not None:
        form.add_error(
            "approved_on",
            _("Only an approved record has an approval date: approve it with a review action."),
        )


class AIModelForm(NormalisedNamesForm):
    """Checks shared by entering and editing a model, with messages a person understands."""

    normalised_fields = {
        "name_zh": clean_name,
        "name_en": clean_name,
        "filing_number": clean_number,
    }

    def clean(self):
        cleaned = super().clean()
        for name in ("submitted_on", "approved_on"):
            if refusal := workflow.future_date_refusal(cleaned.get(name)):
                self.add_error(name, refusal)
        self._check_seq_no(cleaned)
        number = cleaned.get("filing_number")
        # An unchanged number is the model's own: the database's constraint still guards it.
        if (
            number
            and "filing_number" in self.changed_data
            and (refusal := workflow.filing_number_refusal(number, exclude=[self.instance.pk]))
        ):
            self.add_error("filing_number", refusal)
        return cleaned

    def _check_seq_no(self, cleaned):
        # The database keeps a 序号 to one row of its sequence; the form says so first.
        seq_no = cleaned.get("seq_no")
        filing_type = cleaned.get("filing_type", self.instance.filing_type)
        if seq_no is None or not filing_type:
            return
        sequence = sequence_of(
            filing_type, cleaned.get("on_device_scenario", self.instance.on_device_scenario)
        )
        holder = (
            AIModel.objects.filter(sequence=sequence, seq_no=seq_no)
            .exclude(pk=self.instance.pk)
            .first()
        )
        if holder is not None:
            self.add_error(
                "seq_no",
                _("No. %(n)s of the %(sequence)s is already %(model)s.")
                % {
                    "n": seq_no,
                    "sequence": choice_label(Sequence, sequence).lower(),
                    "model": holder,
                },
            )


class AIModelAddForm(AIModelForm):
    """A new record and the status it enters the register with (saved by workflow.enter)."""

    entry_status = forms.ChoiceField(
        label=_("Enters the register as"),
        choices=[(status.value, status.label) for status in ENTRY_STATUSES],
        initial=Status.SUBMITTED,
        help_text=_(
            "The stage of review the submission is known to have reached. "
            "Later steps are recorded with the review actions."
        ),
    )
    entry_note = forms.CharField(
        label=_("Public note on this first step"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        help_text=_("Shown on the public timeline, e.g. where the news came from."),
    )

    def clean(self):
        cleaned = super().clean()
        status = cleaned.get("entry_status")
        if status:
            _check_approval_date(self, status)
        if status and not self.errors:
            entering = AIModel(
                filing_type=cleaned.get("filing_type"),
                upstream=cleaned.get("upstream"),
                approved_on=cleaned.get("approved_on"),
            )
            refusal = workflow.entry_refusal(entering, status)
            if refusal:
                self.add_error("entry_status", refusal)
        return cleaned


class AIModelSubmissionForm(AIModelAddForm):
    """Entering a record for staff who may not apply review steps: as a new submission.

    Any later status, approval included, is a review decision for a Reviewer.
    """

    entry_status = forms.ChoiceField(
        label=_("Enters the register as"),
        choices=[(Status.SUBMITTED.value, Status.SUBMITTED.label)],
        initial=Status.SUBMITTED,
    )


def is_published(record):
    """Whether ``record`` (a model, applicant or batch, as stored) is part of what the
    published lists say: a batch; a model in one, or approved; an applicant of such."""
    if isinstance(record, Batch):
        return True
    if isinstance(record, Applicant):
        return (
            AIModel.objects.filter(applicant=record)
            .filter(Q(batch__isnull=False) | Q(status__in=APPROVED_STATUSES))
            .exists()
        )
    stored = AIModel.objects.filter(pk=record.pk).values_list("batch_id", "status").first()
    return stored is not None and (stored[0] is not None or stored[1] in APPROVED_STATUSES)


class ReasonedEditForm(ConstraintMessagesForm):
    """An edit of a published record says why: the reason is shown with the correction in
    the record's public history (tracker.audit)."""

    record_type = None

    change_reason = forms.CharField(
        label=_("Reason for the change"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_(
            "Shown to the public with the correction, in the record's history; required when "
            "the record is published."
        ),
    )

    def clean(self):
        cleaned = super().clean()
        cleaned["change_reason"] = cleaned.get("change_reason", "").strip()
        changed = set(self.changed_data) & set(AUDITED_FIELDS[self.record_type])
        if (
            self.instance.pk is not None
            and changed
            and not cleaned["change_reason"]
            and is_published(self.instance)
        ):
            self.add_error(
                "change_reason",
                _(
                    "This record is published: say why it changes. The reason is shown with the "
                    "correction."
                ),
            )
        return cleaned


class ApplicantForm(ReasonedEditForm, NormalisedNamesForm):
    record_type = RecordType.APPLICANT


class BatchForm(ReasonedEditForm):
    record_type = RecordType.BATCH


class SourceForm(ConstraintMessagesForm):
    class Meta:
        model = Source
        fields = ["title", "publisher", "url", "published_on", "summary", "ai_models"]


class AIModelChangeForm(ReasonedEditForm, AIModelForm):
    """An edit that is refused when the record changed after the form was read."""

    record_type = RecordType.MODEL

    read_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["read_version"].initial = self.instance.version

    def clean(self):
        cleaned = super().clean()
        _check_approval_date(self, self.instance.status)
        if "filing_type" in self.changed_data and self.instance.status != Status.SUBMITTED:
            # The review path depends on it: a registration never goes to national review
            # and is approved only after the model it calls.
            self.add_error(
                "filing_type",
                _("The filing type can only change before review starts."),
            )
        upstream = cleaned.get("upstream")
        if upstream is not None and upstream.pk == self.instance.pk:
            self.add_error("upstream", _("A model cannot call itself."))
        self._claim_version(cleaned.get("read_version"))
        return cleaned

    def _claim_version(self, read_version):
        # The admin saves inside a transaction: select_for_update holds the row on
        # PostgreSQL, and SQLite's IMMEDIATE transactions hold the write lock from BEGIN,
        # so no other write can land between this check and the save.
        current = (
            AIModel.objects.select_for_update()
            .filter(pk=self.instance.pk)
            .values_list("version", flat=True)
            .first()
        )
        if current is None or current != read_version:
            raise ValidationError(STALE_EDIT, code="stale")
        self.instance.version = current + 1


class ReviewStepForm(forms.Form):
    """The date and public note of one review step, applied to the selected models."""

    happened_on = forms.DateField(
        label=_("Date"),
        widget=AdminDateWidget,
        initial=timezone.localdate,
        error_messages={"required": _("Enter the date this step happened.")},
    )
    note = forms.CharField(
        label=_("Public note"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text=_("Shown on each model's public timeline."),
    )

    def __init__(self, *args, models, step=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.models = models
        self.step = step
        if step is not None and step.destructive:
            # A step that ends or undoes something says why, in public.
            note = self.fields["note"]
            note.required = True
            note.label = _("Public reason")
            note.error_messages["required"] = _(
                "Give the public reason for this step: it is shown on the model's timeline."
            )

    def clean_happened_on(self):
        day = self.cleaned_data["happened_on"]
        if refusal := workflow.future_date_refusal(day):
            raise ValidationError(refusal)
        if self.step is None:
            return day
        # The workflow's own date checks, for each model the step would apply to.
        refusals = []
        for ai_model in self.models:
            if self.step.refusal(ai_model) is None and (
                refusal := self.step.date_refusal(ai_model, day)
            ):
                if len(self.models) > 1:
                    refusal = _("“%(model)s”: %(reason)s") % {"model": ai_model, "reason": refusal}
                refusals.append(refusal)
        if refusals:
            raise ValidationError(refusals)
        return day


class UndoForm(ReviewStepForm):
    """The date and public reason of a reversal: the step it undoes was entered in error."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["happened_on"].help_text = _("The day the error was found and put right.")
        self.fields["note"].help_text = _(
            "Shown on each model's public timeline with the step it undoes, e.g. what the "
            "error was."
        )


class ApprovalForm(ReviewStepForm):
    batch = forms.ModelChoiceField(
        Batch.objects.all(),
        label=_("Batch"),
        required=False,
        widget=AutocompleteSelect(AIModel._meta.get_field("batch"), admin.site),
        help_text=_("The published notice that lists the approval, if it is known yet."),
    )
    filing_number = forms.CharField(label=_("Filing number"), max_length=80, required=False)

    def clean_filing_number(self):
        number = clean_number(self.cleaned_data["filing_number"])
        if not number:
            return ""
        if len(self.models) > 1:
            raise ValidationError(
                _(
                    "A filing number belongs to one model: approve the models one at a time "
                    "to give each its number."
                )
            )
        exclude = [ai_model.pk for ai_model in self.models]
        if refusal := workflow.filing_number_refusal(number, exclude=exclude):
            raise ValidationError(refusal)
        return number
