"""sitemap.xml (an index of per-type sitemaps, each paginated) and robots.txt.

Products come from the one visibility rule (catalog.queries.visible_products),
shops from shops.queries.active_shops: a draft, a product without a SKU to buy or
anything of a suspended shop is never listed. Each sitemap page holds at most
`SITEMAP_PAGE_SIZE` URLs (Google's limit is 50,000); the index links every page
(`sitemap-products.xml?p=2` …). A page costs one query.
"""

from django.contrib.sitemaps import Sitemap
from django.contrib.sitemaps import views as sitemap_views
from django.http import HttpResponse
from django.urls import reverse
from django.views.decorators.cache import cache_page

from shopyard.catalog.models import Category
from shopyard.catalog.queries import visible_products
from shopyard.shops.queries import active_shops

from . import seo

SITEMAP_PAGE_SIZE = 10000
SITEMAP_CACHE_SECONDS = 60 * 60
# what crawlers have no business in: personal, transactional and back-office paths
ROBOTS_DISALLOW = ("/cart/", "/checkout/", "/orders/", "/favourites/", "/recent/", "/coupons/mine/", "/groups/open/",
                   "/flash/holds/", "/console/", "/accounts/", "/api/", "/admin/", "/pay/", "/messages/", "/s/")


class ProductSitemap(Sitemap):
    limit = SITEMAP_PAGE_SIZE
    changefreq = "daily"

    def items(self):
        self.path = seo.product_path_builder()  # reverse() once, not once per URL
        return visible_products().order_by("pk").only("pk", "slug", "updated_at")

    def location(self, item):
        return self.path(item.pk, item.slug)

    def lastmod(self, item):
        return item.updated_at


class ShopSitemap(Sitemap):
    limit = SITEMAP_PAGE_SIZE
    changefreq = "weekly"

    def items(self):
        return active_shops().order_by("pk").only("pk", "slug")

    def location(self, item):
        return reverse("storefront:shop", args=[item.slug])


class CategorySitemap(Sitemap):
    limit = SITEMAP_PAGE_SIZE
    changefreq = "daily"

    def items(self):
        return Category.objects.order_by("pk").only("pk", "slug")

    def location(self, item):
        return reverse("storefront:category", args=[item.slug])


SITEMAPS = {"products": ProductSitemap, "shops": ShopSitemap, "categories": CategorySitemap}


@cache_page(SITEMAP_CACHE_SECONDS)
def sitemap_index(request):
    return sitemap_views.index(request, SITEMAPS, sitemap_url_name="storefront:sitemap_section")


@cache_page(SITEMAP_CACHE_SECONDS)
def sitemap_section(request, section):
    # an unknown section or a page past the end is a 404 (django.contrib.sitemaps)
    return sitemap_views.sitemap(request, SITEMAPS, section=section)


def robots_txt(request):
    lines = ["User-agent: *", *(f"Disallow: {path}" for path in ROBOTS_DISALLOW), "",
             f"Sitemap: {request.build_absolute_uri(reverse('storefront:sitemap'))}", ""]
    return HttpResponse("\n".join(lines), content_type="text/plain; charset=utf-8")
