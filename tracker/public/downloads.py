"""The CSV files of the listings: /models/export.csv and the others; the files themselves
are tracker.analysis.exports."""

from django.http import HttpResponseBadRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from tracker.analysis.exports import (
    applicants_export,
    backlog_export,
    batch_export,
    models_export,
)
from tracker.limits import EXPORT, at_once, limited
from tracker.models import Batch
from tracker.public.conditional import conditional
from tracker.public.filters import AIModelFilter


def site_url(request):
    """The site's absolute address, for the links a file holds."""
    return request.build_absolute_uri("/")


@conditional
@at_once("export", "EXPORTS_AT_ONCE")
@limited(EXPORT)
def models_csv(request):
    """The models the /models/ filters select. A filter the export cannot use refuses it
    (400, in plain text): a typo must never export the whole register instead."""
    filterset = AIModelFilter(request.GET)
    if filterset.refused:
        lines = [_("The export was not made: a filter cannot be used as given."), ""]
        lines += [reason for _name, reason in filterset.refused]
        return HttpResponseBadRequest(
            "\n".join(lines) + "\n", content_type="text/plain; charset=utf-8"
        )
    export = models_export(filterset.qs, site_url(request), filterset.describe())
    return export.response()


@conditional
@at_once("export", "EXPORTS_AT_ONCE")
@limited(EXPORT)
def applicants_csv(request):
    return applicants_export(site_url(request)).response()


@conditional
@at_once("export", "EXPORTS_AT_ONCE")
@limited(EXPORT)
def backlog_csv(request):
    return backlog_export(site_url(request)).response()


@conditional
@at_once("export", "EXPORTS_AT_ONCE")
@limited(EXPORT)
def batch_csv(request, slug):
    return batch_export(get_object_or_404(Batch, slug=slug)).response()
