from django.core.management.base import BaseCommand

from tracker.demo import load_demo


class Command(BaseCommand):
    help = "Load the real, sourced demo data (batches, published filings, the January 2024 batch)."

    def handle(self, *args, **options):
        result = load_demo()
        self.stdout.write(f"Demo data loaded: created {result}.")
