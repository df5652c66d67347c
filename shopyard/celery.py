import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shopyard.settings")

app = Celery("shopyard")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Task results kept in Redis carry the deployment's key prefix (as the Django
# cache keys do), so several deployments or CI runs can share one Redis.
app.conf.update(
    result_backend_transport_options={"global_keyprefix": f"{os.environ.get('REDIS_KEY_PREFIX', 'shopyard')}:"},
)
app.autodiscover_tasks()

# Django's LOGGING (one structured handler on the root) is the only logging
# setup: Celery adds no handler of its own, so no line is printed twice.
from celery.signals import setup_logging  # noqa: E402


@setup_logging.connect
def _use_django_logging(**_kwargs):
    import logging.config

    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)
