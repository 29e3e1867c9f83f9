"""The counts behind the charts of /reports/charts/, each read by one aggregate query
whatever the size of the register."""

import datetime
from dataclasses import dataclass

from django.db.models import Count
from django.db.models.functions import TruncMonth

from tracker.models import AIModel, FilingType

# The upstream models named one by one; the others are summed.
TOP_UPSTREAM = 10


@dataclass(frozen=True)
class MonthCount:
    month: datetime.date  # the month's first day
    filings: int
    registrations: int

    @property
    def total(self):
        return self.filings + self.registrations


def approvals_by_month():
    """Approvals per month of their approval date and filing type, from the first month
    with one to the last, the months without any included. Approvals later suspended,
    cancelled or revoked count in the month they were approved."""
    rows = (
        AIModel.objects.filter(approved_on__isnull=False)
        .order_by()
        .values_list(TruncMonth("approved_on"), "filing_type")
        .annotate(n=Count("pk"))
    )
    counts = {(month, filing_type): n for month, filing_type, n in rows}
    if not counts:
        return []
    month, last = min(m for m, _t in counts), max(m for m, _t in counts)
    months = []
    while month <= last:
        months.append(
            MonthCount(
                month,
                counts.get((month, FilingType.FILING), 0),
                counts.get((month, FilingType.REGISTRATION), 0),
            )
        )
        month = (month + datetime.timedelta(days=31)).replace(day=1)
    return months


def approved_by_jurisdiction():
    """{jurisdiction code, or None when unknown: models approved now}: what the listing
    of approved models filtered by jurisdiction counts."""
    rows = (
        AIModel.objects.approved()
        .order_by()
        .values_list("applicant__jurisdiction__code")
        .annotate(n=Count("pk"))
    )
    return dict(rows)


@dataclass(frozen=True)
class UpstreamCounts:
    top: list  # (upstream AIModel, registrations calling it), most called first
    others: int  # upstream models beyond the top ones
    others_registrations: int
    unrecorded: int  # registrations whose upstream model is not recorded

    @property
    def named(self):
        """Registrations that name their upstream model."""
        return sum(n for _model, n in self.top) + self.others_registrations


def registrations_by_upstream(top=TOP_UPSTREAM):
    """How many registrations call each filed model: the ``top`` most called, the rest
    summed, and the registrations that do not say."""
    rows = (
        AIModel.objects.filter(filing_type=FilingType.REGISTRATION)
        .order_by()
        .values_list("upstream")
        .annotate(n=Count("pk"))
    )
    counts = dict(rows)
    unrecorded = counts.pop(None, 0)
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    leaders, rest = ranked[:top], ranked[top:]
    models = AIModel.objects.for_listing().in_order([pk for pk, _n in leaders])
    return UpstreamCounts(
        top=[(model, counts[model.pk]) for model in models],
        others=len(rest),
        others_registrations=sum(n for _pk, n in rest),
        unrecorded=unrecorded,
    )
