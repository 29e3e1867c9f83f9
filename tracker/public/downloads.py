"""The CSV files of the listings: /models/export.csv and the others; the files themselves
are tracker.analysis.exports."""

from django.shortcuts import get_object_or_404

from tracker.analysis.exports import (
    applicants_export,
    backlog_export,
    batch_export,
    models_export,
)
from tracker.models import Batch
from tracker.public.filters import filtered_models


def site_url(request):
    """The site's absolute address, for the links a file holds."""
    return request.build_absolute_uri("/")


def models_csv(request):
    return models_export(filtered_models(request.GET), site_url(request)).response()


def applicants_csv(request):
    return applicants_export(site_url(request)).response()


def backlog_csv(request):
    return backlog_export(site_url(request)).response()


def batch_csv(request, slug):
    return batch_export(get_object_or_404(Batch, slug=slug)).response()
