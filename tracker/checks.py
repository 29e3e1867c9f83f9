"""System checks of the project's own settings."""

from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Error, Warning, register

from tracker.limits import parse_rate

LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "testserver"}


@register(deploy=True)
def site_url_is_public(app_configs, **kwargs):
    """The bulk downloads link every record to the site: in production, to its public
    address, not to this machine."""
    host = urlsplit(settings.SITE_URL).hostname or ""
    if host in LOCAL_HOSTS:
        return [
            Warning(
                f"TRACKER_SITE_URL is {settings.SITE_URL!r}: the bulk downloads' links would "
                "point at this machine.",
                hint="Set TRACKER_SITE_URL to the site's public address, e.g. "
                "https://tracker.example.org/.",
                id="tracker.W001",
            )
        ]
    return []


RATE_SETTINGS = ("API_RATE", "EXPORT_RATE", "SEARCH_RATE", "FEED_RATE")


@register
def rates_are_readable(app_configs, **kwargs):
    """A per-client limit that cannot be read would refuse nothing and fail every request
    it guards: it stops the start instead."""
    errors = []
    for name in RATE_SETTINGS:
        try:
            parse_rate(getattr(settings, name))
        except ValueError as error:
            errors.append(
                Error(
                    f"TRACKER_{name} is {getattr(settings, name)!r}: {error}",
                    hint="A number of requests per second, minute, hour or day.",
                    id="tracker.E001",
                )
            )
    return errors
