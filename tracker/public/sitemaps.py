"""The sitemap: the listings and reports, then every model, applicant and batch page.

Each section reads its page of up to 50,000 rows in one query (two with the count), however
many there are: a row's address is its slug, its lastmod the row's ``updated_at``. The index
at /sitemap.xml lists each section's pages.
"""

from django.contrib.sitemaps import Sitemap
from django.db.models import Max
from django.urls import reverse

from tracker.models import AIModel, Applicant, Batch


class PagesSitemap(Sitemap):
    def items(self):
        return [
            "tracker:overview",
            "tracker:model_list",
            "tracker:applicant_list",
            "tracker:batch_list",
            "tracker:backlog",
            "tracker:reports",
            "tracker:report_time_to_approval",
            "tracker:report_backlog_ageing",
            "tracker:report_batches",
            "tracker:report_status_as_of",
            "tracker:about",
        ]

    def location(self, item):
        return reverse(item)


class RecordSitemap(Sitemap):
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
