from django.contrib import admin
from django.urls import include, path

from tracker.admin.imports import import_page

urlpatterns = [
    path("admin/tracker/import/", admin.site.admin_view(import_page), name="tracker_import"),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("tracker.public.urls")),
]
