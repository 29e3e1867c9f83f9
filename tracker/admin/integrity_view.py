"""What ``check_integrity`` finds, in the admin: the same checks (tracker.integrity), each
finding linked to the page of the model to fix. AIModelAdmin routes the page."""

from dataclasses import dataclass, field

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.utils.translation import gettext as _

from tracker import integrity
from tracker.models import AIModel

# Findings shown per check: the real register has some 700 registrations to check, and a
# restore gone wrong could flag every model. The command lists them all.
SHOWN = 100


@dataclass
class Check:
    label: str
    count: int = 0
    findings: list = field(default_factory=list)

    @property
    def more(self):
        return self.count - len(self.findings)


def _by_check(findings):
    checks = {}
    for finding in findings:
        check = checks.setdefault(finding.check, Check(integrity.CHECKS[finding.check]))
        check.count += 1
        if len(check.findings) < SHOWN:
            check.findings.append(finding)
    return list(checks.values())


def integrity_page(request):
    if not request.user.has_perm("tracker.view_aimodel"):
        raise PermissionDenied
    problems = _by_check(integrity.problems())
    to_check = _by_check(integrity.to_check())
    context = {
        **admin.site.each_context(request),
        "title": _("Integrity check"),
        "opts": AIModel._meta,
        "problems": problems,
        "problem_count": sum(check.count for check in problems),
        "to_check": to_check,
        "to_check_count": sum(check.count for check in to_check),
        "shown": SHOWN,
    }
    return render(request, "admin/tracker/integrity.html", context)
