"""Deployment checks for the login throttle's view of client addresses."""

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def trusted_proxies(app_configs, **kwargs):
    """Behind an HTTPS-terminating proxy (SHOPYARD_HTTPS=1) with no trusted
    proxy counted, every client has the proxy's address: one client's failed
    logins then make the whole site wait."""
    if getattr(settings, "SECURE_PROXY_SSL_HEADER", None) and settings.TRUSTED_PROXY_COUNT == 0:
        return [Warning(
            "SHOPYARD_HTTPS is on but SHOPYARD_TRUSTED_PROXY_COUNT is 0: login throttling and the sign-up "
            "limit will see every client as the proxy's address.",
            hint="Set SHOPYARD_TRUSTED_PROXY_COUNT to the number of proxies that append to "
            "X-Forwarded-For (1 for nginx alone); see docs/operations.md, 'Behind a reverse proxy'.",
            id="shopyard.accounts.W001",
        )]
    return []
