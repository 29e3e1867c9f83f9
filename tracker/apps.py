from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.translation import gettext_lazy as _


class TrackerConfig(AppConfig):
    name = "tracker"
    verbose_name = _("Approval tracker")

    def ready(self):
        # Registers the system checks and the audit trail's SQLite function.
        from tracker import audit, checks  # noqa: F401


class TrackerAdminConfig(admin_apps.AdminConfig):
    """Django's admin, with the site that may ask Reviewers for a one-time code."""

    # Named in INSTALLED_APPS; "tracker" itself stays TrackerConfig.
    default = False
    default_site = "tracker.accounts.TrackerAdminSite"
