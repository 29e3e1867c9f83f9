from django.core.management.base import BaseCommand, CommandError
from django.template.defaultfilters import filesizeformat

from tracker.opendata import files


class Command(BaseCommand):
    help = (
        "Write the whole public register as bulk downloads (SQLite, CSV and JSON Lines with "
        "a data package, each batch's published list) into DOWNLOADS_ROOT. Builds nothing "
        "when the files already show the current register, unless --force is given."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--force", action="store_true", help="build even when the files are up to date"
        )

    def handle(self, *args, **options):
        try:
            result = files.build(force=options["force"])
        except files.BuildError as error:
            raise CommandError(str(error)) from error
        manifest = result.manifest
        where = files.downloads_root()
        if not result.rebuilt:
            self.stdout.write(
                f"The downloads in {where} are up to date (register stamp {manifest['stamp']}, "
                f"built {manifest['built_at']}); nothing was rebuilt. Use --force to rebuild."
            )
            return
        for entry in manifest["files"]:
            rows = ", ".join(f"{table} {n:,}" for table, n in entry["rows"].items())
            self.stdout.write(f"  {entry['name']}: {filesizeformat(entry['size'])}; {rows}")
        self.stdout.write(
            self.style.SUCCESS(
                f"Wrote {len(manifest['files'])} files to {where} in {result.seconds:.1f} s "
                f"(register as of {manifest['register_changed_at']}, stamp {manifest['stamp']})."
            )
        )
