"""The analysts' reports: each a query, a page showing it and a CSV of the same rows."""

import datetime
import math
import statistics
from collections import defaultdict

from django.db.models import Count, Max, Min, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from tracker.analysis import stats
from tracker.analysis.exports import Export, url_maker
from tracker.bulk import CHUNK_SIZE
from tracker.models import (
    PENDING_STATUSES,
    AIModel,
    Jurisdiction,
    Scope,
    Sequence,
    Status,
    StatusChange,
    choice_label,
    latest_step,
)


class ReportError(Exception):
    """The report's parameters are wrong; the message is meant for a person."""


class UnknownReport(ReportError):
    """No report has that name."""


# Time to approval -----------------------------------------------------------------------

TIME_HEADER = ["dimension", "value", "label", "count", "median_days", "p90_days"]
DIMENSIONS = {
    "jurisdiction": gettext_lazy("Jurisdiction"),
    "scope": gettext_lazy("Scope"),
    "sector": gettext_lazy("Sector"),
}


def percentile(values, fraction):
    """Nearest-rank percentile: the smallest value at or above ``fraction`` of the values."""
    ordered = sorted(values)
    return ordered[max(math.ceil(fraction * len(ordered)) - 1, 0)]


def time_to_approval():
    """Per dimension, (value, label, count, median, p90) of days from submission to approval."""
    durations = {dimension: defaultdict(list) for dimension in DIMENSIONS}
    rows = (
        AIModel.objects.filter(submitted_on__isnull=False, approved_on__isnull=False)
        .values_list(
            "applicant__jurisdiction__code", "scope", "sector", "submitted_on", "approved_on"
        )
        .order_by()
        .iterator(chunk_size=CHUNK_SIZE)
    )
    for jurisdiction, scope, sector, submitted_on, approved_on in rows:
        days = (approved_on - submitted_on).days
        durations["jurisdiction"][jurisdiction or ""].append(days)
        durations["scope"][scope].append(days)
        durations["sector"][sector].append(days)
    labels = {
        "jurisdiction": {j.code: j.name for j in Jurisdiction.objects.all()},
        "scope": dict(Scope.choices),
        "sector": {},
    }
    table = {}
    for dimension, groups in durations.items():
        table[dimension] = []
        for value in sorted(groups):
            days = groups[value]
            label = labels[dimension].get(value, value) or _("unknown")
            table[dimension].append(
                (value, str(label), len(days), statistics.median(days), percentile(days, 0.9))
            )
    return table


def time_to_approval_export(params=None, base_url=""):
    table = time_to_approval()
    rows = [(dimension, *row) for dimension, rows in table.items() for row in rows]
    return Export("time-to-approval", TIME_HEADER, rows)


# Backlog ageing ---------------------------------------------------------------------------

AGE_BUCKETS = (
    ("days_0_30", gettext_lazy("0–30 days"), 0, 30),
    ("days_31_90", gettext_lazy("31–90 days"), 31, 90),
    ("days_91_180", gettext_lazy("91–180 days"), 91, 180),
    ("days_over_180", gettext_lazy("over 180 days"), 181, None),
)
AGEING_HEADER = ["stage", *(bucket[0] for bucket in AGE_BUCKETS), "date_unknown", "total"]


def backlog_ageing():
    """Pending submissions per stage, counted by how long they have waited."""
    today = timezone.localdate()
    counts = {}
    for key, _label, low, high in AGE_BUCKETS:
        # A submission dated in the future has waited no time at all.
        condition = (
            Q(submitted_on__lte=today - datetime.timedelta(days=low))
            if low
            else Q(submitted_on__isnull=False)
        )
        if high is not None:
            condition &= Q(submitted_on__gte=today - datetime.timedelta(days=high))
        counts[key] = Count("pk", filter=condition)
    found = {
        row["status"]: row
        for row in AIModel.objects.filter(status__in=PENDING_STATUSES)
        .order_by()
        .values("status")
        .annotate(**counts, date_unknown=Count("pk", filter=Q(submitted_on__isnull=True)))
    }
    keys = [*counts, "date_unknown"]
    rows = []
    for status in PENDING_STATUSES:
        row = found.get(status.value, {})
        values = [row.get(key, 0) for key in keys]
        rows.append((status.value, str(status.label), *values, sum(values)))
    totals = [sum(column) for column in zip(*(row[2:] for row in rows), strict=True)]
    rows.append(("total", _("All pending"), *totals))
    return rows


def backlog_ageing_export(params=None, base_url=""):
    rows = ((stage, *values) for stage, _label, *values in backlog_ageing())
    return Export("backlog-ageing", AGEING_HEADER, rows)


