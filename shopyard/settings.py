"""Shopyard settings: everything comes from environment variables (12-factor).

The embedded defaults (SQLite under $SHOPYARD_HOME, local-memory cache, eager
Celery) let a fresh machine run the demo and the tests with nothing else
installed; production sets DATABASE_URL, REDIS_URL and BROKER_URL.
"""

import os
import warnings
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _


def env(name, default=None):
    return os.environ.get(name, default)


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


BASE_DIR = Path(__file__).resolve().parent
SHOPYARD_HOME = Path(env("SHOPYARD_HOME", str(Path.cwd() / "var"))).resolve()

DEBUG = env_bool("SHOPYARD_DEBUG", False)
# the built-in development secrets: production refuses them (core/checks.py) unless
# SHOPYARD_DEBUG=1 or SHOPYARD_DEMO=1 says this is not production
DEV_SECRET_KEY = "insecure-dev-key-change-me-in-production-0123456789"
DEV_PAYMENT_SIM_SECRET = "sim-gateway-secret-change-me"
DEMO_MODE = env_bool("SHOPYARD_DEMO", False)
SECRET_KEY = env("SHOPYARD_SECRET_KEY", DEV_SECRET_KEY)
ALLOWED_HOSTS = [h for h in env("SHOPYARD_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o for o in env("SHOPYARD_CSRF_TRUSTED_ORIGINS", "").split(",") if o]
BASE_URL = env("SHOPYARD_BASE_URL", "http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.sitemaps",
    "ninja",
    "shopyard.core",
    "shopyard.accounts",
    "shopyard.shops",
    "shopyard.catalog",
    "shopyard.inventory",
    "shopyard.cart",
    "shopyard.promotions",
    "shopyard.checkout",
    "shopyard.orders",
    "shopyard.payments",
    "shopyard.shipping",
    "shopyard.notifications",
    "shopyard.reviews",
    "shopyard.channels",
    "shopyard.aftersales",
    "shopyard.service",
    "shopyard.settlement",
    "shopyard.search",
    "shopyard.storefront",
    "shopyard.console",
    "shopyard.demo",
    "django_prometheus",
    "shopyard.operations",
    "shopyard.analytics",
    "shopyard.recommendations",
]

MIDDLEWARE = [
    # first: the request id is bound before anything else logs, and every response is counted
    "shopyard.core.middleware.RequestLogMiddleware",
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "shopyard.core.middleware.BodySizeLimitMiddleware",
    "shopyard.core.middleware.NulByteMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "shopyard.accounts.middleware.SessionTrackingMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # after auth: a tagged visit records a channel touch once the response is sent
    "shopyard.channels.middleware.ChannelTouchMiddleware",
    # after auth: behaviour events a page recorded are written once the response is sent
    "shopyard.analytics.middleware.BehaviourMiddleware",
    # last: latency and status by view (django-prometheus)
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]
# what the slim handler leaves out for a cookieless API call (core/slim_path.py: the flash-sale
# buy endpoint's, promotions/flash_gate.py, and the anonymous catalogue reads', catalog/slim_path.py):
# each needs a cookie, a page or a static path
SLIM_PATH_SKIPPED_MIDDLEWARE = [
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "shopyard.accounts.middleware.SessionTrackingMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "shopyard.channels.middleware.ChannelTouchMiddleware",
    "shopyard.analytics.middleware.BehaviourMiddleware",
]

ROOT_URLCONF = "shopyard.urls"
WSGI_APPLICATION = "shopyard.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
# how core's API bearer auth turns a token into an API token row (core imports no business app)
API_TOKEN_AUTHENTICATOR = "shopyard.accounts.services.token_for_key"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "storefront:home"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "shopyard.storefront.context_processors.storefront",
            ],
            # `{% url %}` through kept URL shapes (core/url_shapes.py says why)
            "builtins": ["shopyard.core.templatetags.kept_url"],
        },
    },
    {
        # the storefront's hot templates (shopyard/storefront/jinja_env.py says why); found only under jinja2/
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {"environment": "shopyard.storefront.jinja_env.environment"},
    },
]

