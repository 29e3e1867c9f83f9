"""Conditional GET for public answers: ETag and Last-Modified from the register stamp.

An answer depends on the state of the register (the stamp's version), the question (path
and query string) and the reader's language, and on nothing else: those make its ETag. The
stamp's ``changed_at`` is its Last-Modified. A request whose validators match gets a
``304`` after one query (the stamp), before any rendering.
"""

import hashlib
from functools import wraps

from django.utils.cache import get_conditional_response, patch_cache_control, patch_vary_headers
from django.utils.http import http_date, quote_etag
from django.utils.translation import get_language

from tracker import stamp

# Public data changes a few times a month: a shared cache may keep an answer briefly, and
# any client revalidates it cheaply with the ETag afterwards.
MAX_AGE = 60


def validators(request, state):
    """The ETag and the Last-Modified timestamp of ``request``'s answer in ``state``."""
    query = sorted(request.GET.lists())
    key = repr((state.version, get_language(), request.path, query)).encode()
    etag = quote_etag(hashlib.blake2b(key, digest_size=16).hexdigest())
    return etag, int(state.changed_at.timestamp())


def conditional(view):
    """Answer GET and HEAD with validators and caching headers, and ``304`` when the
    client's copy is current."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if request.method not in ("GET", "HEAD"):
            return view(request, *args, **kwargs)
        state = stamp.current()
        if state is None:
            return view(request, *args, **kwargs)
        # Read once: the answer may state it too (the API's data_changed_at).
        request.register_state = state
        etag, last_modified = validators(request, state)
        response = get_conditional_response(request, etag=etag, last_modified=last_modified)
        if response is None:
            response = view(request, *args, **kwargs)
        if response.status_code in (200, 304):
            response.headers.setdefault("ETag", etag)
            response.headers.setdefault("Last-Modified", http_date(last_modified))
            patch_cache_control(response, public=True, max_age=MAX_AGE)
        patch_vary_headers(response, ("Accept-Language", "Cookie"))
        return response

    return wrapped
