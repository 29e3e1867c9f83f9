from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from tracker.integrity import problems


class Command(BaseCommand):
    help = _(
        "Report models whose status disagrees with their history, approved models without an "
        "approval date, registrations without an upstream model and models without history. "
        "Exits with status 1 when anything is found."
    )

    def handle(self, *args, **options):
        found = 0
        for problem in problems():
            self.stdout.write(problem)
            found += 1
        if found:
            raise CommandError(
                ngettext("%(count)d problem found.", "%(count)d problems found.", found)
                % {"count": found}
            )
        self.stdout.write(self.style.SUCCESS(_("No problems found.")))
