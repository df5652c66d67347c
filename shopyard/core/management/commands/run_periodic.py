import json

from django.core.management.base import BaseCommand

from shopyard.core.periodic import run_all


class Command(BaseCommand):
    help = "Run the periodic jobs once (unpaid-order timeout, event delivery)."

    def handle(self, *args, **options):
        self.stdout.write(json.dumps(run_all()))