# --- database -------------------------------------------------------------
SQLITE_PATH = SHOPYARD_HOME / "shopyard.sqlite3"
DATABASE_URL = env("DATABASE_URL", "")
# PostgreSQL: parameters bound by the server, and a statement run five times on a connection
# kept prepared there (psycopg's prepare_threshold), so the server stops parsing and planning
# the same catalogue reads: a product's API detail cost PostgreSQL 0.88 ms of CPU, 0.27 ms
# prepared (docs/performance.md). A pooler in transaction mode (PgBouncer before 1.21, or
# without max_prepared_statements) cannot keep prepared statements: DB_SERVER_SIDE_BINDING=0.
_SERVER_SIDE_BINDING = (
    {"server_side_binding": True, "prepare_threshold": 5} if env("DB_SERVER_SIDE_BINDING", "1") != "0" else {}
)
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(
        DATABASE_URL, conn_max_age=int(env("DB_CONN_MAX_AGE", "60")), conn_health_checks=True
    )}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # query counts and times for the metrics page (django-prometheus wraps Django's backend)
        DATABASES["default"]["ENGINE"] = "shopyard.core.db_backends.postgresql"
        # an unreachable server fails the request (503) within this time instead of hanging
        DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
            "connect_timeout", int(env("DB_CONNECT_TIMEOUT", "5")))
        DATABASES["default"]["OPTIONS"].update(_SERVER_SIDE_BINDING)
