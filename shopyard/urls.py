from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.static import serve

from shopyard.accounts.views import admin_login
from shopyard.api import api

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    # before admin.site.urls: the admin's login with the throttle's 429 (the
    # throttle itself is in the authentication backend, on every path)
    path("admin/login/", admin_login, name="admin_login_throttled"),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("accounts/", include("shopyard.accounts.urls")),
    path("pay/", include("shopyard.payments.urls")),
    path("disputes/", include("shopyard.aftersales.urls")),
    path("console/", include("shopyard.console.urls")),
    path("messages/", include("shopyard.notifications.urls")),
    path("s/", include("shopyard.channels.urls")),  # campaign short links
    path("service/", include("shopyard.service.urls")),
    path("", include("shopyard.operations.urls")),  # /health/live, /health/ready, the metrics path
    path("settlement/", include("shopyard.settlement.urls")),
    path("", include("shopyard.storefront.urls")),
]
# a database outage answers a plain 503 page, anything else Django's 500 page
handler500 = "shopyard.core.unavailable.server_error"


def media(request, path):
    """Uploaded files, from MEDIA_ROOT as it is now (read per request, so a
    changed MEDIA_ROOT, as in tests, is served rather than the one at import)."""
    return serve(request, path, document_root=settings.MEDIA_ROOT)


if settings.SERVE_MEDIA:
    urlpatterns += [re_path(r"^media/(?P<path>.*)$", media)]
