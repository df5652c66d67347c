import time

from django.core.management.base import BaseCommand

from shopyard.search.services import rebuild_index


class Command(BaseCommand):
    help = "Empty the search index and index every product again (after a dictionary change, or to repair it)."

    def add_arguments(self, parser):
        parser.add_argument("--batch", type=int, default=1000)

    def handle(self, *args, batch, **options):
        started = time.perf_counter()
        written = rebuild_index(batch=max(1, batch))
        self.stdout.write(f"indexed {written} products in {time.perf_counter() - started:.1f}s")
