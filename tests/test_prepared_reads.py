"""A read compiled once (core.prepared) gives, for every id, what the ORM itself reads."""

import pytest
from django.http import Http404

from shopyard.catalog.models import Sku
from shopyard.catalog.queries import product_rows
from tests import factories as f


def test_each_product_gets_its_own_rows_from_the_kept_sql(shop):
    one = f.make_product(shop, skus=[("10.00", 1)], title="一号")
    two = f.make_product(shop, skus=[("20.00", 0), ("21.00", 5), ("22.00", 2)], title="二号")

    for product in (one, two, one):  # the second read of `one` reuses what `two` compiled
        rows = product_rows(product.pk, with_category=True)
        assert rows.title == product.title and rows.category.slug == product.category.slug
        expected = list(Sku.objects.filter(product=product, is_active=True).order_by("id"))
        assert [(s.pk, s.code, s.price, s.stock.quantity) for s in rows.sku_list] == [
            (s.pk, s.code, s.price, s.stock.quantity) for s in expected]
        assert [[o.value for o in s.option_list] for s in rows.sku_list] == [
            [o.value for o in s.options.all()] for s in expected]
        assert [[o.value for o in a.option_list] for a in rows.attribute_list] == [
            [o.value for o in a.options.all()] for a in product.attributes.all()]
        assert all(s.product is rows for s in rows.sku_list)


def test_a_product_shoppers_may_not_see_is_not_found(shop):
    draft = f.make_product(shop, publish=False)
    with pytest.raises(Http404):
        product_rows(draft.pk)
