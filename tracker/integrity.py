"""Consistency checks over the whole register, each one set-based query.

The workflow and the database constraints should make every ``problems()`` finding
impossible; these checks prove it after an import, a restore or a hand edit, and scale to
millions of rows. ``to_check()`` lists what is as published but needs a person: imported
registrations whose upstream model no list names, and published numbers that look cut off
or mistyped.
"""

from dataclasses import dataclass

from django.db.models import Exists, F, OuterRef, Subquery
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tracker.bulk import CHUNK_SIZE
from tracker.models import (
    APPROVED_STATUSES,
    AIModel,
    FilingType,
    JurisdictionResolver,
    StatusChange,
    latest_step,
)
from tracker.numbers import number_problems

# What each check finds, as the admin's integrity page heads its findings.
CHECKS = {
    "status_differs_from_history": gettext_lazy("Status differs from the last history step"),
    "approved_without_date": gettext_lazy("Approved without an approval date"),
    "without_history": gettext_lazy("Without history"),
    "registration_without_upstream": gettext_lazy("Registrations without an upstream model"),
    "flagged_number": gettext_lazy("Numbers that look cut off or mistyped"),
}


@dataclass(frozen=True)
class Finding:
    """One line of a check: the model it names (for a link to fix it), the check (a key of
    ``CHECKS``) and the sentence the command prints."""

    model_id: int
    check: str
    text: str

    def __str__(self):
        return self.text


def status_differs_from_history():
    return (
        AIModel.objects.annotate(last_status=Subquery(latest_step().values("to_status")[:1]))
        .filter(last_status__isnull=False)
        .exclude(status=F("last_status"))
    )


def approved_without_date():
    return AIModel.objects.filter(status__in=APPROVED_STATUSES, approved_on__isnull=True)


def registration_without_upstream():
    return AIModel.objects.filter(filing_type=FilingType.REGISTRATION, upstream__isnull=True)


def without_history():
    return AIModel.objects.filter(~Exists(StatusChange.objects.filter(model=OuterRef("pk"))))


def problems():
    """Yield a ``Finding`` per problem found, its line naming the model by id and slug."""
    for pk, slug, status, last_status in (
        status_differs_from_history()
        .order_by("pk")
        .values_list("pk", "slug", "status", "last_status")
        .iterator(chunk_size=CHUNK_SIZE)
    ):
        yield Finding(
            pk,
            "status_differs_from_history",
            _(
                "Model %(pk)s (%(slug)s): status is “%(status)s” but its last history step "
                "is “%(last)s”."
            )
            % {"pk": pk, "slug": slug, "status": status, "last": last_status},
        )
    simple_checks = [
        (
            "approved_without_date",
            approved_without_date(),
            _("Model %(pk)s (%(slug)s): status is “%(status)s” but it has no approval date."),
        ),
        (
            "without_history",
            without_history(),
            _("Model %(pk)s (%(slug)s): status is “%(status)s” but it has no history."),
        ),
    ]
    for check, queryset, message in simple_checks:
        rows = queryset.order_by("pk").values_list("pk", "slug", "status")
        for pk, slug, status in rows.iterator(chunk_size=CHUNK_SIZE):
            yield Finding(pk, check, message % {"pk": pk, "slug": slug, "status": status})


def to_check():
    """Yield a ``Finding`` per record that is as published but needs a person to look at."""
    rows = registration_without_upstream().order_by("pk").values_list("pk", "slug")
    for pk, slug in rows.iterator(chunk_size=CHUNK_SIZE):
        yield Finding(
            pk,
            "registration_without_upstream",
            _("Model %(pk)s (%(slug)s): a registration without the upstream model it calls.")
            % {"pk": pk, "slug": slug},
        )
    tokens = JurisdictionResolver().region_tokens
    numbered = (
        AIModel.objects.exclude(filing_number="")
        .order_by("pk")
        .values_list("pk", "slug", "filing_number", "filing_type")
    )
    for pk, slug, number, filing_type in numbered.iterator(chunk_size=CHUNK_SIZE):
        for problem in number_problems(number, filing_type, tokens):
            yield Finding(
                pk,
                "flagged_number",
                _("Model %(pk)s (%(slug)s): %(problem)s")
                % {"pk": pk, "slug": slug, "problem": problem},
            )
