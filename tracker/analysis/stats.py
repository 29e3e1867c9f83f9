"""The numbers on the overview, backlog and batch pages.

Each function runs one aggregate query, so the pages cost the same number of queries
whatever the size of the register. On a large register each of those queries still reads
a whole index, so the pages take them from ``RegisterStats``, which keeps them in the
cache until the register changes.
"""

from dataclasses import dataclass
from functools import cached_property

from django.core.cache import cache
from django.db import connection
from django.db.models import Count
from django.utils import timezone

from tracker import stamp
from tracker.models import PENDING_STATUSES, AIModel, Batch, FilingType, Status

# The stamp already invalidates; the timeout only lets stale entries of a busy cache go.
CACHE_TIMEOUT = 24 * 60 * 60
_MISSING = object()


class RegisterStats:
    """Whole-register numbers, each computed once per state of the register.

    The stamp is read first: a write that lands while a number is being computed changes
    the stamp, so a number is never kept under a stamp older than the rows it counted.
    Inside a transaction whose writes the stamp does not cover yet (it moves as they commit,
    on PostgreSQL), numbers are computed but never kept: they may count rows no one else
    sees, or ever will.
    """

    def __init__(self):
        state = stamp.current()
        self.stamp = None if state is None or not state.settled else state.version

    def cached(self, name, compute):
        if self.stamp is None:
            return compute()
        key = f"tracker:stats:{connection.settings_dict['NAME']}:{self.stamp}:{name}"
        value = cache.get(key, _MISSING)
        if value is _MISSING:
            value = compute()
            cache.set(key, value, CACHE_TIMEOUT)
        return value

    @cached_property
    def summary(self):
        return self.cached("summary", status_summary)

    @cached_property
    def median_dates(self):
        return self.cached(
            "median_dates", lambda: median_submission_dates(self.summary.backlog_dated)
        )

    def median_wait(self, today=None):
        return wait_of(self.median_dates, today)

    @cached_property
    def entered(self):
        return self.cached("entered", entered_counts)

    def with_entered_counts(self, batches):
        return set_entered_counts(batches, self.entered)

    def batch_timeline(self, batches=None):
        return batch_timeline(self.entered, batches)

    def coverage(self, timeline=None, batches=None):
        """How much of the published record the register holds; pass the
        ``batch_timeline()`` or the batches already at hand."""
        return coverage(self.batch_timeline(batches) if timeline is None else timeline)


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

    ``n_dated`` comes from ``status_summary``.
    """
    return wait_of(median_submission_dates(n_dated), today)


def median_submission_dates(n_dated):
    """The one or two middle submission dates of the dated pending submissions.

    Days waiting fall as the submission date rises, so the median wait is the wait of the
    median submission date: the database sorts, and only the middle dates are fetched.
    """
    if not n_dated:
        return []
    middle = (n_dated - 1) // 2
    size = 1 if n_dated % 2 else 2
    return list(
        AIModel.objects.filter(status__in=PENDING_STATUSES, submitted_on__isnull=False)
        .order_by("submitted_on")
        .values_list("submitted_on", flat=True)[middle : middle + size]
    )


def wait_of(dates, today=None):
    """The median wait in days, given the middle submission dates; None without any."""
    if not dates:
        return None
    today = today or timezone.localdate()
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

    @property
    def filings_difference(self):
        """Announced minus entered, cumulatively; None when no total was announced."""
        if self.announced_filings is None:
            return None
        return self.announced_filings - self.entered_filings

    @property
    def registrations_difference(self):
        if self.announced_registrations is None:
            return None
        return self.announced_registrations - self.entered_registrations


def entered_counts():
    """{(batch id, filing type): models entered} for every batch with models."""
    rows = (
        AIModel.objects.filter(batch__isnull=False)
        .order_by()
        .values_list("batch", "filing_type")
        .annotate(n=Count("pk"))
    )
    return {(batch_id, filing_type): n for batch_id, filing_type, n in rows}


def set_entered_counts(batches, counts):
    """``batches`` with the models entered for them, from ``entered_counts``, to set
    against the announced counts (filings and registrations are announced separately)."""
    for batch in batches:
        batch.n_entered_filings = counts.get((batch.pk, FilingType.FILING), 0)
        batch.n_entered_registrations = counts.get((batch.pk, FilingType.REGISTRATION), 0)
        batch.n_entered = batch.n_entered_filings + batch.n_entered_registrations
    return batches


def batch_timeline(counts=None, batches=None):
    """Every batch, oldest first, with cumulative entered and announced counts.

    Entered counts are the models linked to each batch, summed up to that batch; pass
    ``entered_counts()`` already at hand as ``counts``. The announced ones are the
    notice's own cumulative totals: a notice that only gave its new count leaves the total
    unknown, since earlier notices may be missing.
    """
    if counts is None:
        counts = entered_counts()
    if batches is None:
        batches = Batch.objects.order_by("announced_on", "pk")
    else:
        batches = sorted(batches, key=lambda batch: (batch.announced_on, batch.pk))
    batches = set_entered_counts(list(batches), counts)
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


@dataclass(frozen=True)
class Coverage:
    """The register against the published record: the CAC's latest announced totals of
    filings and of registrations, and the rows entered for the lists up to the ones that
    announced them."""

    entered: int
    announced: int | None
    latest: Batch | None  # the latest published list


def coverage(timeline):
    """The ``Coverage`` of a ``batch_timeline()``."""
    if not timeline:
        return Coverage(entered=0, announced=None, latest=None)
    filings = next((p for p in reversed(timeline) if p.announced_filings is not None), None)
    registrations = next(
        (p for p in reversed(timeline) if p.announced_registrations is not None), None
    )
    if filings is None and registrations is None:
        last = timeline[-1]
        return Coverage(
            entered=last.entered_filings + last.entered_registrations,
            announced=None,
            latest=last.batch,
        )
    announced = entered = 0
    if filings is not None:
        announced += filings.announced_filings
        entered += filings.entered_filings
    if registrations is not None:
        announced += registrations.announced_registrations
        entered += registrations.entered_registrations
    return Coverage(entered=entered, announced=announced, latest=timeline[-1].batch)