# Batches ----------------------------------------------------------------------------------

BATCHES_HEADER = [
    "batch",
    "title",
    "announced_on",
    "announced_filings",
    "entered_filings",
    "filings_difference",
    "announced_filings_total",
    "entered_filings_total",
    "filings_total_difference",
    "announced_registrations",
    "entered_registrations",
    "registrations_difference",
    "announced_registrations_total",
    "entered_registrations_total",
    "registrations_total_difference",
]


def _difference(announced, entered):
    return None if announced is None else announced - entered


def batch_counts():
    """Per batch, oldest first: announced and entered counts, new and cumulative.

    The difference is announced minus entered: how many approvals the register still lacks.
    """
    rows = []
    for point in stats.batch_timeline():
        batch = point.batch
        rows.append(
            (
                batch.slug,
                batch.title,
                batch.announced_on,
                batch.reported_new,
                batch.n_entered_filings,
                _difference(batch.reported_new, batch.n_entered_filings),
                batch.reported_total,
                point.entered_filings,
                point.filings_difference,
                batch.reported_registrations_new,
                batch.n_entered_registrations,
                _difference(batch.reported_registrations_new, batch.n_entered_registrations),
                batch.reported_registrations_total,
                point.entered_registrations,
                point.registrations_difference,
            )
        )
    return rows


def batches_export(params=None, base_url=""):
    return Export("batches", BATCHES_HEADER, batch_counts())


def sequence_extent():
    """{(batch id, sequence): (rows, highest 序号)} for the published rows: one aggregate."""
    rows = (
        AIModel.objects.published()
        .filter(seq_no__isnull=False)
        .order_by()
        .values_list("batch", "sequence")
        .annotate(n=Count("pk"), top=Max("seq_no"))
    )
    return {(batch_id, sequence): (n, top) for batch_id, sequence, n, top in rows}


def published_numbers(sequence):
    """{序号: batch id} of ``sequence``'s published rows."""
    return dict(
        AIModel.objects.published()
        .filter(sequence=sequence, seq_no__isnull=False)
        .order_by()
        .values_list("seq_no", "batch")
    )


# Named one by one up to this many; beyond it the page gives the count.
MAX_NAMED_MISSING = 20


class _Reconciliation:
    """The published numbering of every sequence, list by list, oldest first: what explains
    a difference between the rows entered and the totals announced."""

    def __init__(self, register, timeline):
        self.register = register
        self.extent = register.cached("sequence_extent", sequence_extent)
        self.position = {point.batch.pk: i for i, point in enumerate(timeline)}
        self.running = {seq: [0, 0] for seq in Sequence.values}  # rows, highest 序号
        self.numbers = {}

    def add(self, batch):
        for seq, (count, top) in self.running.items():
            rows, highest = self.extent.get((batch.pk, seq), (0, 0))
            self.running[seq] = [count + rows, max(top, highest)]

    def missing(self, sequence, up_to, position):
        """The 序号 of ``sequence`` up to ``up_to`` that no list up to ``position`` holds."""
        if sequence not in self.numbers:
            self.numbers[sequence] = self.register.cached(
                f"published_numbers:{sequence}", lambda: published_numbers(sequence)
            )
        numbers = self.numbers[sequence]
        return [
            n
            for n in range(1, up_to + 1)
            if n not in numbers or self.position.get(numbers[n], position + 1) > position
        ]

    def explain(self, label, sequences, announced, entered, position):
        """Sentences on why ``entered`` differs from ``announced`` for one list.

        The numbers of ``sequences`` run up to their highest 序号 so far; a total announced
        beyond them counts numbers past the first sequence's highest. The numbers that no
        list holds are what the register cannot hold.
        """
        if announced is None or announced == entered:
            return []
        tops = {seq: self.running[seq][1] for seq in sequences}
        tops[sequences[0]] += max(announced - sum(tops.values()), 0)
        gaps = {seq: tops[seq] - self.running[seq][0] for seq in sequences}
        if sum(gaps.values()) != announced - entered:
            return [
                _(
                    "%(label)s: the notice announced %(announced)d, the published lists up to "
                    "this one hold %(entered)d; their own numbering does not account for the "
                    "difference."
                )
                % {"label": label, "announced": announced, "entered": entered}
            ]
        notes = []
        for seq, gap in gaps.items():
            values = {"sequence": choice_label(Sequence, seq), "count": gap, "top": tops[seq]}
            if gap > MAX_NAMED_MISSING:
                notes.append(
                    _(
                        "%(sequence)s: %(count)d of the %(top)d numbers announced so far are "
                        "in none of the published lists, so the register cannot hold them."
                    )
                    % values
                )
            elif gap:
                missing = self.missing(seq, tops[seq], position)
                values["numbers"] = ", ".join(map(str, missing))
                notes.append(
                    ngettext(
                        "%(sequence)s: No. %(numbers)s of the %(top)d numbers announced so far "
                        "is in none of the published lists, so the register cannot hold it.",
                        "%(sequence)s: Nos. %(numbers)s of the %(top)d numbers announced so "
                        "far are in none of the published lists, so the register cannot hold "
                        "them.",
                        len(missing),
                    )
                    % values
                )
        return notes


