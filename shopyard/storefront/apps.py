from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# a shop's status hides or shows all its products at once
CATALOGUE_EVENTS = ("product.created", "product.updated", "product.published", "product.unpublished",
                    "shop.suspended", "shop.reopened", "shop.updated",
                    "shop_slug.changed", "category_slug.changed", "category.changed",
                    # operators' home-page banners and featured categories
                    "home.changed",
                    # promotions change the prices product pages show
                    "promotion.published", "promotion.changed", "promotion.stopped",
                    # a group buy published or stopped shows or hides "开团" on product pages
                    "group_buy.published", "group_buy.stopped",
                    # a flash sale scheduled or cancelled shows or hides its badge (a product page keeps
                    # knowing that none of its SKUs is in one: catalog_views._product_context)
                    "flash_sale.published", "flash_sale.cancelled",
                    # product Q&A (问大家) shows answered questions on product pages
                    "question.answered", "question.moderated", "answer.moderated",
                    # bulk catalogue import and price/stock edits (catalog.bulk)
                    "products.changed",
                    # a shop's home page: published decoration, the seller's own categories
                    "shop_page.published", "shop_category.changed")


class StorefrontConfig(AppConfig):
    name = "shopyard.storefront"
    label = "storefront"
    verbose_name = _("Storefront")

    def ready(self):
        from shopyard.core.events import subscribe

        from .page_cache import bump

        for name in CATALOGUE_EVENTS:
            subscribe(name, bump, key="storefront.page_cache")
        from .services import on_category_changed, on_category_slug_changed, on_shop_slug_changed

        # old slugs answer with a 301 (docs/seo.md)
        subscribe("shop_slug.changed", on_shop_slug_changed, key="storefront.shop_slug_history")
        subscribe("category_slug.changed", on_category_slug_changed, key="storefront.category_slug_history")
        subscribe("category.changed", on_category_changed, key="storefront.category_tree")
