from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SearchConfig(AppConfig):
    name = "shopyard.search"
    label = "search"
    verbose_name = _("Search")

    def ready(self):
        from shopyard.core.events import subscribe
        from shopyard.core.periodic import register

        from . import services

        for name in services.PRODUCT_EVENTS:
            subscribe(name, services.on_product_event, key="search.product")
        for name in services.SHOP_EVENTS:
            subscribe(name, services.on_shop_event, key="search.shop")
        for name in services.STOCK_EVENTS:
            subscribe(name, services.on_stock_event, key="search.stock")
        for name in services.BATCH_EVENTS:
            subscribe(name, services.on_products_event, key="search.products")
        for name in services.REVIEW_EVENTS:
            subscribe(name, services.on_review_event, key="search.review")
        register("refreshed_search_signals", services.refresh_signals)
