from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from tracker.integrity import problems, to_check


class Command(BaseCommand):
    help = _(
        "Report models whose status disagrees with their history, approved models without an "
        "approval date and models without history, and exit with status 1 when anything is "
        "found. Also list, without failing, what is as published but needs checking: "
        "registrations without an upstream model and numbers that look cut off or mistyped."
    )

    def handle(self, *args, **options):
        checks = 0
        for line in to_check():
            if not checks:
                self.stdout.write(_("To check (as published, not an error):"))
            self.stdout.write(f"  {line}")
            checks += 1
        if checks:
            self.stdout.write(
                ngettext("%(count)d record to check.", "%(count)d records to check.", checks)
                % {"count": checks}
            )
        found = 0
        for problem in problems():
            self.stdout.write(str(problem))
            found += 1
        if found:
            raise CommandError(
                ngettext("%(count)d problem found.", "%(count)d problems found.", found)
                % {"count": found}
            )
        self.stdout.write(self.style.SUCCESS(_("No problems found.")))
