"""The addresses crawlers ask for at the site's root: robots.txt and /favicon.ico."""

from django.http import HttpResponse
from django.shortcuts import redirect
from django.templatetags.static import static
from django.urls import reverse
from django.views.decorators.http import require_safe

ROBOTS = """User-agent: *
Disallow: /admin/

Sitemap: {sitemap}
"""


@require_safe
def robots_txt(request):
    sitemap = request.build_absolute_uri(reverse("sitemap"))
    return HttpResponse(ROBOTS.format(sitemap=sitemap), content_type="text/plain; charset=utf-8")


@require_safe
def favicon(request):
    # Not permanent: the static file's name changes with its content.
    return redirect(static("favicon.svg"))