def batch_reconciliation(register=None):
    """Per list, oldest first: the rows entered from it, the cumulative entered and announced
    totals of filings and registrations, and every difference explained."""
    register = register or stats.RegisterStats()
    timeline = register.batch_timeline()
    numbering = _Reconciliation(register, timeline)
    rows = []
    for position, point in enumerate(timeline):
        numbering.add(point.batch)
        notes = []
        on_device = numbering.running[Sequence.ON_DEVICE][0]
        if point.announced_filings is not None and on_device:
            notes.append(
                _(
                    "The filings total includes %(n)d on-device filings, published in a list "
                    "of their own."
                )
                % {"n": on_device}
            )
        notes += numbering.explain(
            _("Filings"),
            (Sequence.FILING, Sequence.ON_DEVICE),
            point.announced_filings,
            point.entered_filings,
            position,
        )
        notes += numbering.explain(
            _("Registrations"),
            (Sequence.REGISTRATION,),
            point.announced_registrations,
            point.entered_registrations,
            position,
        )
        if point.announced_filings is None and point.announced_registrations is None:
            notes.append(_("No cumulative total is known for this notice."))
        rows.append({"point": point, "batch": point.batch, "notes": notes})
    return rows


# The register as of a date ----------------------------------------------------------------

AS_OF_HEADER = [
    "filing_number",
    "name_zh",
    "name_en",
    "applicant_zh",
    "applicant_en",
    "filing_type",
    "status",
    "since",
    "current_status",
    "url",
]


def parse_as_of(params):
    value = (params.get("date") or "").strip()
    if not value:
        raise ReportError(_("Give the date as ?date=YYYY-MM-DD, for example ?date=2024-12-31."))
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise ReportError(
            _("“%(value)s” is not a date: give it as YYYY-MM-DD, for example 2024-12-31.")
            % {"value": value[:40]}
        ) from None


def status_as_of(on):
    """Every model with a step on or before ``on``, with the status that step left it in.

    Models whose history starts after ``on`` were not in the register yet and are left out.
    """
    last_step = latest_step(happened_on__lte=on)
    return (
        AIModel.objects.annotate(
            status_then=Subquery(last_step.values("to_status")[:1]),
            since=Subquery(last_step.values("happened_on")[:1]),
        )
        .filter(status_then__isnull=False)
        .order_by("pk")
    )


def status_as_of_counts(on):
    """``stats.StatusCount`` of every status some model was in on ``on``, in workflow order."""
    rows = status_as_of(on).order_by().values_list("status_then").annotate(n=Count("pk"))
    found = dict(rows)
    return [
        stats.StatusCount(status, label, found[status])
        for status, label in Status.choices
        if status in found
    ]


def history_start():
    """The day of the register's earliest status step: no status is known before it."""
    return StatusChange.objects.aggregate(first=Min("happened_on"))["first"]


def status_as_of_export(params, base_url):
    on = parse_as_of(params)
    model_url = url_maker(base_url, "tracker:model_detail")
    rows = (
        status_as_of(on)
        .values_list(
            "filing_number",
            "name_zh",
            "name_en",
            "applicant__name_zh",
            "applicant__name_en",
            "filing_type",
            "status_then",
            "since",
            "status",
            "slug",
        )
        .iterator(chunk_size=CHUNK_SIZE)
    )
    return Export(
        f"status-as-of-{on.isoformat()}",
        AS_OF_HEADER,
        ((*values, model_url(slug)) for *values, slug in rows),
    )


REPORTS = {
    "time-to-approval": time_to_approval_export,
    "backlog-ageing": backlog_ageing_export,
    "batches": batches_export,
    "status-as-of": status_as_of_export,
}


def report_export(name, params, base_url):
    if name not in REPORTS:
        raise UnknownReport(
            _("There is no report “%(name)s”; the reports are %(names)s.")
            % {"name": name, "names": ", ".join(REPORTS)}
        )
    return REPORTS[name](params, base_url)
