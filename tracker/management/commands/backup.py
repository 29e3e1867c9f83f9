from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

# Content types and permissions are recreated by `migrate` on the target and referenced
# by natural keys; sessions are disposable. The record history (tracker.correction) is
# kept: loading it inserts rows, which its append-only triggers allow.
EXCLUDED = [
    "contenttypes",
    "auth.permission",
    "sessions",
    "tracker.pendingimport",
    # Exists only inside a write's transaction: never anything to keep.
    "tracker.auditcontext",
]


class Command(BaseCommand):
    help = (
        "Write a dated, complete and portable dump of the register (JSON with natural keys, "
        "gzip-compressed). Restore it into a migrated, empty database with "
        "`manage.py loaddata FILE`; it loads into SQLite and PostgreSQL alike."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--output-dir",
            default=str(settings.BASE_DIR / "backups"),
            help="Folder for the dump (default: backups/ in the project).",
        )

    def handle(self, *args, output_dir, **options):
        folder = Path(output_dir)
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CommandError(f"Cannot write backups to {folder}: {exc.strerror}.") from exc
        path = folder / f"tracker-{timezone.localtime():%Y-%m-%dT%H%M%S}.json.gz"
        call_command(
            "dumpdata",
            natural_foreign=True,
            natural_primary=True,
            exclude=EXCLUDED,
            output=str(path),
            verbosity=0,
        )
        self.stdout.write(str(path))
