from django.core.management.base import BaseCommand, CommandError

from shopyard.demo.bench import load_bench_catalogue


class Command(BaseCommand):
    help = "Bulk-load a large published catalogue for benchmarks (2 SKUs per product, shared pictures)."

    def add_arguments(self, parser):
        parser.add_argument("--products", type=int, default=10000, help="how many products (default 10000)")
        parser.add_argument("--seed", type=int, default=7)

    def handle(self, *args, **options):
        if not 1 <= options["products"] <= 1_000_000:
            raise CommandError("--products must be between 1 and 1,000,000.")
        result = load_bench_catalogue(count=options["products"], seed=options["seed"])
        self.stdout.write(result.line())