else:
    SHOPYARD_HOME.mkdir(parents=True, exist_ok=True)  # SQLite cannot create its own folder
    DATABASES = {
        "default": {
            "ENGINE": "shopyard.core.db_backends.sqlite3",
            "NAME": str(SQLITE_PATH),
            # IMMEDIATE transactions take the write lock up front, so two writers
            # queue on the busy timeout instead of deadlocking on lock upgrade.
            "OPTIONS": {
                "timeout": 30,
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
            # keep the connection (and its PRAGMAs) across requests, as for PostgreSQL
            "CONN_MAX_AGE": int(env("DB_CONN_MAX_AGE", "60")),
            "CONN_HEALTH_CHECKS": True,
            # Tests use a file (not shared-cache memory) so real threads can race.
            "TEST": {"NAME": env("SHOPYARD_TEST_SQLITE", str(SHOPYARD_HOME / "test-shopyard.sqlite3"))},
        }
    }
# read replicas (docs/operations.md, "Read replicas"): catalogue reads may go to these;
# without DATABASE_REPLICA_URLS there is no router and everything uses "default"
REPLICA_DATABASES = []
for _n, _url in enumerate(u.strip() for u in env("DATABASE_REPLICA_URLS", "").split(",") if u.strip()):
    _replica = dj_database_url.parse(
        _url, conn_max_age=int(env("DB_CONN_MAX_AGE", "60")), conn_health_checks=True)
    _replica["ENGINE"] = "shopyard.core.db_backends.postgresql"
    _replica.setdefault("OPTIONS", {}).setdefault("connect_timeout", int(env("DB_CONNECT_TIMEOUT", "5")))
    _replica["OPTIONS"].update(_SERVER_SIDE_BINDING)
    _replica["TEST"] = {"MIRROR": "default"}  # tests read the test database through it
    DATABASES[f"replica{_n + 1}"] = _replica
    REPLICA_DATABASES.append(f"replica{_n + 1}")
if REPLICA_DATABASES:
    DATABASE_ROUTERS = ["shopyard.core.replicas.ReplicaRouter"]
    # outside the session middleware, so a session saved on the way out counts as a write
    MIDDLEWARE.insert(1, "shopyard.core.replicas.PinMiddleware")
# after a write, the visitor reads from the primary for this long (a cookie, core/replicas.py)
REPLICA_PIN_SECONDS = int(env("SHOPYARD_REPLICA_PIN_SECONDS", "10"))
# a replica that cannot be connected to is skipped this long (its catalogue reads go to the primary)
REPLICA_RETRY_SECONDS = int(env("SHOPYARD_REPLICA_RETRY_SECONDS", "10"))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- cache, sessions ------------------------------------------------------
REDIS_URL = env("REDIS_URL", "")
REDIS_KEY_PREFIX = env("REDIS_KEY_PREFIX", "shopyard")
if REDIS_URL:
    CACHES = {
        "default": {
            # Django's RedisCache that reads as empty while Redis is unreachable (core/cache.py)
            "BACKEND": "shopyard.core.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": REDIS_KEY_PREFIX,
            "OPTIONS": {
                "socket_connect_timeout": float(env("REDIS_TIMEOUT_SECONDS", "1")),
                "socket_timeout": float(env("REDIS_TIMEOUT_SECONDS", "1")),
            },
        }
    }
else:
    # local memory, with hit and miss counters (core/cache.py). Django's default of 300 entries
    # is fewer than one listing page's product cards times the pages a shopper browses: the
    # kept fragments were culled before they were read again (docs/performance.md, "Stop 21")
    CACHES = {"default": {"BACKEND": "shopyard.core.cache.CountedLocMemCache",
                          "OPTIONS": {"MAX_ENTRIES": int(env("SHOPYARD_LOCAL_CACHE_ENTRIES", "20000"))}}}
SESSION_ENGINE = "django.contrib.sessions.backends.db"
# a logged-in session's "last active" time and an API token's "last used" time
# (accounts.sessions.touch_due) are written at most this often
SESSION_TOUCH_SECONDS = int(env("SHOPYARD_SESSION_TOUCH_SECONDS", "300"))

# --- celery ---------------------------------------------------------------
BROKER_URL = env("BROKER_URL", "")
# without a broker tasks run eagerly; Celery still takes a producer from its pool, whose
# in-memory connection logged "No hostname was supplied" in every process without a host
CELERY_BROKER_URL = BROKER_URL or "memory://localhost/"
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", REDIS_URL or None)
CELERY_TASK_ALWAYS_EAGER = not BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_QUEUE", "shopyard")
PERIODIC_INTERVAL_SECONDS = float(env("SHOPYARD_PERIODIC_INTERVAL", "60"))
CELERY_BEAT_SCHEDULE = {
    "run-periodic": {"task": "shopyard.core.tasks.run_periodic", "schedule": PERIODIC_INTERVAL_SECONDS},
}
# event delivery: a failing subscriber is retried after base × 2^(n-1) seconds
# (capped), and parked as a dead letter after the last attempt
EVENT_MAX_ATTEMPTS = int(env("SHOPYARD_EVENT_MAX_ATTEMPTS", "8"))
EVENT_RETRY_BASE_SECONDS = int(env("SHOPYARD_EVENT_RETRY_BASE_SECONDS", "30"))
EVENT_RETRY_MAX_SECONDS = int(env("SHOPYARD_EVENT_RETRY_MAX_SECONDS", "3600"))
# without a broker: the events committed by a worker's requests are delivered together, in one
# transaction, once it holds this many or this long after the first (core/events.py)
EVENT_DISPATCH_BATCH = max(1, int(env("SHOPYARD_EVENT_DISPATCH_BATCH", "16")))
EVENT_DISPATCH_SECONDS = float(env("SHOPYARD_EVENT_DISPATCH_SECONDS", "0.5"))
# how long settled outbox events and idempotency records are kept (core.retention)
EVENT_KEEP_DAYS = max(1, int(env("SHOPYARD_EVENT_KEEP_DAYS", "30")))
IDEMPOTENCY_KEEP_DAYS = max(1, int(env("SHOPYARD_IDEMPOTENCY_KEEP_DAYS", "7")))

# --- parcels and tracking (docs/shipping.md, "Parcels and tracking") ----------
# a delivered order is confirmed received this many days after delivery (periodic job)
AUTO_CONFIRM_DAYS = int(env("SHOPYARD_AUTO_CONFIRM_DAYS", "10"))
# days after an order is completed in which its lines may be reviewed, and followed up (追评)
REVIEW_WINDOW_DAYS = int(env("SHOPYARD_REVIEW_WINDOW_DAYS", "15"))
FOLLOW_UP_WINDOW_DAYS = int(env("SHOPYARD_FOLLOW_UP_WINDOW_DAYS", "180"))
# after-sales defaults (a shop's policy overrides each): the windows a case may be opened in,
# counted from receipt (price protection: from payment), and the deadlines of each side
AFTERSALES_WINDOW_DAYS = {
    "changed_mind": int(env("SHOPYARD_AFTERSALES_CHANGED_MIND_DAYS", "7")),
    "quality": int(env("SHOPYARD_AFTERSALES_QUALITY_DAYS", "15")),
    "warranty": int(env("SHOPYARD_AFTERSALES_WARRANTY_DAYS", "30")),
    "price_protection": int(env("SHOPYARD_AFTERSALES_PRICE_PROTECTION_DAYS", "7")),
}
AFTERSALES_RESPOND_HOURS = int(env("SHOPYARD_AFTERSALES_RESPOND_HOURS", "48"))
AFTERSALES_RETURN_SHIP_DAYS = int(env("SHOPYARD_AFTERSALES_RETURN_SHIP_DAYS", "7"))
AFTERSALES_INSPECT_DAYS = int(env("SHOPYARD_AFTERSALES_INSPECT_DAYS", "7"))
# the carrier adapter every carrier's tracking goes through (shipping.carriers.ADAPTERS)
TRACKING_ADAPTER = env("SHOPYARD_TRACKING_ADAPTER", "simulated")
# per adapter: the secret its tracking pushes are signed with (HMAC-SHA256)
CARRIER_WEBHOOK_SECRETS = {"simulated": env("SHOPYARD_SIMULATED_CARRIER_SECRET", "dev-simulated-carrier-secret")}
# a push whose timestamp is further than this from now is refused (replay window)
CARRIER_WEBHOOK_TOLERANCE_SECONDS = int(env("SHOPYARD_CARRIER_WEBHOOK_TOLERANCE", "300"))
# --- notifications and webhooks (docs/notifications.md) ---------------------
SMS_PROVIDER = env("SHOPYARD_SMS_PROVIDER", "shopyard.notifications.sms.ConsoleProvider")
WEBHOOK_MAX_ATTEMPTS = int(env("SHOPYARD_WEBHOOK_MAX_ATTEMPTS", "10"))
WEBHOOK_RETRY_BASE_SECONDS = float(env("SHOPYARD_WEBHOOK_RETRY_BASE_SECONDS", "30"))
WEBHOOK_RETRY_MAX_SECONDS = float(env("SHOPYARD_WEBHOOK_RETRY_MAX_SECONDS", "21600"))
WEBHOOK_TIMEOUT_SECONDS = float(env("SHOPYARD_WEBHOOK_TIMEOUT_SECONDS", "5"))
# private, loopback and link-local targets are refused unless allowed (development, tests)
WEBHOOK_ALLOW_PRIVATE_TARGETS = env_bool("SHOPYARD_WEBHOOK_ALLOW_PRIVATE_TARGETS", DEBUG)

# --- i18n -----------------------------------------------------------------
# Chinese for the site's users; English from the switcher or the browser's Accept-Language
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = env("SHOPYARD_TIME_ZONE", "Asia/Shanghai")
USE_TZ = True

# --- files ----------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = SHOPYARD_HOME / "static"
# whitenoise serves static files from the app directories without collectstatic
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
warnings.filterwarnings("ignore", message="No directory at")
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env("SHOPYARD_MEDIA_ROOT", str(SHOPYARD_HOME / "media")))
SERVE_MEDIA = env_bool("SHOPYARD_SERVE_MEDIA", True)

