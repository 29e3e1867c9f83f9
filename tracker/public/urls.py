from django.urls import include, path

from tracker.public import about, downloads, reports, views
from tracker.public.feeds import ApprovalsFeed, ChangesFeed

app_name = "tracker"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("about/", about.about, name="about"),
    path("backlog/", views.backlog, name="backlog"),
    path("backlog/export.csv", downloads.backlog_csv, name="backlog_export"),
    path("feeds/approvals/", ApprovalsFeed(), name="approvals_feed"),
    path("feeds/changes/", ChangesFeed(), name="changes_feed"),
    path("models/", views.model_list, name="model_list"),
    path("models/export.csv", downloads.models_csv, name="models_export"),
    path("models/<slug:slug>/", views.model_detail, name="model_detail"),
    path("applicants/", views.applicant_list, name="applicant_list"),
    path("applicants/export.csv", downloads.applicants_csv, name="applicants_export"),
    path("applicants/<slug:slug>/", views.applicant_detail, name="applicant_detail"),
    path("batches/", views.batch_list, name="batch_list"),
    path("batches/<slug:slug>/", views.batch_detail, name="batch_detail"),
    path("batches/<slug:slug>/export.csv", downloads.batch_csv, name="batch_export"),
    path("reports/", reports.index, name="reports"),
    path(
        "reports/time-to-approval/", reports.time_to_approval_page, name="report_time_to_approval"
    ),
    path("reports/backlog-ageing/", reports.backlog_ageing_page, name="report_backlog_ageing"),
    path("reports/batches/", reports.batches_page, name="report_batches"),
    path("reports/status-as-of/", reports.status_as_of_page, name="report_status_as_of"),
    path("reports/<slug:name>.csv", reports.report_csv, name="report_csv"),
    path("downloads/", include("tracker.opendata.urls")),
]
