from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from shopyard.catalog.models import Sku
from shopyard.demo import data, loader


class Command(BaseCommand):
    help = "Load the demo marketplace (accounts, shops, categories, products with SKUs and pictures, orders)."

    def add_arguments(self, parser):
        parser.add_argument("--if-empty", action="store_true",
                            help="do nothing (but print the demo accounts) when any product exists")
        parser.add_argument("--products", type=int, default=loader.DEFAULT_PRODUCTS,
                            help=f"how many products to create (default {loader.DEFAULT_PRODUCTS})")
        parser.add_argument("--seed", type=int, default=loader.DEFAULT_SEED, help="random seed (same seed, same data)")
        parser.add_argument("--no-orders", action="store_true", help="skip the sample orders")

    def handle(self, *args, **options):
        count = options["products"]
        if count < 1 or count > 5000:
            raise CommandError("--products must be between 1 and 5000.")
        if loader.demo_exists():
            if options["if_empty"]:
                self.stdout.write("Products already exist: demo data not loaded again.")
                self.print_accounts()
                return
            first_codes = [f"{spec['code']}-0001-01" for spec in data.SHOPS.values()]
            if Sku.objects.filter(code__in=first_codes).exists():
                raise CommandError("The demo data is already loaded. Use a fresh database, or --if-empty.")
        result = loader.load(products=count, seed=options["seed"], with_orders=not options["no_orders"])
        self.stdout.write(self.style.SUCCESS(
            f"Demo loaded in {result.seconds:.1f}s: {len(result.shops)} shops, {result.products} products "
            f"({result.drafts} drafts), {result.skus} SKUs, {result.images} images, {result.orders} orders."
        ))
        self.print_accounts()

    def print_accounts(self):
        w = self.stdout.write
        w("")
        w("Demo accounts")
        w(f"  {'role':<16}{'username':<12}{'password':<14}shop")
        shop_names = {spec["slug"]: f"{spec['name']} / {spec['name_en']}" for spec in data.SHOPS.values()}
        for acc in [*data.ACCOUNTS, *data.STAFF_ACCOUNTS, *data.SHOP_APPLICATIONS]:
            shop = shop_names.get(acc.get("shop"), "") or acc.get("shop_name", "")
            w(f"  {acc.get('role', 'applicant'):<16}{acc['username']:<12}{acc['password']:<14}{shop}")
        w("")
        base = settings.BASE_URL.rstrip("/")
        for label, path in loader.URLS:
            w(f"  {label:<18}{base}{path}")
        w("")
