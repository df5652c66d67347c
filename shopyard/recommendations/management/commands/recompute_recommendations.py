"""Rebuild the recommendation tables now (the periodic job does it hourly when shoppers did something)."""

import json

from django.core.management.base import BaseCommand

from shopyard.recommendations.services import recompute


class Command(BaseCommand):
    help = "Recompute the bought-together, viewed-together and popularity tables from behaviour events."

    def handle(self, *args, **options):
        self.stdout.write(json.dumps(recompute()))
