from django.core.management.base import BaseCommand, CommandError

from tracker.importing.register import LoadError, load_register


class Command(BaseCommand):
    help = (
        "Load the whole published register shipped with the project: every CAC list, "
        "through the importer, and the sourced facts the lists lack. Creates nothing when "
        "run again."
    )

    def handle(self, *args, **options):
        try:
            result = load_register()
        except LoadError as error:
            raise CommandError(f"{error}\nNothing was loaded.") from error
        for load in result.lists:
            if options["verbosity"] > 1 or load.created:
                self.stdout.write(
                    f"  {load.file} → {load.batch}: {load.created} created, "
                    f"{load.unchanged} already in the register"
                )
        for line in result.notices:
            self.stdout.write(f"  {line}")
        if result.differences:
            self.stdout.write(
                f"  {len(result.differences)} rows of lists loaded before differ from the "
                "register, which keeps its corrected records:"
            )
            for line in result.differences:
                self.stdout.write(f"    {line}")
        if result.dated_with_note:
            self.stdout.write(
                f"  {result.dated_with_note} rows have a note in their date cell (补登: "
                "entered late); each model's history keeps it."
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Published register loaded in {result.seconds:.1f} s: {result.rows} rows in "
                f"{len(result.lists)} tables, {result.models_created} models, "
                f"{result.applicants_created} applicants and {result.batches_created} batches "
                f"created, {result.sources_created} sources added, {result.facts_changed} "
                "facts from other sources applied."
            )
        )
