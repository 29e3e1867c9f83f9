"""The report pages of /reports/ and their CSV files; the reports themselves are
tracker.analysis.reports."""

from django.http import Http404
from django.shortcuts import render
from django.template.defaultfilters import floatformat
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from tracker.analysis import breakdowns, charts
from tracker.analysis.reports import (
    AGE_BUCKETS,
    DIMENSIONS,
    ReportError,
    UnknownReport,
    backlog_ageing,
    batch_reconciliation,
    history_start,
    parse_as_of,
    report_export,
    status_as_of,
    status_as_of_counts,
    time_to_approval,
)
from tracker.limits import EXPORT, at_once, limited
from tracker.models import Jurisdiction
from tracker.public.conditional import conditional
from tracker.public.pagination import page_links, paginate, query_url


@conditional
def index(request):
    return render(request, "tracker/reports.html", {"today": timezone.localdate()})


@conditional
def time_to_approval_page(request):
    table = time_to_approval()
    sections = [(dimension, DIMENSIONS[dimension], rows) for dimension, rows in table.items()]
    context = {"sections": sections, "time_chart": _time_chart(_by_median(table["jurisdiction"]))}
    return render(request, "tracker/reports_time_to_approval.html", context)


@conditional
def charts_page(request):
    by_jurisdiction = breakdowns.approved_by_jurisdiction()
    tiles = charts.tile_map(by_jurisdiction, list(Jurisdiction.objects.all()))
    upstream = breakdowns.registrations_by_upstream()
    time_rows = _by_median(time_to_approval()["jurisdiction"])
    context = {
        "months": charts.monthly_chart(breakdowns.approvals_by_month()),
        "tiles": tiles,
        "jurisdiction_unknown": by_jurisdiction.get(None, 0),
        "upstream": upstream,
        "upstream_chart": _upstream_chart(upstream),
        "time_rows": time_rows,
        "time_chart": _time_chart(time_rows),
    }
    return render(request, "tracker/reports_charts.html", context)


def _upstream_chart(upstream):
    """The bars of ``breakdowns.registrations_by_upstream``: the most called models, each
    linking to its page, then the others in one bar."""
    rows = [
        charts.BarRow(
            name=model.display_name,
            value=n,
            figures=_registrations(n),
            url=model.get_absolute_url(),
        )
        for model, n in upstream.top
    ]
    if upstream.others:
        rows.append(
            charts.BarRow(
                name=ngettext(
                    "%(count)d other upstream model",
                    "%(count)d other upstream models",
                    upstream.others,
                )
                % {"count": upstream.others},
                value=upstream.others_registrations,
                figures=_registrations(upstream.others_registrations),
                css="other",
            )
        )
    return charts.bar_chart(rows)


def _registrations(n):
    return ngettext("%(count)d registration", "%(count)d registrations", n) % {"count": n}


def _by_median(rows):
    """Rows of ``time_to_approval``, the quickest median first."""
    return sorted(rows, key=lambda row: (row[3], row[1]))


def _time_chart(rows):
    """The bars of time to approval by jurisdiction: the median as the bar, the 90th
    percentile marked on it."""
    return charts.bar_chart(
        [
            charts.BarRow(
                name=label,
                value=median,
                marker=p90,
                figures=gettext("%(median)s days, 90th percentile %(p90)s")
                % {"median": floatformat(median), "p90": p90},
            )
            for _value, label, _count, median, p90 in rows
        ]
    )


@conditional
def backlog_ageing_page(request):
    columns = [*(bucket[1] for bucket in AGE_BUCKETS), gettext("Date unknown"), gettext("Total")]
    return render(
        request,
        "tracker/reports_backlog_ageing.html",
        {
            "columns": columns,
            # Each count with its column: a phone shows a stage as a card of labelled counts.
            "rows": [
                (label, list(zip(columns, counts, strict=True)))
                for _stage, label, *counts in backlog_ageing()
            ],
        },
    )


@conditional
def batches_page(request):
    return render(request, "tracker/reports_batches.html", {"rows": batch_reconciliation()})


@conditional
def status_as_of_page(request):
    today = timezone.localdate()
    typed = request.GET.get("date", "").strip()
    context = {"typed": typed}
    try:
        on = parse_as_of(request.GET) if typed else today
    except ReportError as error:
        context["error"] = str(error)
        return render(request, "tracker/reports_status_as_of.html", context, status=400)
    # Later steps are not known yet: a date after today shows the register as it stands.
    context |= {"future": on if on > today else None, "on": min(on, today)}
    context |= _status_listing(request, context["on"])
    status = 404 if context.get("page_problem") else 200
    return render(request, "tracker/reports_status_as_of.html", context, status=status)


def _status_listing(request, on):
    """The statuses on ``on``, counted and a page of them; none before the history starts."""
    start = history_start()
    if start is None or on < start:
        return {"start": start, "before_start": start is not None}
    counts = status_as_of_counts(on)
    rows = status_as_of(on).select_related("applicant")
    page, page_problem = paginate(request, rows, count=sum(c.count for c in counts))
    return {
        "start": start,
        "counts": counts,
        "page": page,
        "page_problem": page_problem,
        "pagination": page_links(request.GET, page),
        "first_page_url": query_url(request.GET, page=None),
    }


def _bad_request(request, error):
    return render(request, "tracker/reports_error.html", {"message": str(error)}, status=400)


@conditional
@at_once("export", "EXPORTS_AT_ONCE")
@limited(EXPORT)
def report_csv(request, name):
    try:
        export = report_export(name, request.GET, request.build_absolute_uri("/"))
    except UnknownReport as error:
        raise Http404(str(error)) from error
    except ReportError as error:
        return _bad_request(request, error)
    return export.response()
