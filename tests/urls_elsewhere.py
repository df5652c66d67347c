"""A URLconf with the storefront under another path (tests/test_url_shapes.py)."""

from django.urls import include, path

urlpatterns = [path("elsewhere/", include("shopyard.storefront.urls"))]
