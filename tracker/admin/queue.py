"""The review queue: the pending submissions, stage by stage in workflow order, the
longest waiting first, with those waiting longer than ``REVIEW_QUEUE_FLAG_DAYS`` flagged.

A Reviewer opens a model from here to apply its next step on the model's own page.
AIModelAdmin routes the page.
"""

from dataclasses import dataclass

from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from tracker.models import PENDING_STATUSES, AIModel, days_in_review

# Rows shown per stage; the model list, filtered by status, has the rest.
STAGE_ROWS = 200


@dataclass
class Waiting:
    ai_model: AIModel
    days: int | None
    overdue: bool


@dataclass
class Stage:
    status: str
    label: str
    count: int
    rows: list

    @property
    def more(self):
        return self.count - len(self.rows)


def _stage(status, count, today, flag_days):
    rows = []
    if count:
        for ai_model in AIModel.objects.backlog().filter(status=status)[:STAGE_ROWS]:
            days = days_in_review(
                ai_model.status, ai_model.submitted_on, ai_model.approved_on, today
            )
            rows.append(Waiting(ai_model, days, days is not None and days > flag_days))
    return Stage(status.value, status.label, count, rows)


def queue_page(request):
    if not request.user.has_perm("tracker.view_aimodel"):
        raise PermissionDenied
    today = timezone.localdate()
    flag_days = settings.REVIEW_QUEUE_FLAG_DAYS
    counts = dict(
        AIModel.objects.filter(status__in=PENDING_STATUSES)
        .order_by()
        .values_list("status")
        .annotate(n=Count("pk"))
    )
    stages = [
        _stage(status, counts.get(status, 0), today, flag_days) for status in PENDING_STATUSES
    ]
    context = {
        **admin.site.each_context(request),
        "title": _("Review queue"),
        "opts": AIModel._meta,
        "stages": stages,
        "total": sum(counts.values()),
        "flag_days": flag_days,
        "today": today,
    }
    return render(request, "admin/tracker/review_queue.html", context)
