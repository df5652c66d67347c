from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemoConfig(AppConfig):
    """The demo marketplace and the benchmark catalogue: data and loaders that
    use every business app, kept out of `core` so that `core` depends on none."""

    name = "shopyard.demo"
    label = "demo"
    verbose_name = _("Demo data")
