"""The numbers on the overview and backlog pages.

Each function runs one aggregate query (the median two at most), so the pages cost the
same whatever the size of the register.
"""

from dataclasses import dataclass

from django.db.models import Count
from django.utils import timezone

from .models import PENDING_STATUSES, AIModel, Batch, Status


@dataclass(frozen=True)
class StatusCount:
    status: str
    label: str
    count: int


@dataclass(frozen=True)
class StatusSummary:
    counts: list  # StatusCount for every status, in workflow order, zeros included
    total: int
    approved: int
    backlog: int
    backlog_dated: int  # pending submissions whose submission date is known

    @property
    def stages(self):
        """The pending statuses only: where the backlog stands."""
        return [c for c in self.counts if c.status in PENDING_STATUSES]


def status_summary():
    """Counts by status, the backlog size and how many pending submissions carry a date."""
    rows = (
        AIModel.objects.order_by()
        .values("status")
        .annotate(n=Count("pk"), n_dated=Count("submitted_on"))
    )
    by_status = {row["status"]: row for row in rows}
    counts = [
        StatusCount(status, label, by_status.get(status, {}).get("n", 0))
        for status, label in Status.choices
    ]
    pending = [by_status[s] for s in PENDING_STATUSES if s in by_status]
    return StatusSummary(
        counts=counts,
        total=sum(c.count for c in counts),
        approved=by_status.get(Status.APPROVED, {}).get("n", 0),
        backlog=sum(row["n"] for row in pending),
        backlog_dated=sum(row["n_dated"] for row in pending),
    )


def median_wait(n_dated, today=None):
    """The median days waiting of pending submissions with a known submission date, or None.

    ``n_dated`` comes from ``status_summary``. Days waiting fall as the submission date
    rises, so the median wait is the wait of the median submission date: the database
    sorts, and only the one or two middle dates are fetched.
    """
    if not n_dated:
        return None
    today = today or timezone.localdate()
    middle = (n_dated - 1) // 2
    size = 1 if n_dated % 2 else 2
    dates = list(
        AIModel.objects.filter(status__in=PENDING_STATUSES, submitted_on__isnull=False)
        .order_by("submitted_on")
        .values_list("submitted_on", flat=True)[middle : middle + size]
    )
    waits = [(today - d).days for d in dates]
    # Whole days, as shown everywhere else; the mean of two middles rounds half up.
    return (sum(waits) + len(waits) // 2) // len(waits)


@dataclass(frozen=True)
class BatchPoint:
    """One batch on the timeline, with running totals up to and including it."""

    batch: Batch
    entered_filings: int
    entered_registrations: int
    announced_filings: int | None
    announced_registrations: int | None

    @property
    def entered_in_batch(self):
        return self.batch.n_entered


def batch_timeline():
    """Every batch, oldest first, with cumulative entered and announced counts.

    Entered counts are the models linked to each batch, summed up to that batch. The
    announced ones are the notice's own cumulative totals: a notice that only gave its
    new count leaves the total unknown, since earlier notices may be missing.
    """
    batches = Batch.objects.with_counts(list(Batch.objects.order_by("announced_on", "pk")))
    points = []
    filings = registrations = 0
    for batch in batches:
        filings += batch.n_entered_filings
        registrations += batch.n_entered_registrations
        points.append(
            BatchPoint(
                batch,
                filings,
                registrations,
                batch.reported_total,
                batch.reported_registrations_total,
            )
        )
    return points
