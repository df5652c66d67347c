"""django-oscar 4.2.1 beside Shopyard, in one run: a product page and a
category listing rendered afresh (no cache), 10,000 products on SQLite,
gunicorn with 2 sync workers, wrk with 16 connections for 10 s per page type.

    python bench/oscar_side_by_side.py [--products 10000] [--seconds 10] [--venv DIR]

django-oscar goes into its own virtualenv (default
~/.cache/shopyard-bench/oscar-4.2.1, made on first use, reused after), never
into the project's: it pins its own Django and libraries. Its shop is a
throw-away project written here (settings as Oscar's "Building your own shop"
guide gives them, the cache set to Django's DummyCache so nothing is served
from a cache), with a category tree of 4 roots x 3 leaves, and per product a
product class, a stock record with a price and one picture (shared files,
as in Shopyard's bench catalogue). Then `bench/storefront.py --page-cache 0`
measures Shopyard on the same machine straight after.

Prints one line: oscar's and Shopyard's req/s and latency for both pages.
"""

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, os.path.dirname(__file__))
from _harness import PY, ROOT, free_port, wrk  # noqa: E402

OSCAR = "4.2.1"
# the oscar venv's own pins: gunicorn as in Shopyard, Django left to oscar's requirement (reported in the line)
PACKAGES = [f"django-oscar[sorl-thumbnail]=={OSCAR}", "gunicorn==27.0.1"]
DEFAULT_VENV = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "shopyard-bench" / f"oscar-{OSCAR}"

SETTINGS = """
from pathlib import Path
from oscar.defaults import *  # noqa: F403

HERE = Path(__file__).resolve().parent
SECRET_KEY = "bench-only-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = [
    "django.contrib.admin", "django.contrib.auth", "django.contrib.contenttypes", "django.contrib.sessions",
    "django.contrib.messages", "django.contrib.staticfiles", "django.contrib.sites", "django.contrib.flatpages",
    "oscar.config.Shop",
    "oscar.apps.analytics.apps.AnalyticsConfig", "oscar.apps.checkout.apps.CheckoutConfig",
    "oscar.apps.address.apps.AddressConfig", "oscar.apps.shipping.apps.ShippingConfig",
    "oscar.apps.catalogue.apps.CatalogueConfig", "oscar.apps.catalogue.reviews.apps.CatalogueReviewsConfig",
    "oscar.apps.communication.apps.CommunicationConfig", "oscar.apps.partner.apps.PartnerConfig",
    "oscar.apps.basket.apps.BasketConfig", "oscar.apps.payment.apps.PaymentConfig",
    "oscar.apps.offer.apps.OfferConfig", "oscar.apps.order.apps.OrderConfig",
    "oscar.apps.customer.apps.CustomerConfig", "oscar.apps.search.apps.SearchConfig",
    "oscar.apps.voucher.apps.VoucherConfig", "oscar.apps.wishlists.apps.WishlistsConfig",
    "oscar.apps.dashboard.apps.DashboardConfig", "oscar.apps.dashboard.reports.apps.ReportsDashboardConfig",
    "oscar.apps.dashboard.users.apps.UsersDashboardConfig", "oscar.apps.dashboard.orders.apps.OrdersDashboardConfig",
    "oscar.apps.dashboard.catalogue.apps.CatalogueDashboardConfig",
    "oscar.apps.dashboard.offers.apps.OffersDashboardConfig",
    "oscar.apps.dashboard.partners.apps.PartnersDashboardConfig",
    "oscar.apps.dashboard.pages.apps.PagesDashboardConfig", "oscar.apps.dashboard.ranges.apps.RangesDashboardConfig",
    "oscar.apps.dashboard.reviews.apps.ReviewsDashboardConfig",
    "oscar.apps.dashboard.vouchers.apps.VouchersDashboardConfig",
    "oscar.apps.dashboard.communications.apps.CommunicationsDashboardConfig",
    "oscar.apps.dashboard.shipping.apps.ShippingDashboardConfig",
    "widget_tweaks", "haystack", "treebeard", "sorl.thumbnail", "django_tables2",
]
SITE_ID = 1
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "oscar.apps.basket.middleware.BasketMiddleware",
    "django.contrib.flatpages.middleware.FlatpageFallbackMiddleware",
]
AUTHENTICATION_BACKENDS = ["oscar.apps.customer.auth_backends.EmailBackend", "django.contrib.auth.backends.ModelBackend"]
ROOT_URLCONF = "urls"
TEMPLATES = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates", "DIRS": [], "APP_DIRS": True,
    "OPTIONS": {"context_processors": [
        "django.template.context_processors.debug", "django.template.context_processors.request",
        "django.contrib.auth.context_processors.auth", "django.template.context_processors.i18n",
        "django.contrib.messages.context_processors.messages",
        "oscar.apps.search.context_processors.search_form", "oscar.apps.checkout.context_processors.checkout",
        "oscar.apps.communication.notifications.context_processors.notifications",
        "oscar.core.context_processors.metadata",
    ]},
}]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(HERE / "oscar.sqlite3"),
                         "CONN_MAX_AGE": 60, "ATOMIC_REQUESTS": True,
                         # the same SQLite set-up as Shopyard's (shopyard/settings.py)
                         "OPTIONS": {"transaction_mode": "IMMEDIATE",
                                     "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"}}}
# "cold": nothing served from a cache (Shopyard's side runs with --page-cache 0)
CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
OSCAR_PRODUCTS_PER_PAGE = 24  # as many cards as a Shopyard listing page
HAYSTACK_CONNECTIONS = {"default": {"ENGINE": "haystack.backends.simple_backend.SimpleEngine"}}
STATIC_URL = "/static/"
MEDIA_URL = "/media/"
MEDIA_ROOT = str(HERE / "media")
STATIC_ROOT = str(HERE / "static")
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "ERROR"}}
"""

