"""System checks of the project's own settings."""

from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Warning, register

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
