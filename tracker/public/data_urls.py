"""The public data: exports, feeds and downloads, at addresses without a language prefix
(tracker.languages says why)."""

from django.urls import include, path

from tracker.limits import FEED, limited
from tracker.public import downloads, reports
from tracker.public.conditional import conditional
from tracker.public.feeds import ApprovalsFeed, ChangesFeed

app_name = "data"

urlpatterns = [
    path("backlog/export.csv", downloads.backlog_csv, name="backlog_export"),
    path("feeds/approvals/", conditional(limited(FEED)(ApprovalsFeed())), name="approvals_feed"),
    path("feeds/changes/", conditional(limited(FEED)(ChangesFeed())), name="changes_feed"),
    path("models/export.csv", downloads.models_csv, name="models_export"),
    path("applicants/export.csv", downloads.applicants_csv, name="applicants_export"),
    path("batches/<slug:slug>/export.csv", downloads.batch_csv, name="batch_export"),
    path("reports/<slug:name>.csv", reports.report_csv, name="report_csv"),
    path("downloads/", include("tracker.opendata.urls")),
]
