from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CatalogConfig(AppConfig):
    name = "shopyard.catalog"
    label = "catalog"
    verbose_name = _("Catalog")

    def ready(self):
        from shopyard.core.events import subscribe
        from shopyard.core.periodic import register

        from . import api_cache, services

        # the public API's kept bodies and counts follow catalogue edits at once
        for name in api_cache.EVENTS:
            subscribe(name, api_cache.bump, key="catalog.api_cache")
        # the listings' kept counts, repaired where a write bypassed the services
        register("rebuilt_category_counts", services.rebuild_category_counts_periodically)