# --- limits ---------------------------------------------------------------
DATA_UPLOAD_MAX_MEMORY_SIZE = int(env("SHOPYARD_MAX_BODY_BYTES", str(1024 * 1024)))
MAX_REQUEST_BODY_BYTES = DATA_UPLOAD_MAX_MEMORY_SIZE
MAX_UPLOAD_BYTES = int(env("SHOPYARD_MAX_UPLOAD_BYTES", str(5 * 1024 * 1024)))
FILE_UPLOAD_MAX_MEMORY_SIZE = MAX_UPLOAD_BYTES
DATA_UPLOAD_MAX_NUMBER_FIELDS = 5000  # a 200-SKU product form has ~1,600 fields
MAX_PAGE_SIZE = int(env("SHOPYARD_MAX_PAGE_SIZE", "100"))  # API listings never return more per page
PAGE_CACHE_SECONDS = int(env("SHOPYARD_PAGE_CACHE_SECONDS", "30"))
# behaviour events (analytics) a process keeps and writes with one INSERT: at this many, or this
# many seconds after the first; 0 seconds writes each request's events once its response is sent
BEHAVIOUR_BATCH_EVENTS = max(1, int(env("SHOPYARD_BEHAVIOUR_BATCH_EVENTS", "64")))
BEHAVIOUR_BATCH_SECONDS = float(env("SHOPYARD_BEHAVIOUR_BATCH_SECONDS", "2"))
# anonymous catalogue API reads: how long clients may keep them (Cache-Control max-age), and how long
# the server keeps an assembled body per catalogue version (0: assembled on every request); docs/performance.md
API_MAX_AGE_SECONDS = int(env("SHOPYARD_API_MAX_AGE_SECONDS", "10"))
API_CACHE_SECONDS = int(env("SHOPYARD_API_CACHE_SECONDS", "30"))
# catalogue rows and listing counts kept per catalogue version (storefront.fragments); 0 turns it off
FRAGMENT_CACHE_SECONDS = int(env("SHOPYARD_FRAGMENT_CACHE_SECONDS", "30"))
LOW_STOCK_THRESHOLD = int(env("SHOPYARD_LOW_STOCK_THRESHOLD", "5"))  # console dashboard: SKUs at or under this
# the commission (percent of what the shopper paid) for lines no category or shop rate covers
SETTLEMENT_DEFAULT_COMMISSION_RATE = env("SHOPYARD_DEFAULT_COMMISSION_RATE", "5")
MAX_LINE_QUANTITY = 999

