"""The site's own pages for a bad request and a server error.

Django renders its 400 and 500 pages without the request, so without the header's
language switch and navigation; these render them with it. Neither reads the database,
which may be what failed: the request's user and messages are never looked at.
"""

from django.shortcuts import render
from django.utils import translation
from django.views.decorators.csrf import requires_csrf_token


@requires_csrf_token
def bad_request(request, exception):
    return render(request, "400.html", status=400)


@requires_csrf_token
def server_error(request):
    # The error may have struck before LocaleMiddleware chose the reader's language.
    with translation.override(translation.get_language_from_request(request)):
        return render(request, "500.html", status=500)
