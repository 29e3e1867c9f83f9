"""The sitemap: the listings and reports, then every model, applicant and batch page.

Every page is listed once per language, with its alternates. Each section reads its page of
up to 50,000 addresses in one query (two with the count), however many rows there are: a
row's address is its slug, its lastmod the row's ``updated_at``. The index at /sitemap.xml
lists each section's pages.
"""

from collections.abc import Sequence

from django.contrib.sitemaps import Sitemap
from django.core.paginator import Paginator
from django.db.models import Max, QuerySet
from django.urls import reverse
from django.utils.functional import cached_property

from tracker.models import AIModel, Applicant, Batch


class EachLanguage(Sequence):
    """(item, language) for every item and language, in that order, read a slice at a time:
    a sitemap page reads only its own rows (Django's i18n sitemap would read every row to
    make any page)."""

    def __init__(self, items, languages):
        self.items = items
        self.languages = list(languages)

    @cached_property
    def _length(self):
        count = self.items.count() if isinstance(self.items, QuerySet) else len(self.items)
        return count * len(self.languages)

    def __len__(self):
        return self._length

    def __getitem__(self, index):
        if not isinstance(index, slice):
            return self[index : index + 1][0]
        start, stop, _step = index.indices(len(self))
        each = len(self.languages)
        first = start // each
        pairs = [
            (item, language)
            for item in self.items[first : -(-stop // each)]
            for language in self.languages
        ]
        return pairs[start - first * each : stop - first * each]


class LanguagesSitemap(Sitemap):
    """Every page once per language, each naming its other languages and the unprefixed
    address (x-default) as alternates."""

    i18n = True
    alternates = True
    x_default = True

    @property
    def paginator(self):
        return Paginator(EachLanguage(self.items(), self._languages()), self.limit)


class PagesSitemap(LanguagesSitemap):
    def items(self):
        return [
            "tracker:overview",
            "tracker:model_list",
            "tracker:applicant_list",
            "tracker:batch_list",
            "tracker:backlog",
            "tracker:reports",
            "tracker:report_charts",
            "tracker:report_time_to_approval",
            "tracker:report_backlog_ageing",
            "tracker:report_batches",
            "tracker:report_status_as_of",
            "tracker:about",
        ]

    def location(self, item):
        return reverse(item)


class RecordSitemap(LanguagesSitemap):
    model = None

    def items(self):
        return self.model.objects.only("slug", "updated_at").order_by("pk")

    def lastmod(self, item):
        return item.updated_at

    def get_latest_lastmod(self):
        # The index asks each section for its latest change: one aggregate, not every row.
        return self.model.objects.aggregate(latest=Max("updated_at"))["latest"]


class ModelSitemap(RecordSitemap):
    model = AIModel


class ApplicantSitemap(RecordSitemap):
    model = Applicant


class BatchSitemap(RecordSitemap):
    model = Batch


SITEMAPS = {
    "pages": PagesSitemap,
    "models": ModelSitemap,
    "applicants": ApplicantSitemap,
    "batches": BatchSitemap,
}