URLS = """
from django.apps import apps
from django.urls import include, path

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include(apps.get_app_config("oscar").urls[0])),
]
"""

# Oscar's own models and API: treebeard for the category tree, bulk inserts for the rest.
LOAD = r"""
import io, json, random, sys
import django
django.setup()
from decimal import Decimal
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils.text import slugify
from PIL import Image
from oscar.core.loading import get_model

Category = get_model("catalogue", "Category")
Product = get_model("catalogue", "Product")
ProductClass = get_model("catalogue", "ProductClass")
ProductCategory = get_model("catalogue", "ProductCategory")
ProductImage = get_model("catalogue", "ProductImage")
Partner = get_model("partner", "Partner")
StockRecord = get_model("partner", "StockRecord")

count = int(sys.argv[1])
rng = random.Random(7)
leaves = []
for r, root_name in enumerate(["Phones", "Computers", "Home", "Books"]):
    root = Category.add_root(name=root_name, slug=slugify(root_name), is_public=True)
    for c in range(3):
        name = f"{root_name} {c + 1}"
        leaves.append(root.add_child(name=name, slug=slugify(name), is_public=True))
pclass = ProductClass.objects.create(name="Goods", slug="goods", requires_shipping=True, track_stock=True)
partner = Partner.objects.create(name="Bench partner", code="bench")
pictures = []
for i, colour in enumerate([(200, 60, 60), (60, 160, 90), (60, 90, 200), (220, 180, 40)]):
    buf = io.BytesIO()
    Image.new("RGB", (800, 800), colour).save(buf, "JPEG", quality=80)
    pictures.append(default_storage.save(f"images/products/bench-{i}.jpg", ContentFile(buf.getvalue())))
products = Product.objects.bulk_create([
    Product(structure="standalone", product_class=pclass, title=f"Bench product {i + 1}",
            slug=f"bench-product-{i + 1}", upc=f"BENCH{i + 1:07d}", is_public=True,
            description=f"Bench product {i + 1}: a description of a few words.")
    for i in range(count)
], batch_size=2000)
ProductCategory.objects.bulk_create([ProductCategory(product=p, category=leaves[i % len(leaves)])
                                     for i, p in enumerate(products)], batch_size=2000)
StockRecord.objects.bulk_create([
    StockRecord(product=p, partner=partner, partner_sku=f"B-{i + 1}", price_currency="GBP",
                price=Decimal(rng.choice(["19.90", "49.00", "199.00", "1299.00"])), num_in_stock=rng.randint(0, 500))
    for i, p in enumerate(products)
], batch_size=2000)
ProductImage.objects.bulk_create([ProductImage(product=p, original=pictures[i % len(pictures)], display_order=0)
                                  for i, p in enumerate(products)], batch_size=2000)
print(json.dumps({"categories": [c.get_absolute_url() for c in Category.objects.filter(depth=2)],
                  "products": [p.get_absolute_url() for p in Product.objects.all()]}))
"""


