from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RecommendationsConfig(AppConfig):
    name = "shopyard.recommendations"
    label = "recommendations"
    verbose_name = _("Recommendations")

    def ready(self):
        from shopyard.core.periodic import register

        from . import services

        register("recomputed_recommendations", services.recompute_if_due)
