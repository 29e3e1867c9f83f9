from django.core.management.base import BaseCommand, CommandError
from django.http import QueryDict

from tracker.analysis.exports import (
    applicants_export,
    backlog_export,
    batch_export,
    models_export,
)
from tracker.analysis.reports import ReportError, report_export
from tracker.models import Batch
from tracker.public.filters import AIModelFilter


class Command(BaseCommand):
    help = (
        "Write one of the site's CSV files: models [key=value filters as on /models/], "
        "applicants, backlog, batch SLUG, or report NAME [key=value, e.g. date=2024-12-31]."
    )

    def add_arguments(self, parser):
        parser.add_argument("what", choices=["models", "applicants", "backlog", "batch", "report"])
        parser.add_argument("args", nargs="*", help="SLUG or NAME, then filters as key=value")
        parser.add_argument("--output", "-o", help="file to write (default: standard output)")
        parser.add_argument(
            "--base-url",
            default="http://localhost:8000/",
            help="site address used for the url column (default: %(default)s)",
        )

    def handle(self, *args, what, **options):
        args = list(args)
        target = None
        if what in ("batch", "report"):
            if not args:
                raise CommandError(f"Say which {what}: export_csv {what} NAME.")
            target = args.pop(0)
        export = self._export(what, target, self._params(args), options["base_url"])
        if options["output"]:
            with open(options["output"], "wb") as handle:
                export.write_to(handle)
        else:
            for chunk in export.chunks():
                self.stdout.write(chunk.decode("utf-8"), ending="")

    def _params(self, pairs):
        params = QueryDict(mutable=True)
        for pair in pairs:
            key, sep, value = pair.partition("=")
            if not sep:
                raise CommandError(f"“{pair}” is not a filter: write it as key=value.")
            params.appendlist(key, value)
        return params

    def _export(self, what, target, params, base_url):
        if what == "models":
            filterset = AIModelFilter(params)
            if filterset.refused:
                reasons = "; ".join(reason for _name, reason in filterset.refused)
                raise CommandError(f"The export was not made: {reasons}")
            return models_export(filterset.qs, base_url, filterset.describe())
        if what == "applicants":
            return applicants_export(base_url)
        if what == "backlog":
            return backlog_export(base_url)
        if what == "batch":
            batch = Batch.objects.filter(slug=target).first()
            if batch is None:
                raise CommandError(f"No batch with the slug “{target}”.")
            return batch_export(batch)
        try:
            return report_export(target, params, base_url)
        except ReportError as error:
            raise CommandError(str(error)) from error