def ensure_venv(venv: Path) -> Path:
    """The oscar virtualenv, made and filled on first use (from PyPI)."""
    py = venv / "bin" / "python"
    marker = venv / f".oscar-{OSCAR}-ready"
    if marker.exists():
        return py
    venv.parent.mkdir(parents=True, exist_ok=True)
    if not py.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    res = subprocess.run([str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check", *PACKAGES],
                         capture_output=True, text=True)
    if res.returncode != 0:
        raise SystemExit(f"could not install {' '.join(PACKAGES)} into {venv}:\n{res.stdout[-2000:]}{res.stderr[-3000:]}")
    marker.write_text("\n".join(PACKAGES) + "\n")
    return py


def versions(py: Path) -> dict:
    code = "import django, oscar, gunicorn;print(django.get_version(), oscar.get_version(), gunicorn.__version__)"
    out = subprocess.run([str(py), "-c", code], capture_output=True, text=True, check=True).stdout.split()
    return {"django": out[0], "oscar": out[1], "gunicorn": out[2]}


def rotate(paths):
    table = "{" + ",".join(f'"{p}"' for p in paths) + "}"
    return f"local paths = {table}\nrequest = function() return wrk.format('GET', paths[math.random(#paths)]) end\n"


def measure_oscar(py: Path, products: int, seconds: int, connections: int, product_urls: int) -> dict:
    project = Path(tempfile.mkdtemp(prefix="shopyard-oscar-"))
    proc = None
    try:
        (project / "settings.py").write_text(textwrap.dedent(SETTINGS))
        (project / "urls.py").write_text(textwrap.dedent(URLS))
        (project / "wsgi_oscar.py").write_text("from django.core.wsgi import get_wsgi_application\n"
                                               "application = get_wsgi_application()\n")
        env = dict(os.environ, DJANGO_SETTINGS_MODULE="settings", PYTHONPATH=str(project))
        for var in ("DATABASE_URL", "VIRTUAL_ENV"):
            env.pop(var, None)
        admin = [str(py), "-m", "django"]
        subprocess.run([*admin, "migrate", "--noinput"], env=env, cwd=project, check=True, capture_output=True)
        started = time.monotonic()
        out = subprocess.run([str(py), "-c", LOAD, str(products)], env=env, cwd=project, check=True,
                             capture_output=True, text=True).stdout.strip().splitlines()[-1]
        load_s = round(time.monotonic() - started, 1)
        urls = json.loads(out)
        listings = [f"{c}?page={p}" for c in urls["categories"] for p in range(1, 6)]
        rng = random.Random(7)
        pages = rng.sample(urls["products"], min(product_urls, len(urls["products"])))
        port = free_port()
        proc = subprocess.Popen([str(py.parent / "gunicorn"), "wsgi_oscar:application", "-w", "2", "-b",
                                 f"127.0.0.1:{port}", "--log-level", "warning"],
                                env=env, cwd=project)
        base = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                urllib.request.urlopen(base + pages[0], timeout=5).read()
                break
            except OSError:
                if proc.poll() is not None:
                    raise RuntimeError("oscar's gunicorn exited") from None
                time.sleep(0.2)
        else:
            raise RuntimeError("oscar's gunicorn did not come up")
        for path in (listings[0], pages[0]):  # a page that fails must not pass as fast
            urllib.request.urlopen(base + path, timeout=10).read()
        wrk(base + listings[0], seconds=1, connections=4)  # start workers and connections
        lst = wrk(base + "/", seconds=seconds, connections=connections, script_body=rotate(listings))
        prd = wrk(base + "/", seconds=seconds, connections=connections, script_body=rotate(pages))
        return {"listing": lst, "product": prd, "listing_urls": len(listings), "product_urls": len(pages),
                "load_s": load_s}
    finally:
        if proc:
            proc.terminate()
            proc.wait(timeout=20)
        shutil.rmtree(project, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--products", type=int, default=10000)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--product-urls", type=int, default=2000)
    ap.add_argument("--venv", type=Path, default=DEFAULT_VENV, help="where django-oscar's own virtualenv lives")
    ap.add_argument("--skip-shopyard", action="store_true", help="measure oscar only")
    args = ap.parse_args()
    if ROOT in args.venv.resolve().parents:
        raise SystemExit("--venv must be outside the repository")
    py = ensure_venv(args.venv)
    oscar = measure_oscar(py, args.products, args.seconds, args.connections, args.product_urls)
    shopyard = None
    if not args.skip_shopyard:
        res = subprocess.run([PY, str(ROOT / "bench" / "storefront.py"), "--page-cache", "0", "--products",
                              str(args.products), "--seconds", str(args.seconds), "--connections", str(args.connections),
                              "--product-urls", str(args.product_urls)],
                             cwd=ROOT, stdout=subprocess.PIPE, text=True)  # its errors go to our stderr
        if res.returncode == 0:
            sy = json.loads(res.stdout.strip().splitlines()[-1])
            shopyard = {"listing": sy["listing"], "product": sy["product"], "listing_urls": sy["listing_urls"],
                        "product_urls": sy["product_urls"]}
        else:  # oscar's figures still count
            shopyard = {"error": f"bench/storefront.py exited with {res.returncode}"}
    print(json.dumps({
        "bench": "oscar_side_by_side", "db": "sqlite", "products": args.products, "workers": 2,
        "connections": args.connections, "seconds": args.seconds, "cache": "off",
        "oscar_versions": versions(py), "oscar": oscar, "shopyard": shopyard,
        "loadavg": Path("/proc/loadavg").read_text().split()[:3],
    }, separators=(",", ":")))


if __name__ == "__main__":
    main()
