"""System checks that keep production off the unsafe defaults.

Production is any run with SHOPYARD_DEBUG=0 that is not the demo
(SHOPYARD_DEMO=1, set by `shopyard demo`). There the built-in development
SECRET_KEY, and the development payment-simulator secret while the simulated
gateway is enabled, are errors: `manage.py check --deploy` reports them, and
`refuse_unsafe_defaults()` stops the WSGI application and `shopyard serve`
from starting at all. A cache that is each process's own memory is a warning
there: several workers would disagree about the catalogue and the login throttle.
"""

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured


def _production() -> bool:
    return not settings.DEBUG and not settings.DEMO_MODE


@checks.register(checks.Tags.security, deploy=True)
def check_secrets(app_configs=None, **kwargs):
    if not _production():
        return []
    errors = []
    if settings.SECRET_KEY == settings.DEV_SECRET_KEY:
        errors.append(checks.Error(
            "SHOPYARD_SECRET_KEY is the built-in development key: anyone can forge sessions and tokens.",
            hint="Set SHOPYARD_SECRET_KEY to a long random value (python -c 'import secrets; "
                 "print(secrets.token_urlsafe(50))'), or SHOPYARD_DEMO=1 for a demo.",
            id="shopyard.E001",
        ))
    if settings.SIMULATED_GATEWAY and settings.PAYMENT_SIM_SECRET == settings.DEV_PAYMENT_SIM_SECRET:
        errors.append(checks.Error(
            "The simulated gateway is enabled with the built-in SHOPYARD_PAYMENT_SIM_SECRET: "
            "anyone can sign a payment notification.",
            hint="Set SHOPYARD_PAYMENT_SIM_SECRET to a random value, or turn the simulated gateway off "
                 "(unset SHOPYARD_SIMULATED_GATEWAY).",
            id="shopyard.E002",
        ))
    if settings.ALIPAY_APP_ID and settings.ALIPAY_SANDBOX:
        errors.append(checks.Error(
            "Alipay is configured in sandbox mode: sandbox payments (no real money) would mark orders paid.",
            hint="Unset SHOPYARD_ALIPAY_SANDBOX in production, or SHOPYARD_DEMO=1 for a demo.",
            id="shopyard.E010",
        ))
    if settings.WECHATPAY_MCH_ID and not settings.WECHATPAY_API_BASE.startswith("https://"):
        errors.append(checks.Error(
            "SHOPYARD_WECHATPAY_API_BASE is not HTTPS: payment calls and answers would travel in clear.",
            hint="Unset SHOPYARD_WECHATPAY_API_BASE in production (the live API is the default).",
            id="shopyard.E011",
        ))
    return errors


@checks.register(checks.Tags.security, deploy=True)
def check_simulated_gateway(app_configs=None, **kwargs):
    if _production() and settings.SIMULATED_GATEWAY:
        return [checks.Warning(
            "The simulated gateway is enabled: its page marks orders paid without taking money.",
            hint="Unset SHOPYARD_SIMULATED_GATEWAY in production (keep it for demos and tests).",
            id="shopyard.W003",
        )]
    return []


@checks.register(checks.Tags.caches, deploy=True)
def check_shared_cache(app_configs=None, **kwargs):
    """Without Redis each process has a cache of its own. Everything that must agree across
    processes goes through the cache: the catalogue version that retires cached pages and kept
    rows at an edit, the login throttle's counts. One gunicorn worker bumps the version in its
    own memory, and the others keep serving the old price or stock text until their entries
    expire; each worker counts failed logins apart, so an attacker gets one allowance per worker."""
    if _production() and settings.CACHES["default"]["BACKEND"].endswith("LocMemCache"):
        longest = max(settings.PAGE_CACHE_SECONDS, settings.FRAGMENT_CACHE_SECONDS, settings.API_CACHE_SECONDS)
        return [checks.Warning(
            "The cache is each process's own memory (REDIS_URL is unset): with several worker processes "
            f"a catalogue edit reaches only the worker that made it, the others show the old pages for up to "
            f"{longest} s, and each worker counts failed logins on its own.",
            hint="Set REDIS_URL (docs/operations.md, Redis); a single worker process (gunicorn -w 1 "
                 "--threads N) is consistent without it.",
            id="shopyard.W004",
        )]
    return []


def refuse_unsafe_defaults() -> None:
    """Raise ImproperlyConfigured (with every reason) when production runs on a development secret."""
    errors = check_secrets()
    if errors:
        lines = "\n".join(f"  {e.id}: {e.msg}\n    {e.hint}" for e in errors)
        raise ImproperlyConfigured(f"Shopyard refuses to start with unsafe defaults:\n{lines}")
