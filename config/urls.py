from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from tracker.api.docs import api_docs

urlpatterns = [
    # The import page's former address, for bookmarks.
    path(
        "admin/tracker/import/", RedirectView.as_view(pattern_name="admin:tracker_aimodel_import")
    ),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/", api_docs, name="api_docs"),
    path("api/v1/", include("tracker.api.urls")),
    path("", include("tracker.public.urls")),
]
