"""Ids a visitor makes up: an unknown or suspended shop has no public rating (404), as its
page has none."""

import pytest

from shopyard.shops.models import Shop

pytestmark = pytest.mark.django_db


def test_an_unknown_or_suspended_shops_rating_is_404(api, shop):
    assert api.get("/shops/99999/rating").status_code == 404
    Shop.objects.filter(pk=shop.pk).update(status=Shop.Status.SUSPENDED)
    assert api.get(f"/shops/{shop.pk}/rating").status_code == 404
