import time

from django.core.management.base import BaseCommand

from shopyard.catalog.services import rebuild_category_counts


class Command(BaseCommand):
    help = ("Recompute the listings' kept counts of visible products per category and shop "
            "(after a restore or a write outside the catalogue's services; also run hourly).")

    def handle(self, *args, **options):
        started = time.perf_counter()
        fixed = rebuild_category_counts()
        self.stdout.write(f"recounted every category in {time.perf_counter() - started:.1f}s; "
                          f"{fixed} categories' counts corrected")
