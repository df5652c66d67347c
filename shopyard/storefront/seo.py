"""What search engines and link previews read: canonical URLs, titles and
descriptions, Open Graph tags and JSON-LD, plus the slug redirects.

URLs (docs/seo.md):
- product  /p/<id>-<slug>/   (slug: pinyin of the title, catalog.Product.slug);
  /p/<id>/ and a stale slug answer with a 301 to it, keeping the query string.
  A product without a slug (nothing sluggable in its title) lives at /p/<id>/.
  The rule is catalog.links' (channels' short links build it too); imported here.
- shop     /shop/<slug>/     category  /c/<slug>/   an old slug 301s (SlugRedirect).

Pages put a `seo` dict in their context; `shopyard/base.html` renders it with
`storefront/_seo_head.html`. Nothing here queries the database except the
redirect look-ups, which run only on a URL that did not match a live slug.
"""

import json

from django.http import HttpResponsePermanentRedirect
from django.urls import reverse
from django.utils.html import strip_tags
from django.utils.safestring import mark_safe
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from shopyard.catalog.links import product_path, product_path_builder  # noqa: F401 (the pages' names for them)
from shopyard.core.i18n import localized
from shopyard.core.money import money_str

from .models import SlugRedirect

DESCRIPTION_CHARS = 160

# --- URLs ----------------------------------------------------------------------------


class Moved(Exception):
    """Raised inside a page's build when the URL is not the canonical one."""

    def __init__(self, path):
        super().__init__(path)
        self.path = path


def permanent_redirect(request, path):
    query = request.META.get("QUERY_STRING", "")
    return HttpResponsePermanentRedirect(f"{path}?{query}" if query else path)


def moved_slug(request, kind: str, slug: str, live_qs, url_name: str):
    """A 301 to the page an old slug now lives at, or None (then the caller's 404)."""
    row = SlugRedirect.objects.filter(kind=kind, old_slug=slug[:100]).only("object_id").first()
    if row is None:
        return None
    current = live_qs.filter(pk=row.object_id).values_list("slug", flat=True).first()
    if not current or current == slug:
        return None
    return permanent_redirect(request, reverse(url_name, args=[current]))


# --- head tags ------------------------------------------------------------------------


def _plain(text: str) -> str:
    return Truncator(" ".join(strip_tags(text or "").split())).chars(DESCRIPTION_CHARS)


def json_ld(data) -> str:
    """JSON for a <script type="application/ld+json">: '<', '>' and '&' escaped so seller
    text can never close the script element."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return mark_safe(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def page_seo(request, *, title: str, description: str, path: str, image: str = "", kind: str = "website",
             structured=None) -> dict:
    return _head(request, title=title, plain=_plain(description), canonical=request.build_absolute_uri(path),
                 image=image, kind=kind, structured=structured)


def _head(request, *, title: str, plain: str, canonical: str, image: str, kind: str, structured) -> dict:
    return {
        "title": title,
        "description": plain,
        "canonical": canonical,
        "og": {"type": kind, "title": title, "description": plain, "url": canonical,
               "image": request.build_absolute_uri(image) if image else "", "site_name": _("Shopyard")},
        "json_ld": json_ld(structured) if structured else "",
    }


def product_description(product) -> str:
    """The product's description as search engines and link previews read it: the seller's SEO
    description, else its own, as plain text cut to DESCRIPTION_CHARS (in the active language).
    Stripping the tags grows with the description (a quarter of a millisecond for 2 kB): the
    product page keeps it with the product's rows."""
    return _plain(product.seo_description or product.body or product.label)


def product_seo(request, product, *, skus, cover_url: str, rating=None, path=None, description=None) -> dict:
    """Title, description, canonical, Open Graph and JSON-LD `Product` for a product page.
    The seller's SEO title and description win; defaults come from the product. `path`:
    the product's path when the page has it already; `description`: product_description's,
    when the page has it already. The description is made plain and the canonical URL built
    once (they were three times and twice a page)."""
    path = path or product_path(product.pk, product.slug)
    canonical = request.build_absolute_uri(path)
    title = product.seo_title or f"{product.label} · {localized(product.shop, 'name')}"
    plain = product_description(product) if description is None else description
    in_stock = any(getattr(s, "stock_count", 0) > 0 for s in skus)
    offer = {
        "@type": "AggregateOffer" if product.min_price != product.max_price else "Offer",
        "priceCurrency": product.currency,
        "availability": "https://schema.org/InStock" if in_stock else "https://schema.org/OutOfStock",
        "url": canonical,
    }
    if offer["@type"] == "Offer":
        offer["price"] = money_str(product.min_price, product.currency)
    else:
        offer.update(lowPrice=money_str(product.min_price, product.currency),
                     highPrice=money_str(product.max_price, product.currency), offerCount=len(skus))
    data = {
        "@context": "https://schema.org", "@type": "Product", "name": product.label,
        "description": plain, "sku": skus[0].code if skus else str(product.pk),
        "url": canonical, "offers": offer,
    }
    if cover_url:
        data["image"] = [request.build_absolute_uri(cover_url)]
    if product.brand_id:
        data["brand"] = {"@type": "Brand", "name": localized(product.brand, "name")}
    if rating:
        average, count = rating
        data["aggregateRating"] = {"@type": "AggregateRating", "ratingValue": str(average), "reviewCount": count}
    return _head(request, title=title, plain=plain, canonical=canonical, image=cover_url, kind="product",
                 structured=data)


# --- share links ------------------------------------------------------------------------
# What a shopper copies from a product, shop or group-buy page: the canonical URL with a
# channel tag (channels.tags), so visits and orders it brings are attributed to sharing.


def share_url(request, path: str, kind: str) -> str:
    from shopyard.channels.tags import Tag, tagged_url

    return tagged_url(request.build_absolute_uri(path), Tag(source="share", medium="link", campaign=kind))
