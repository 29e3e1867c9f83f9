"""The API's rate limit: a number of requests per client per window, counted in the
default cache.

Each window's count is one cache entry, created with ``add`` and raised with ``incr``:
atomic in Redis, so several app instances sharing it count every request once. The
default local-memory cache counts per process; production sets ``CACHE_URL`` (README).
"""

import time

from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import BaseThrottle

PERIODS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}


def parse_rate(rate):
    """'120/minute' -> (120, 60)."""
    count, _slash, period = rate.partition("/")
    return int(count), PERIODS[period]


class ClientRateThrottle(BaseThrottle):
    """``settings.API_RATE`` requests per client (its address, as the proxies in front
    report it: REST_FRAMEWORK's NUM_PROXIES) per window."""

    timer = time.time

    def __init__(self):
        self.limit, self.window = parse_rate(settings.API_RATE)
        self.retry_after = None

    def allow_request(self, request, view):
        now = self.timer()
        window_start = int(now // self.window) * self.window
        key = f"tracker:api-rate:{self.get_ident(request)}:{window_start}"
        # The entry outlives its window a little: a late request of the window still finds it.
        cache.add(key, 0, timeout=self.window + 5)
        try:
            count = cache.incr(key)
        except ValueError:
            # Evicted between add and incr: this request starts the count again.
            cache.add(key, 1, timeout=self.window + 5)
            count = 1
        if count <= self.limit:
            return True
        self.retry_after = max(1, int(window_start + self.window - now + 0.999))
        return False

    def wait(self):
        return self.retry_after
