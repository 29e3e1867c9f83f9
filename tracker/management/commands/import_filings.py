from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from tracker.importing.lists import ImportFileError, import_list, read_path, rejected_export
from tracker.models import Batch, FilingType
from tracker.opendata import files


class Command(BaseCommand):
    help = (
        "Import a published CAC list (CSV or XLSX with the six published columns) into a "
        "batch. All or nothing unless --skip-invalid is given."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="CSV (UTF-8 or GB18030) or XLSX file")
        parser.add_argument("--batch", required=True, help="slug of the batch the list belongs to")
        parser.add_argument(
            "--type",
            choices=FilingType.values,
            help="the type of every row; by default each row's number says (an S serial "
            "after the date: a registration), and rows whose number disagrees are reported",
        )
        parser.add_argument("--dry-run", action="store_true", help="check the file, write nothing")
        parser.add_argument(
            "--skip-invalid",
            action="store_true",
            help="import the good rows and write the bad ones to FILE.rejected.csv",
        )
        parser.add_argument(
            "--unswap",
            action="store_true",
            help="import rows whose model and applicant cells are swapped with the cells "
            "exchanged (listed, and noted in each model's history) instead of refusing them",
        )
        parser.add_argument("--user", help="username recorded as having entered the rows")
        parser.add_argument(
            "--no-downloads",
            action="store_true",
            help="do not rebuild the bulk downloads after an import that changed the register",
        )

    def handle(self, *args, **options):
        batch = Batch.objects.filter(slug=options["batch"]).first()
        if batch is None:
            known = ", ".join(Batch.objects.order_by("announced_on").values_list("slug", flat=True))
            raise CommandError(
                f"No batch with the slug “{options['batch']}”. Known batches: {known or 'none'}."
            )
        by = None
        if options["user"]:
            by = get_user_model().objects.filter(username=options["user"]).first()
            if by is None:
                raise CommandError(f"No user “{options['user']}”.")
        try:
            result = import_list(
                read_path(options["file"]),
                batch=batch,
                filing_type=options["type"],
                by=by,
                dry_run=options["dry_run"],
                skip_invalid=options["skip_invalid"],
                unswap=options["unswap"],
            )
        except ImportFileError as error:
            raise CommandError(f"{options['file']}: {error} Nothing was imported.") from error

        for line in result.problem_lines():
            self.stderr.write(line)
        for line in result.notice_lines():
            self.stdout.write(line)
        self._report(result, options)
        changed = result.created_models or result.created_applicants
        if result.written and changed and not options["no_downloads"]:
            self._rebuild_downloads()

    def _rebuild_downloads(self):
        try:
            result = files.build()
        except files.BuildError as error:
            self.stderr.write(f"The bulk downloads were not rebuilt: {error}")
            return
        if result.rebuilt:
            self.stdout.write(
                f"Bulk downloads rebuilt in {files.downloads_root()} ({result.seconds:.1f} s)."
            )

    def _report(self, result, options):
        new, unchanged, bad = len(result.to_create), len(result.unchanged), len(result.bad_rows)
        if result.bad_rows and options["skip_invalid"] and not result.dry_run:
            rejected_path = f"{options['file']}.rejected.csv"
            with open(rejected_path, "wb") as handle:
                rejected_export(result).write_to(handle)
            self.stderr.write(f"{bad} rejected rows, with reasons, written to {rejected_path}")
        if result.dry_run:
            self.stdout.write(
                f"Dry run: {new} models would be created ({len(result.new_applicant_names)} "
                f"new applicants), {unchanged} already in the register, {bad} rows with "
                "problems. Nothing was written."
            )
        elif result.written:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Imported {result.created_models} models and {result.created_applicants} "
                    f"new applicants into {options['batch']}; {unchanged} rows "
                    f"already in the register, {bad} rejected."
                )
            )
        else:
            raise CommandError(
                f"{bad} rows have problems (listed above); nothing was imported. Fix them, or "
                "use --skip-invalid to import the good rows."
            )
