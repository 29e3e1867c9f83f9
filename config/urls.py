from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.contrib.sitemaps import views as sitemaps_views
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt
from django.views.generic import RedirectView
from django.views.i18n import set_language

from tracker.api.docs import api_docs
from tracker.public import crawlers
from tracker.public.sitemaps import SITEMAPS

handler400 = "tracker.public.errors.bad_request"
handler500 = "tracker.public.errors.server_error"

urlpatterns = [
    # The import page's former address, for bookmarks.
    path(
        "admin/tracker/import/", RedirectView.as_view(pattern_name="admin:tracker_aimodel_import")
    ),
    path("admin/", admin.site.urls),
    # Without a CSRF token, so that no public page sets a cookie and every one can be cached
    # by a shared cache: the switch changes only the language an address without one opens
    # in, nothing a forged request could harm.
    path("i18n/setlang/", csrf_exempt(set_language), name="set_language"),
    path("api/", api_docs, name="api_docs"),
    path("api/v1/", include("tracker.api.urls")),
    path("robots.txt", crawlers.robots_txt, name="robots_txt"),
    path("favicon.ico", crawlers.favicon, name="favicon"),
    path("sitemap.xml", sitemaps_views.index, {"sitemaps": SITEMAPS}, name="sitemap"),
    path(
        "sitemap-<section>.xml",
        sitemaps_views.sitemap,
        {"sitemaps": SITEMAPS},
        name="django.contrib.sitemaps.views.sitemap",
    ),
    path("", include("tracker.public.data_urls")),
    # The pages' language is in their address (tracker.languages).
    *i18n_patterns(path("", include("tracker.public.urls"))),
]
