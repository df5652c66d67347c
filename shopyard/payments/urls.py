from functools import wraps

from django.conf import settings
from django.http import Http404
from django.urls import path

from . import views

app_name = "payments"


def simulated_gateway_only(view):
    """The simulated gateway's page exists only where it is enabled (SHOPYARD_SIMULATED_GATEWAY=1)."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not settings.SIMULATED_GATEWAY:
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper


urlpatterns = [
    path("sim/<str:reference>/", simulated_gateway_only(views.simulated_gateway), name="simulated"),
    path("return/<str:reference>/", views.payment_return, name="return"),
    path("pay/<str:reference>/", views.choose, name="choose"),
    path("go/<str:reference>/", views.go, name="go"),
    path("notify/<str:gateway>/", views.notify, name="notify"),
    path("notify/<str:gateway>/refund/", views.refund_notify, name="refund_notify"),
    path("gateways/", views.gateway_status, name="gateway_status"),
    path("reconciliation/", views.reconciliation, name="reconciliation"),
    path("reconciliation/<id:pk>/", views.reconciliation_detail, name="reconciliation_detail"),
]
