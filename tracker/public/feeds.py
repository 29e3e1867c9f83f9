"""The Atom feed of approvals, filtered like /models/."""

import datetime

from django.contrib.syndication.views import Feed
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tracker.models import AIModel, Status, published_order
from tracker.public.filters import filter_models

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
        return models.order_by(*published_order())[:FEED_SIZE]

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
