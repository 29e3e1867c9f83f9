"""The report pages of /reports/ and their CSV files; the reports themselves are
tracker.analysis.reports."""

from django.http import Http404
from django.shortcuts import render
from django.utils import timezone

from tracker.analysis.reports import (
    AGE_BUCKETS,
    DIMENSIONS,
    ReportError,
    UnknownReport,
    backlog_ageing,
    batch_reconciliation,
    report_export,
    time_to_approval,
)


def index(request):
    return render(request, "tracker/reports.html", {"today": timezone.localdate()})


def time_to_approval_page(request):
    table = time_to_approval()
    sections = [(DIMENSIONS[dimension], rows) for dimension, rows in table.items()]
    return render(request, "tracker/reports_time_to_approval.html", {"sections": sections})


def backlog_ageing_page(request):
    return render(
        request,
        "tracker/reports_backlog_ageing.html",
        {
            "buckets": [bucket[1] for bucket in AGE_BUCKETS],
            "rows": [(label, counts) for _stage, label, *counts in backlog_ageing()],
        },
    )


def batches_page(request):
    return render(request, "tracker/reports_batches.html", {"rows": batch_reconciliation()})


def status_as_of_page(request):
    return render(request, "tracker/reports_status_as_of.html", {"today": timezone.localdate()})


def _bad_request(request, error):
    return render(request, "tracker/reports_error.html", {"message": str(error)}, status=400)


def report_csv(request, name):
    try:
        export = report_export(name, request.GET, request.build_absolute_uri("/"))
    except UnknownReport as error:
        raise Http404(str(error)) from error
    except ReportError as error:
        return _bad_request(request, error)
    return export.response()