# --- login throttle, sign-up limit, API tokens (accounts) -------------------
# Every password check goes through this backend's throttle (accounts.services.
# check_credentials); do not add ModelBackend beside it, it would bypass it.
AUTHENTICATION_BACKENDS = ["shopyard.accounts.backends.ThrottledModelBackend"]
# reverse proxies in front of the app that append to X-Forwarded-For; 0 = use
# the socket address only and never read a client-supplied header
TRUSTED_PROXY_COUNT = int(env("SHOPYARD_TRUSTED_PROXY_COUNT", "0"))
LOGIN_MAX_FAILURES = int(env("SHOPYARD_LOGIN_MAX_FAILURES", "5"))  # per account and client address
LOGIN_CLIENT_MAX_FAILURES = int(env("SHOPYARD_LOGIN_CLIENT_MAX_FAILURES", "20"))  # per client, any accounts
LOGIN_DELAY_SECONDS = int(env("SHOPYARD_LOGIN_DELAY_SECONDS", "30"))  # first wait, doubled per failure
LOGIN_MAX_DELAY_SECONDS = int(env("SHOPYARD_LOGIN_MAX_DELAY_SECONDS", "3600"))
LOGIN_FAILURE_MEMORY_SECONDS = int(env("SHOPYARD_LOGIN_FAILURE_MEMORY_SECONDS", "86400"))
REGISTRATIONS_PER_CLIENT = int(env("SHOPYARD_REGISTRATIONS_PER_CLIENT", "10"))
REGISTRATION_WINDOW_SECONDS = int(env("SHOPYARD_REGISTRATION_WINDOW_SECONDS", "3600"))
API_TOKEN_DAYS = int(env("SHOPYARD_API_TOKEN_DAYS", "30"))

