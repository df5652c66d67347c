"""Where a product lives on the storefront: its one canonical URL, /p/<id>-<slug>/
(slug: the pinyin of its title), or /p/<id>/ for a product without a slug; any
other product URL answers with a 301 to it (docs/seo.md).

The rule lives here, below the storefront and channels, so the product page, every
product link and sitemap (storefront) and a campaign short link (channels) build the
same URL, and a short link reaches the page in one redirect, not two.
"""

from django.urls import reverse

from shopyard.core.url_shapes import kept_reverse

from .queries import visible_products


def product_path(product_id, slug="") -> str:
    """From the URL's kept shape (core.url_shapes): every product page builds its own path
    (canonical URL, share link, JSON-LD), and a full reverse() was a fortieth of its view."""
    if slug:
        return kept_reverse("storefront:product_slug", product_id, slug)
    return kept_reverse("storefront:product", product_id)


def product_path_builder():
    """A fast product_path for listings: reverse() once per page, not per card."""
    marker = 987654321
    before, after = reverse("storefront:product_slug", kwargs={"pk": marker, "slug": "s"}).split(f"{marker}-s")
    plain_before, plain_after = reverse("storefront:product", args=[marker]).split(str(marker))

    def build(product_id, slug=""):
        return f"{before}{product_id}-{slug}{after}" if slug else f"{plain_before}{product_id}{plain_after}"

    return build


def canonical_product_paths(product_ids) -> dict:
    """{id: canonical path} for products known by id only (one query). A product shoppers
    may not see gets its bare /p/<id>/: its page decides (a 404, or its seller's preview),
    and its slug, the pinyin of its title, is not given away in a redirect."""
    ids = list(dict.fromkeys(product_ids))
    slugs = dict(visible_products().filter(pk__in=ids).values_list("pk", "slug")) if ids else {}
    build = product_path_builder()
    return {pk: build(pk, slugs.get(pk) or "") for pk in ids}


def canonical_product_path(product_id) -> str:
    return canonical_product_paths([product_id])[product_id]
