from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "shopyard.accounts"
    label = "accounts"
    verbose_name = _("Accounts")

    def ready(self):
        from shopyard.core.events import subscribe
        from shopyard.core.periodic import register

        from . import checks  # noqa: F401 - registers the deployment check
        from .password_reset import send_reset_email
        from .services import purge_expired_tokens
        from .sessions import purge_stale_sessions

        register("purged_expired_api_tokens", purge_expired_tokens)
        register("purged_stale_user_sessions", purge_stale_sessions)
        subscribe("password_reset.requested", send_reset_email, key="accounts.send_password_reset_email")