# --- forgotten passwords and e-mail (accounts.password_reset) ----------------
# a reset link works once and for this many hours; requests are limited per
# client and per e-mail address in each window
PASSWORD_RESET_TIMEOUT = int(float(env("SHOPYARD_PASSWORD_RESET_HOURS", "2")) * 3600)
PASSWORD_RESETS_PER_CLIENT = int(env("SHOPYARD_PASSWORD_RESETS_PER_CLIENT", "10"))
PASSWORD_RESETS_PER_ADDRESS = int(env("SHOPYARD_PASSWORD_RESETS_PER_ADDRESS", "3"))
PASSWORD_RESET_WINDOW_SECONDS = int(env("SHOPYARD_PASSWORD_RESET_WINDOW_SECONDS", "3600"))
# e-mail: printed to the console unless an SMTP host is configured
EMAIL_HOST = env("SHOPYARD_EMAIL_HOST", "")
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend" if EMAIL_HOST else "django.core.mail.backends.console.EmailBackend"
)
EMAIL_PORT = int(env("SHOPYARD_EMAIL_PORT", "587"))
EMAIL_HOST_USER = env("SHOPYARD_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = env("SHOPYARD_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = env_bool("SHOPYARD_EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("SHOPYARD_EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = int(env("SHOPYARD_EMAIL_TIMEOUT", "10"))
DEFAULT_FROM_EMAIL = env("SHOPYARD_DEFAULT_FROM_EMAIL", "Shopyard <no-reply@localhost>")

# --- business defaults ----------------------------------------------------
UNPAID_ORDER_TIMEOUT_MINUTES = int(env("SHOPYARD_UNPAID_TIMEOUT_MINUTES", "30"))

# Customer service (docs/service.md): questions, answers, chat and ticket messages one user
# may write per minute (service/limits.py)
SERVICE_WRITES_PER_MINUTE = int(env("SHOPYARD_SERVICE_WRITES_PER_MINUTE", "30"))
# hours a ticket may wait for an agent, by priority, before the periodic job flags it and
# escalates a shop's ticket to the platform
SERVICE_SLA_HOURS = {
    "urgent": int(env("SHOPYARD_SLA_URGENT_HOURS", "4")),
    "high": int(env("SHOPYARD_SLA_HIGH_HOURS", "12")),
    "normal": int(env("SHOPYARD_SLA_NORMAL_HOURS", "24")),
    "low": int(env("SHOPYARD_SLA_LOW_HOURS", "72")),
}
# the complaint categories shoppers choose from (codes; labels in service/kinds.py)
SERVICE_TICKET_CATEGORIES = [
    code.strip() for code in env(
        "SHOPYARD_TICKET_CATEGORIES", "product,delivery,refund,seller_conduct,payment,account,other").split(",")
    if code.strip()
]
# the largest picture a shopper or agent may send in a conversation
SERVICE_IMAGE_MAX_BYTES = int(env("SHOPYARD_SERVICE_IMAGE_MAX_BYTES", str(2 * 1024 * 1024)))
# a flash-sale order left unpaid this long is cancelled and its unit returns to the flash stock
FLASH_UNPAID_TIMEOUT_MINUTES = int(env("SHOPYARD_FLASH_UNPAID_TIMEOUT_MINUTES", "5"))
PAYMENT_SIM_SECRET = env("SHOPYARD_PAYMENT_SIM_SECRET", DEV_PAYMENT_SIM_SECRET)
# the simulated gateway (its approval page and its callback) lets anyone "pay" without
# money: off unless explicitly enabled (`shopyard demo` and the tests turn it on)
SIMULATED_GATEWAY = env_bool("SHOPYARD_SIMULATED_GATEWAY", False)
PAYMENT_CALLBACK_MAX_AGE_SECONDS = int(env("SHOPYARD_CALLBACK_MAX_AGE", "300"))
# a payment still pending this long after it started is queried from its gateway
PAYMENT_QUERY_AFTER_MINUTES = int(env("SHOPYARD_PAYMENT_QUERY_AFTER_MINUTES", "5"))
# closed payments of a real gateway are still queried this long after they started (a capture
# the provider made before we closed them, whose notification was lost, is found and applied)
PAYMENT_QUERY_CLOSED_HOURS = int(env("SHOPYARD_PAYMENT_QUERY_CLOSED_HOURS", "24"))
# gateway refusals before an automatic refund is parked for an operator
REFUND_MAX_ATTEMPTS = int(env("SHOPYARD_REFUND_MAX_ATTEMPTS", "5"))
# the wait after a refused refund doubles from this, up to the cap (core.retries.REFUNDS)
REFUND_RETRY_BASE_SECONDS = int(env("SHOPYARD_REFUND_RETRY_BASE_SECONDS", "300"))
REFUND_RETRY_MAX_SECONDS = int(env("SHOPYARD_REFUND_RETRY_MAX_SECONDS", "21600"))
# real gateways (docs/payments.md): each is offered only when all its settings are set;
# keys are PEM files (paths), never values in the environment
GATEWAY_TIMEOUT_SECONDS = int(env("SHOPYARD_GATEWAY_TIMEOUT_SECONDS", "10"))
ALIPAY_APP_ID = env("SHOPYARD_ALIPAY_APP_ID", "")
ALIPAY_PRIVATE_KEY_PATH = env("SHOPYARD_ALIPAY_PRIVATE_KEY_PATH", "")  # our application private key
ALIPAY_PUBLIC_KEY_PATH = env("SHOPYARD_ALIPAY_PUBLIC_KEY_PATH", "")  # Alipay's public key
ALIPAY_SANDBOX = env_bool("SHOPYARD_ALIPAY_SANDBOX", False)
WECHATPAY_MCH_ID = env("SHOPYARD_WECHATPAY_MCH_ID", "")
WECHATPAY_APPID = env("SHOPYARD_WECHATPAY_APPID", "")
WECHATPAY_SERIAL_NO = env("SHOPYARD_WECHATPAY_SERIAL_NO", "")  # our merchant certificate's serial
WECHATPAY_PRIVATE_KEY_PATH = env("SHOPYARD_WECHATPAY_PRIVATE_KEY_PATH", "")
WECHATPAY_APIV3_KEY = env("SHOPYARD_WECHATPAY_APIV3_KEY", "")  # 32 characters
# the platform's signing key: its certificate, or its public key and that key's id
WECHATPAY_PLATFORM_CERT_PATH = env("SHOPYARD_WECHATPAY_PLATFORM_CERT_PATH", "")
WECHATPAY_PUBLIC_KEY_PATH = env("SHOPYARD_WECHATPAY_PUBLIC_KEY_PATH", "")
WECHATPAY_PUBLIC_KEY_ID = env("SHOPYARD_WECHATPAY_PUBLIC_KEY_ID", "")
# WeChat Pay v3 has no sandbox: this points the adapter at a test double
WECHATPAY_API_BASE = env("SHOPYARD_WECHATPAY_API_BASE", "https://api.mch.weixin.qq.com").rstrip("/")

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- security ---------------------------------------------------------------
# `manage.py check --deploy` is clean with SHOPYARD_HTTPS=1, SHOPYARD_SSL_REDIRECT=1,
# SHOPYARD_HSTS_SECONDS (e.g. 31536000), SHOPYARD_HSTS_INCLUDE_SUBDOMAINS=1,
# SHOPYARD_HSTS_PRELOAD=1 and a real SHOPYARD_SECRET_KEY (see docs/operations.md).
SECURE_CONTENT_TYPE_NOSNIFF = True
# behind an HTTPS-terminating proxy: trust its header and keep cookies HTTPS-only
if env_bool("SHOPYARD_HTTPS", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
SECURE_SSL_REDIRECT = env_bool("SHOPYARD_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = int(env("SHOPYARD_HSTS_SECONDS", "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SHOPYARD_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SHOPYARD_HSTS_PRELOAD", False)
X_FRAME_OPTIONS = "DENY"

# --- stock hoarding ---------------------------------------------------------
# an account may hold this many orders awaiting payment; one order (and one cart
# line) at most this many units of a SKU (never above MAX_LINE_QUANTITY)
MAX_UNPAID_ORDERS = int(env("SHOPYARD_MAX_UNPAID_ORDERS", "10"))
MAX_UNITS_PER_SKU = int(env("SHOPYARD_MAX_UNITS_PER_SKU", "50"))

# --- operations (docs/operations.md: health, logs, metrics, errors) -----------
# logs: one JSON object a line in production, readable text in the demo and with DEBUG;
# one line per request and per task (shopyard.requests, shopyard.tasks), off in the demo
LOG_FORMAT = env("SHOPYARD_LOG_FORMAT", "text" if (DEBUG or DEMO_MODE) else "json")
LOG_REQUESTS = env_bool("SHOPYARD_LOG_REQUESTS", not DEMO_MODE)
from shopyard.core.logs import configure_structlog, logging_config  # noqa: E402

configure_structlog()
LOGGING = logging_config(
    fmt=LOG_FORMAT, level=env("SHOPYARD_LOG_LEVEL", "INFO"), request_level="INFO" if LOG_REQUESTS else "WARNING",
)
# readiness (/health/ready): each check must answer within this many seconds
HEALTH_CHECK_TIMEOUT_SECONDS = float(env("SHOPYARD_HEALTH_TIMEOUT_SECONDS", "3"))
SECURE_REDIRECT_EXEMPT = [r"^health/"]  # a load balancer probes over plain HTTP
# Prometheus metrics: served at this path to a bearer token or to listed addresses only
METRICS_PATH = env("SHOPYARD_METRICS_PATH", "metrics").strip("/") or "metrics"
METRICS_TOKEN = env("SHOPYARD_METRICS_TOKEN", "")
METRICS_ALLOW = [a.strip() for a in env("SHOPYARD_METRICS_ALLOW", "").split(",") if a.strip()]
# several processes on one metrics page (docs/operations.md, "Several processes"): prometheus-client
# writes each process's values under this directory; a missing one failed at the first counter
# with a bare FileNotFoundError
PROMETHEUS_MULTIPROC_DIR = env("PROMETHEUS_MULTIPROC_DIR", "")
if PROMETHEUS_MULTIPROC_DIR and not Path(PROMETHEUS_MULTIPROC_DIR).is_dir():
    from django.core.exceptions import ImproperlyConfigured  # noqa: E402

    raise ImproperlyConfigured(
        f"PROMETHEUS_MULTIPROC_DIR is {PROMETHEUS_MULTIPROC_DIR!r}, which is not a directory: create it "
        "(writable by every web and worker process of this host), or unset it for one process")
# error reports: Sentry when SENTRY_DSN is set, personal data scrubbed (core/sentry.py)
SENTRY_DSN = env("SENTRY_DSN", "")
if SENTRY_DSN:
    from shopyard.core.sentry import init as init_sentry  # noqa: E402

    init_sentry(SENTRY_DSN, environment=env("SENTRY_ENVIRONMENT", "production"), release=env("SENTRY_RELEASE"))
