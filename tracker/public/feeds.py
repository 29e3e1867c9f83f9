"""The Atom feeds of approvals and of every change to the register, filtered like
/models/."""

import datetime
from dataclasses import dataclass

from django.contrib.syndication.views import Feed
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tracker import audit
from tracker.languages import neutral_path
from tracker.models import AIModel, Status, published_order
from tracker.public.filters import (
    AIModelFilter,
    filter_models,
    filtered_changes,
    filtered_corrections,
    parse_since,
)

FEED_SIZE = 50


class ApprovalsFeed(Feed):
    feed_type = Atom1Feed
    title = gettext_lazy("New approvals · Approval tracker")
    subtitle = gettext_lazy(
        "Generative AI models and services approved by the Cyberspace Administration of China, "
        "newest first."
    )
    author_name = gettext_lazy("Approval tracker")

    def get_object(self, request):
        return request

    def feed_url(self, request):
        # The self link names this very feed, filters included.
        return request.get_full_path()

    def link(self, request):
        """The listing that shows the same approvals, filters included."""
        query = request.GET.copy()
        query.setlist("status", [Status.APPROVED])
        return f"{reverse('tracker:model_list')}?{query.urlencode()}"

    def items(self, request):
        # A value the filters cannot use is dropped, as on /models/; a feed reader has
        # nowhere to show the explanation, so it is not passed on.
        approvals = AIModel.objects.public().approved()
        models, _problems = filter_models(request.GET, queryset=approvals)
        items = list(models.order_by(*published_order())[:FEED_SIZE])
        # An entry's id is the model's address without a language: the same in every one.
        base = request.build_absolute_uri("/").rstrip("/")
        for item in items:
            item.guid = f"{base}{neutral_path(item.get_absolute_url())}"
        return items

    def item_guid(self, item):
        return item.guid

    def item_title(self, item):
        return _("%(model)s — %(applicant)s") % {
            "model": item.display_name,
            "applicant": item.applicant.name,
        }

    def item_pubdate(self, item):
        # A calendar date in China's time zone: midnight there (made aware by the feed).
        return datetime.datetime.combine(item.approved_on, datetime.time.min)

    item_updateddate = item_pubdate

    def item_author_name(self, item):
        return item.applicant.name

    def item_categories(self, item):
        jurisdiction = item.applicant.jurisdiction
        categories = [item.filing_type_label]
        if jurisdiction is not None:
            categories.append(jurisdiction.name)
        return categories

    def item_description(self, item):
        """Public facts only: never the internal notes."""
        facts = [
            (_("Applicant"), item.applicant.name),
            (_("Filing type"), item.filing_type_label),
            (_("Approved on"), item.approved_on.isoformat()),
        ]
        if item.filing_number:
            facts.append((_("Filing number"), item.filing_number))
        if item.batch is not None:
            facts.append((_("Batch"), item.batch.title))
        summary = format_html("<ul>{}</ul>", format_html_join("", "<li>{}: {}</li>", facts))
        if item.description:
            summary += format_html("<p>{}</p>", item.description)
        return summary


@dataclass
class FeedChange:
    """A status step or a correction, as the changes feed gives it."""

    model: AIModel
    recorded_at: datetime.datetime
    anchor: str  # unique within the model's page
    title: str
    facts: list
    note: str
    guid: str = ""


def _step(step):
    return FeedChange(
        model=step.model,
        recorded_at=step.recorded_at,
        anchor=f"change-{step.pk}",
        title=_("%(model)s: %(from)s → %(to)s")
        % {
            "model": step.model.display_name,
            "from": step.from_status_label or _("entered"),
            "to": step.to_status_label,
        },
        facts=[
            (_("Status"), step.to_status_label),
            (_("Happened on"), step.happened_on.isoformat()),
        ],
        note=step.note,
    )


def _correction(correction, shown, ai_model):
    return FeedChange(
        model=ai_model,
        recorded_at=correction.changed_at,
        anchor=f"correction-{correction.pk}",
        title=_("%(model)s: %(field)s corrected")
        % {"model": ai_model.display_name, "field": shown.field},
        facts=[(shown.field, f"{shown.old} → {shown.new}")],
        note=correction.reason,
    )


class ChangesFeed(Feed):
    """Every status step and every correction, newest recorded first:
    /feeds/changes/?jurisdiction=BJ follows everything that happens in Beijing. ``since``
    (an ISO date or date and time) starts it later; values the filters cannot use are
    dropped, as on the approvals feed."""

    feed_type = Atom1Feed
    title = gettext_lazy("Changes to the register · Approval tracker")
    subtitle = gettext_lazy(
        "Every step of every model's review in the register, and every correction of a "
        "record, newest first: submissions, reviews, approvals, suspensions, cancellations "
        "and revocations."
    )
    author_name = gettext_lazy("Approval tracker")

    def get_object(self, request):
        return request

    def feed_url(self, request):
        return request.get_full_path()

    def link(self, request):
        """The listing of the models whose changes the feed follows."""
        query = request.GET.copy()
        query.pop("since", None)
        return f"{reverse('tracker:model_list')}?{query.urlencode()}".rstrip("?")

    def items(self, request):
        try:
            since = parse_since(request.GET.get("since", ""))
        except ValueError:
            since = None
        filterset = AIModelFilter(request.GET)
        steps = filtered_changes(filterset, since).select_related("model__applicant")
        corrections = list(filtered_corrections(filterset, since)[:FEED_SIZE])
        models = AIModel.objects.select_related("applicant").in_bulk(
            {c.record_id for c in corrections}
        )
        items = [_step(step) for step in steps[:FEED_SIZE]]
        items += [
            _correction(c, shown, models[c.record_id])
            for c, shown in zip(corrections, audit.shown(corrections), strict=True)
        ]
        items = sorted(items, key=lambda item: item.recorded_at, reverse=True)[:FEED_SIZE]
        # Each change's own id: its model's page and its number, as an absolute address.
        base = request.build_absolute_uri("/").rstrip("/")
        for item in items:
            item.guid = f"{base}{neutral_path(item.model.get_absolute_url())}#{item.anchor}"
        return items

    def item_title(self, item):
        return item.title

    def item_link(self, item):
        return item.model.get_absolute_url()

    def item_guid(self, item):
        return item.guid

    item_guid_is_permalink = False

    def item_pubdate(self, item):
        return item.recorded_at

    item_updateddate = item_pubdate

    def item_author_name(self, item):
        return item.model.applicant.name

    def item_description(self, item):
        """Public facts only: the public note or reason, never who made the change."""
        facts = [(_("Applicant"), item.model.applicant.name), *item.facts]
        if item.model.filing_number:
            facts.append((_("Filing number"), item.model.filing_number))
        summary = format_html("<ul>{}</ul>", format_html_join("", "<li>{}: {}</li>", facts))
        if item.note:
            summary += format_html("<p>{}</p>", item.note)
        return summary
