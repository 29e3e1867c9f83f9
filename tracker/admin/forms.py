"""Forms behind the staff admin: entering a record, editing it safely, and review steps."""

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import AdminDateWidget, AutocompleteSelect
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tracker import workflow
from tracker.models import (
    APPROVED_STATUSES,
    AIModel,
    Batch,
    Sequence,
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


class NormalisedNamesForm(forms.ModelForm):
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


class AIModelChangeForm(AIModelForm):
    """An edit that is refused when the record changed after the form was read."""

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

    def __init__(self, *args, models, **kwargs):
        super().__init__(*args, **kwargs)
        self.models = models


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
