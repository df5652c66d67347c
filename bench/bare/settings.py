"""Settings for the bare project: no middleware, no templates, one app, the same
database the benchmarks use (DATABASE_URL, else SQLite in BARE_SQLITE_PATH)."""

import os

import dj_database_url

SECRET_KEY = "bench-only"
DEBUG = False
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS = ["bare"]
MIDDLEWARE = []
ROOT_URLCONF = "bare.urls"
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
if os.environ.get("DATABASE_URL"):
    DATABASES = {"default": dj_database_url.parse(os.environ["DATABASE_URL"], conn_max_age=600)}
else:
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": os.environ["BARE_SQLITE_PATH"],
                             "CONN_MAX_AGE": 600,
                             "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20,
                                         "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"}}}
