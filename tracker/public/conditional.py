"""Conditional GET for public answers: ETag and Last-Modified from the register stamp.

An answer depends on the state of the register (the stamp's version), the question (path
and query string), the reader's language, the day (days in review count to today) and the
code, and on nothing else: those make its ETag. The stamp's ``changed_at`` (or the day's
start, if later) is its Last-Modified. A request whose validators match gets a ``304``
after one query (the stamp), before any rendering.
"""

import datetime
import hashlib
from functools import cache, wraps
from pathlib import Path

from django.conf import settings
from django.utils import timezone
from django.utils.cache import get_conditional_response, patch_cache_control, patch_vary_headers
from django.utils.http import http_date, quote_etag
from django.utils.translation import get_language, get_language_from_path

import tracker
from tracker import stamp

# Public data changes a few times a month: a shared cache may keep an answer briefly, and
# any client revalidates it cheaply with the ETag afterwards.
MAX_AGE = 60


def fingerprint(*parts):
    """A short hash of ``parts`` (their repr), for validators and cursors."""
    return hashlib.blake2b(repr(parts).encode(), digest_size=16).hexdigest()


def question(request, leave_out=()):
    """What a request asks, as an answer depends on it: the host (answers carry absolute
    addresses), the path, the reader's language and the parameters (but ``leave_out``), in
    any order."""
    query = sorted((name, values) for name, values in request.GET.lists() if name not in leave_out)
    return request.get_host(), request.path, get_language(), query


@cache
def code_version():
    """A fingerprint of the code and templates, the same in every instance of a release: an
    answer's bytes change when they do, whatever the data."""
    digest = hashlib.blake2b(digest_size=16)
    sources = [(Path(tracker.__file__).parent, "**/*.py")]
    sources += [(Path(folder), "**/*.html") for folder in settings.TEMPLATES[0]["DIRS"]]
    sources += [(Path(folder), "**/*.mo") for folder in settings.LOCALE_PATHS]
    for root, pattern in sources:
        for path in sorted(root.glob(pattern)):
            digest.update(str(path.relative_to(root)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def _nothing(request):
    return None, None


def validators(request, state, extra=None, extra_changed_at=None):
    """The ETag and the Last-Modified timestamp of ``request``'s answer in ``state``, and in
    ``extra`` (anything else it depends on, which last changed at ``extra_changed_at``).

    Days in review count to today: the day is part of the answer, and its first moment is
    the earliest Last-Modified an answer can have.
    """
    today = timezone.localdate()
    etag = quote_etag(fingerprint(state.version, today, code_version(), *question(request), extra))
    midnight = datetime.datetime.combine(today, datetime.time.min, timezone.get_current_timezone())
    moments = [state.changed_at, midnight, extra_changed_at]
    return etag, int(max(moment for moment in moments if moment is not None).timestamp())


def conditional(view=None, *, depends_on=None):
    """Answer GET and HEAD with validators and caching headers, and ``304`` when the
    client's copy is current. ``depends_on(request)``, if given, names what else the answer
    depends on and when that last changed, as ``(key, aware datetime or None)``: the
    downloads page, the build it lists."""
    if view is None:
        return lambda view: conditional(view, depends_on=depends_on)

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if request.method not in ("GET", "HEAD"):
            return view(request, *args, **kwargs)
        state = stamp.current()
        if state is None or not state.settled:
            # No stamp, or one that does not cover this transaction's own writes yet.
            return view(request, *args, **kwargs)
        # Read once: the answer may state it too (the API's data_changed_at).
        request.register_state = state
        etag, last_modified = validators(request, state, *(depends_on or _nothing)(request))
        response = None
        # "If-None-Match: *" would answer 304 for any address, a record that does not exist
        # included: only a copy's own ETag is taken.
        if request.headers.get("If-None-Match", "").strip() != "*":
            response = get_conditional_response(request, etag=etag, last_modified=last_modified)
        if response is None:
            with stamp.known(state):
                response = view(request, *args, **kwargs)
        if response.status_code in (200, 304):
            response.headers.setdefault("ETag", etag)
            # The register's, also where the view named one of its own (a feed's latest
            # entry): the two validators must agree.
            response.headers["Last-Modified"] = http_date(last_modified)
            if response.cookies or request.META.get("CSRF_COOKIE_NEEDS_UPDATE"):
                # A page that sets a cookie (a form's CSRF token, set on the way out) is
                # this reader's alone.
                patch_cache_control(response, private=True, max_age=MAX_AGE)
            else:
                patch_cache_control(response, public=True, max_age=MAX_AGE)
        if not get_language_from_path(request.path_info):
            # The language comes from the cookie or the browser's preference.
            patch_vary_headers(response, ("Accept-Language", "Cookie"))
        return response

    return wrapped
