from django.conf import settings
from django.urls import path

from . import health, metrics

urlpatterns = [
    path("health/live", health.liveness, name="health_live"),
    path("health/ready", health.readiness, name="health_ready"),
    path(settings.METRICS_PATH, metrics.metrics, name="metrics"),
]
