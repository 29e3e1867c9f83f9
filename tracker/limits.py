"""Per-client limits on the expensive paths: the API, the exports, search and the feeds.

A client (its address, as the proxies in front report it: REST_FRAMEWORK's NUM_PROXIES) may
make a number of requests to each path per window. Each window's count is one cache entry,
created with ``add`` and raised with ``incr``: atomic in Redis, so several app instances
sharing it count every request once (the default local-memory cache counts per process;
production sets ``CACHE_URL``, README). A client over its limit is refused with ``429`` and
``Retry-After``, before any work: never a cut-off file. Signed-in staff are never refused.

Exports are also limited in number at once, whoever asks (``at_once``): the register
writes at most ``EXPORTS_AT_ONCE`` files at a time.

A conditional request answered ``304`` (tracker.public.conditional) is not counted: it
costs one query, and the decorators here sit inside that one.
"""

import time
import uuid
from dataclasses import dataclass
from functools import wraps

from django.conf import settings
from django.contrib.auth import get_user
from django.core.cache import cache
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from rest_framework.throttling import BaseThrottle

# A period by its first letter, as DRF reads one: "minute", "min" and "m" alike.
PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
clock = time.time


def parse_rate(rate):
    """'120/minute' -> (120, 60); ValueError for anything else (tracker.checks says so at
    start)."""
    count, _slash, period = rate.partition("/")
    if not count.isdigit() or period[:1] not in PERIODS:
        raise ValueError(f"Not a rate: {rate!r} (e.g. 300/minute, 20/second)")
    return int(count), PERIODS[period[0]]


def client(request):
    """The client's address as the proxies in front saw it."""
    return BaseThrottle().get_ident(request)


def is_staff(request):
    """Whether the session names signed-in staff (read from the session itself: the API
    authenticates no one, and sets its requests' user to anonymous)."""
    if not hasattr(request, "session"):
        return False
    user = get_user(request)
    return user.is_authenticated and user.is_staff


@dataclass(frozen=True)
class Limit:
    scope: str  # which count: "api", "export", "search", "feed"
    setting: str  # the setting that holds its rate, e.g. "API_RATE"

    def refusal(self, request):
        """None while ``request``'s client is within the limit (this request counted), else
        the seconds until its window ends."""
        limit, window = parse_rate(getattr(settings, self.setting))
        now = clock()
        window_start = int(now // window) * window
        key = f"tracker:rate:{self.scope}:{client(request)}:{window_start}"
        # The entry outlives its window a little: a late request of the window still finds it.
        cache.add(key, 0, timeout=window + 5)
        try:
            count = cache.incr(key)
        except ValueError:
            # Evicted between add and incr: this request starts the count again.
            cache.add(key, 1, timeout=window + 5)
            count = 1
        # Only a client over the limit is asked who it is: reading the session makes the
        # answer vary with the cookie.
        if count <= limit or is_staff(request):
            return None
        return max(1, int(window_start + window - now + 0.999))


API = Limit("api", "API_RATE")
EXPORT = Limit("export", "EXPORT_RATE")
SEARCH = Limit("search", "SEARCH_RATE")
FEED = Limit("feed", "FEED_RATE")


def too_many(request, retry_after, page=False, busy=False):
    """The 429: the site's own page for a page, plain text for a file or a feed; ``busy``
    when the register, not this client, is at its limit."""
    if page:
        response = render(request, "429.html", {"retry_after": retry_after}, status=429)
    else:
        if busy:
            text = _(
                "The register is writing as many files as it can at once: "
                "try again in %(seconds)s seconds."
            )
        else:
            text = _("Too many requests from your address: try again in %(seconds)s seconds.")
        response = HttpResponse(
            text % {"seconds": retry_after} + "\n",
            status=429,
            content_type="text/plain; charset=utf-8",
        )
    response["Retry-After"] = str(retry_after)
    response["Cache-Control"] = "private, no-store"
    return response


def searches(request):
    """Whether a listing's request is a search: a term in ``q``."""
    return bool(request.GET.get("q", "").strip())


def limited(limit, when=None, page=False):
    """A view whose requests count against ``limit`` (only those for which ``when(request)``
    holds, if given: a listing counts as a search only with a search term)."""

    def decorate(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if when is None or when(request):
                retry_after = limit.refusal(request)
                if retry_after is not None:
                    return too_many(request, retry_after, page=page)
            return view(request, *args, **kwargs)

        return wrapped

    return decorate


# A slot is held at most this long: one whose export died with its worker frees itself.
SLOT_SECONDS = 600
# What a reader refused a slot is told to wait: an export of the whole register takes a
# second or two.
BUSY_RETRY_SECONDS = 5


# A file being written renews its slot every this many chunks (500 rows each).
RENEW_EVERY = 100


@dataclass
class Slot:
    """A taken slot: its cache entry, and the token that says it is still this one's (an
    entry that outlived ``SLOT_SECONDS`` may have been taken again by another)."""

    key: str
    token: str

    def renew(self):
        if cache.get(self.key) == self.token:
            cache.touch(self.key, SLOT_SECONDS)

    def give_back(self):
        if cache.get(self.key) == self.token:
            cache.delete(self.key)


def take_slot(name, slots):
    """One of ``slots`` numbered cache entries, taken with ``add`` (atomic, so two workers
    never take the same one), or None when all are taken."""
    token = uuid.uuid4().hex
    for number in range(slots):
        key = f"tracker:slot:{name}:{number}"
        if cache.add(key, token, timeout=SLOT_SECONDS):
            return Slot(key, token)
    return None


class Releasing:
    """``chunks``, holding ``slot`` (renewed as they go), then giving it back: after the last
    one, or when the server closes the response (the reader left, or a HEAD request never
    read it), whichever comes first."""

    def __init__(self, chunks, slot):
        self.chunks = iter(chunks)
        self.slot = slot
        self.sent = 0

    def __iter__(self):
        return self

    def __next__(self):
        try:
            chunk = next(self.chunks)
        except BaseException:
            self.close()
            raise
        self.sent += 1
        if self.slot is not None and self.sent % RENEW_EVERY == 0:
            self.slot.renew()
        return chunk

    def close(self):
        if self.slot is not None:
            self.slot.give_back()
            self.slot = None
        close = getattr(self.chunks, "close", None)
        if close is not None:
            close()


def at_once(name, setting):
    """A view of which at most ``settings.<setting>`` answers are written at a time, by every
    worker and instance that shares the cache: a file holds its slot until its last byte.
    Beyond them a request is refused with 429 and Retry-After before any work, so that a
    crowd of exports cannot take every worker from the readers of pages. Staff are not
    refused."""

    def decorate(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            slot = take_slot(name, getattr(settings, setting))
            if slot is None:
                if is_staff(request):
                    return view(request, *args, **kwargs)
                return too_many(request, BUSY_RETRY_SECONDS, busy=True)
            try:
                response = view(request, *args, **kwargs)
            except BaseException:
                slot.give_back()
                raise
            if response.streaming:
                response.streaming_content = Releasing(response.streaming_content, slot)
            else:
                slot.give_back()
            return response

        return wrapped

    return decorate
