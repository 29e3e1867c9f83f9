"""The API's rate limit, as DRF asks for it: tracker.limits.API."""

from rest_framework.throttling import BaseThrottle

from tracker import limits


class ClientRateThrottle(BaseThrottle):
    """``settings.API_RATE`` requests per client per window (tracker.limits)."""

    def __init__(self):
        self.retry_after = None

    def allow_request(self, request, view):
        # The site's own request, whose user the session names (the API itself
        # authenticates no one).
        self.retry_after = limits.API.refusal(getattr(request, "_request", request))
        return self.retry_after is None

    def wait(self):
        return self.retry_after
