"""A large catalogue for benchmarks, written with bulk_create.

It bypasses the per-product services on purpose (10,000 products through
create_product would take minutes); the rows it writes are the same shape the
services write: published products with denormalised prices, one attribute,
two SKUs with options and stock levels, and picture rows. Pictures share a
handful of pre-generated files instead of 10,000 renders."""

import random
import secrets
import time
from dataclasses import dataclass
from decimal import Decimal

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from shopyard.catalog import images as catalog_images
from shopyard.catalog.models import (
    AttributeOption,
    Category,
    Product,
    ProductAttribute,
    ProductImage,
    Sku,
)
from shopyard.catalog.services import recount_categories
from shopyard.inventory.models import StockLevel
from shopyard.shops.models import Shop

from . import data, images
from .loader import ensure_categories

BATCH = 1000
KINDS = ["phone", "headphones", "laptop", "watch", "shirt", "dress", "pot", "bedding", "bottle", "snack", "tea"]
VARIANTS = [("标准版", "Standard", Decimal("0")), ("豪华版", "Deluxe", Decimal("30"))]


@dataclass
class BenchResult:
    products: int
    skus: int
    images: int
    files: int
    categories: int
    shops: int
    seconds: float

    def line(self) -> str:
        return (f"bench catalogue: {self.products} products, {self.skus} SKUs, {self.images} image rows "
                f"({self.files} shared files) over {self.categories} categories and {self.shops} shop(s) "
                f"in {self.seconds:.1f}s")


def _ensure_shops():
    shops = list(Shop.objects.filter(status=Shop.Status.ACTIVE).order_by("id"))
    if not shops:
        shops = [Shop.objects.create(name="基准测试店", name_en="Bench Shop", slug="bench-shop",
                                     shipping_fee=Decimal("10.00"), free_shipping_over=Decimal("99.00"))]
    return shops


def _leaf_categories():
    if not Category.objects.exists():
        ensure_categories()
    leaves = list(Category.objects.filter(parent__isnull=False).order_by("id"))
    return leaves or list(Category.objects.order_by("id"))


def _shared_pictures():
    """A few (image, thumbnail) storage names, rendered once and reused."""
    names = []
    for n, kind in enumerate(KINDS):
        image_name, thumb_name = f"bench/{kind}.jpg", f"bench/thumbs/{kind}.jpg"
        if not default_storage.exists(image_name):
            colour = list(images.COLOURS.values())[n * 3 % len(images.COLOURS)]
            jpeg = images.render(kind=kind, colour=colour, caption=f"Bench {kind}", sub="Shopyard benchmark", seed=n)
            image_name = default_storage.save(image_name, ContentFile(jpeg))
            thumb_name = default_storage.save(thumb_name, catalog_images.make_thumbnail(jpeg))
        names.append((image_name, thumb_name))
    return names


def _bulk(model, rows):
    return model.objects.bulk_create(rows, batch_size=BATCH)


def load_bench_catalogue(*, count: int = 10000, seed: int = 7) -> BenchResult:
    started = time.monotonic()
    rng = random.Random(seed)
    run = secrets.token_hex(3).upper()  # keeps SKU codes unique if the command runs twice
    pictures = _shared_pictures()
    with transaction.atomic():
        shops = _ensure_shops()
        leaves = _leaf_categories()
        now = timezone.now()
        bases = data.PRODUCTS
        products = []
        prices = []
        for i in range(count):
            spec = bases[i % len(bases)]
            price = (Decimal(spec["price"]) * Decimal(rng.choice(["0.8", "0.9", "1", "1.1", "1.25"]))).quantize(Decimal("0.01"))
            prices.append(price)
            products.append(Product(
                shop=shops[i % len(shops)], category=leaves[i % len(leaves)],
                title=f"{spec['title']} #{i + 1}", title_en=f"{spec['title_en']} #{i + 1}",
                description=f"{spec['title']}：{spec['pitch']}。", description_en=f"{spec['title_en']}: {spec['pitch_en']}.",
                status=Product.Status.PUBLISHED, currency=shops[i % len(shops)].currency,
                min_price=price, max_price=price + VARIANTS[1][2], sales_count=int(rng.paretovariate(1.2) * 5),
                published_at=now,
            ))
        products = _bulk(Product, products)

        attributes = _bulk(ProductAttribute, [ProductAttribute(product=p, name="版本", name_en="Edition") for p in products])
        options = _bulk(AttributeOption, [
            AttributeOption(attribute=a, value=v, value_en=e, position=pos)
            for a in attributes for pos, (v, e, _d) in enumerate(VARIANTS)
        ])
        skus = _bulk(Sku, [
            Sku(product=p, code=f"BN{run}-{i + 1:06d}-{j + 1}", price=prices[i] + VARIANTS[j][2],
                name=VARIANTS[j][0], name_en=VARIANTS[j][1])
            for i, p in enumerate(products) for j in range(len(VARIANTS))
        ])
        through = Sku.options.through
        _bulk(through, [through(sku_id=s.pk, attributeoption_id=o.pk) for s, o in zip(skus, options, strict=True)])
        _bulk(StockLevel, [StockLevel(sku=s, quantity=rng.randint(0, 500)) for s in skus])
        _bulk(ProductImage, [
            ProductImage(product=p, image=pictures[i % len(pictures)][0], thumbnail=pictures[i % len(pictures)][1],
                         position=1)
            for i, p in enumerate(products)
        ])
        recount_categories([c.pk for c in leaves])  # bulk-created: the listings' kept counts
    return BenchResult(products=len(products), skus=len(skus), images=len(products), files=len(pictures) * 2,
                       categories=len(leaves), shops=len(shops), seconds=time.monotonic() - started)
