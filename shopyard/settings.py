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
SECRET_KEY = env("SHOPYARD_SECRET_KEY", "insecure-dev-key-change-me-in-production-0123456789")
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
    "ninja",
    "shopyard.core",
    "shopyard.accounts",
    "shopyard.shops",
    "shopyard.catalog",
    "shopyard.inventory",
    "shopyard.cart",
    "shopyard.checkout",
    "shopyard.orders",
    "shopyard.payments",
    "shopyard.shipping",
    "shopyard.storefront",
    "shopyard.console",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "shopyard.core.middleware.BodySizeLimitMiddleware",
    "shopyard.core.middleware.NulByteMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "shopyard.urls"
WSGI_APPLICATION = "shopyard.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
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
        },
    }
]

# --- database -------------------------------------------------------------
SQLITE_PATH = SHOPYARD_HOME / "shopyard.sqlite3"
DATABASE_URL = env("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(
        DATABASE_URL, conn_max_age=int(env("DB_CONN_MAX_AGE", "60")), conn_health_checks=True
    )}
else:
    SHOPYARD_HOME.mkdir(parents=True, exist_ok=True)  # SQLite cannot create its own folder
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
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
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- cache, sessions ------------------------------------------------------
REDIS_URL = env("REDIS_URL", "")
REDIS_KEY_PREFIX = env("REDIS_KEY_PREFIX", "shopyard")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": REDIS_KEY_PREFIX,
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
SESSION_ENGINE = "django.contrib.sessions.backends.db"

# --- celery ---------------------------------------------------------------
BROKER_URL = env("BROKER_URL", "")
CELERY_BROKER_URL = BROKER_URL or "memory://"
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", REDIS_URL or None)
CELERY_TASK_ALWAYS_EAGER = not BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_QUEUE", "shopyard")
CELERY_BEAT_SCHEDULE = {
    "run-periodic": {"task": "shopyard.core.tasks.run_periodic", "schedule": 60.0},
}

# --- i18n -----------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
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
MAX_PAGE_SIZE = 100
PAGE_CACHE_SECONDS = int(env("SHOPYARD_PAGE_CACHE_SECONDS", "30"))
MAX_LINE_QUANTITY = 999
LOGIN_MAX_FAILURES = int(env("SHOPYARD_LOGIN_MAX_FAILURES", "5"))
LOGIN_LOCKOUT_SECONDS = int(env("SHOPYARD_LOGIN_LOCKOUT_SECONDS", "900"))

# --- business defaults ----------------------------------------------------
DEFAULT_CURRENCY = env("SHOPYARD_CURRENCY", "CNY")
UNPAID_ORDER_TIMEOUT_MINUTES = int(env("SHOPYARD_UNPAID_TIMEOUT_MINUTES", "30"))
PAYMENT_SIM_SECRET = env("SHOPYARD_PAYMENT_SIM_SECRET", "sim-gateway-secret-change-me")
PAYMENT_CALLBACK_MAX_AGE_SECONDS = int(env("SHOPYARD_CALLBACK_MAX_AGE", "300"))

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

SECURE_CONTENT_TYPE_NOSNIFF = True
# behind an HTTPS-terminating proxy: trust its header and keep cookies HTTPS-only
if env_bool("SHOPYARD_HTTPS", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {
        "shopyard": {"handlers": ["console"], "level": env("SHOPYARD_LOG_LEVEL", "INFO")},
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
    },
}
