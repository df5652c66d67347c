from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "shopyard.accounts"
    label = "accounts"
    verbose_name = _("Accounts")

    def ready(self):
        from shopyard.core.periodic import register

        from . import checks  # noqa: F401 - registers the deployment check
        from .services import purge_expired_tokens

        register("purged_expired_api_tokens", purge_expired_tokens)
