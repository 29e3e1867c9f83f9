"""The public pages. config.urls puts them under a language prefix (/en/…, /zh-hans/…);
the data they link to (exports, feeds, downloads) is in tracker.public.data_urls, without
one."""

from django.urls import path

from tracker.public import about, reports, views

app_name = "tracker"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("about/", about.about, name="about"),
    path("backlog/", views.backlog, name="backlog"),
    path("models/", views.model_list, name="model_list"),
    path("models/<slug:slug>/", views.model_detail, name="model_detail"),
    path("applicants/", views.applicant_list, name="applicant_list"),
    path("applicants/<slug:slug>/", views.applicant_detail, name="applicant_detail"),
    path("batches/", views.batch_list, name="batch_list"),
    path("batches/<slug:slug>/", views.batch_detail, name="batch_detail"),
    path("reports/", reports.index, name="reports"),
    path("reports/charts/", reports.charts_page, name="report_charts"),
    path(
        "reports/time-to-approval/", reports.time_to_approval_page, name="report_time_to_approval"
    ),
    path("reports/backlog-ageing/", reports.backlog_ageing_page, name="report_backlog_ageing"),
    path("reports/batches/", reports.batches_page, name="report_batches"),
    path("reports/status-as-of/", reports.status_as_of_page, name="report_status_as_of"),
]
