"""What a listing keeps of each product on one of its pages between requests.

A listing's rows were kept by the fragment cache as Product instances with their shop
and pictures: unpickling the 24 of a page (with every field, descriptions included) and
asking each picture's storage for its URL cost a kept listing more CPU than the
queries it saved, and building those instances made a page the cache missed dear. A
`ListingCard` holds only what a card shows and what its promotion badges are decided
by, read as plain values, with the cover's URL resolved when the page is read; it is
kept as a tuple (unpickled about ten times faster than the rows) and decorated per
request exactly as a Product is (catalog_views._decorate).
"""

from shopyard.catalog.queries import cover_urls, picture_url
from shopyard.core.i18n import localized


class ShopName:
    __slots__ = ("name", "name_en")

    def __init__(self, name, name_en):
        self.name, self.name_en = name, name_en


class ListingCard:
    """A product of a listing page: the fields its card and its badges read."""

    __slots__ = ("pk", "slug", "title", "title_en", "shop_id", "category_id", "currency", "min_price", "max_price",
                 "sales_count", "shop", "cover_url", "promotion_kinds", "url", "title_text", "price_text",
                 "shop_label", "card_html")

    def __init__(self, values):
        (self.pk, self.slug, self.title, self.title_en, self.shop_id, self.category_id, self.currency,
         self.min_price, self.max_price, self.sales_count, self.cover_url, shop_name, shop_name_en) = values
        self.shop = ShopName(shop_name, shop_name_en)
        self.card_html = None

    @property
    def id(self):
        return self.pk

    @property
    def label(self):
        return localized(self, "title")


def cover_url(product) -> str:
    """The URL of a product row's first picture (`image_list`, catalog.queries.with_cover), or ""."""
    images = getattr(product, "image_list", None) or []
    return picture_url(images[0].thumbnail.name, images[0].image.name) if images else ""


# what a card keeps, read as plain values (no Product rows built, then taken apart)
_COLUMNS = ("pk", "slug", "title", "title_en", "shop_id", "category_id", "currency", "min_price", "max_price",
            "sales_count")


def values(products):
    """A listing's queryset of products (the visibility rule's, sorted) as the values a card keeps."""
    return products.values_list(*_COLUMNS, "shop__name", "shop__name_en")


def keep(rows) -> tuple:
    """The values of a listing page's rows (`values(...)` sliced), each with its cover's URL: one
    more query for the page's pictures."""
    rows = list(rows)
    covers = cover_urls(row[0] for row in rows) if rows else {}
    n = len(_COLUMNS)  # the cover goes after the product's own values, before its shop's name
    return tuple((*row[:n], covers.get(row[0], ""), *row[n:]) for row in rows)


def restore(kept) -> list:
    return [ListingCard(values) for values in kept]
