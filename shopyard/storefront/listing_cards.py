"""What a listing keeps of each product on one of its pages between requests.

A listing's rows were kept by the fragment cache as Product instances with their shop
and pictures: unpickling the 24 of a page (with every field, descriptions included) and
asking each picture's storage for its URL cost a kept listing more CPU than the
queries it saved. A `ListingCard` holds only what a card shows and what its promotion
badges are decided by, as plain values, with the cover's URL resolved when the page's
rows are read; it is kept as a tuple (unpickled about ten times faster) and decorated
per request exactly as a Product is (catalog_views._decorate).
"""

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

    FIELDS = ("pk", "slug", "title", "title_en", "shop_id", "category_id", "currency", "min_price", "max_price",
              "sales_count", "cover_url")

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
    """The URL of a product row's first picture (its thumbnail when made), or "" (cover_rows)."""
    images = getattr(product, "image_list", None) or []
    cover = images[0] if images else None
    return (cover.thumbnail or cover.image).url if cover is not None else ""


def keep(products) -> tuple:
    """The plain values of a listing page's Product rows (catalog.queries.cover_rows), to keep."""
    return tuple((p.pk, p.slug, p.title, p.title_en, p.shop_id, p.category_id, p.currency, p.min_price, p.max_price,
                  p.sales_count, cover_url(p), p.shop.name, p.shop.name_en) for p in products)


def restore(kept) -> list:
    return [ListingCard(values) for values in kept]
