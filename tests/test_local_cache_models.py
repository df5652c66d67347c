"""Model instances kept in the local-memory cache (core.cache.CountedLocMemCache pickles them by
class, not through Django's __reduce__): every read is its own copy, equal to what was kept,
with its related rows and its database state, and without Django's pickling warnings; what
that shortcut cannot pickle (a memoryview, a class not importable by its name) still keeps."""

import warnings

import pytest

from shopyard.catalog.models import CatalogImport, Product, Sku
from shopyard.core.cache import CountedLocMemCache


@pytest.fixture
def local():
    cache = CountedLocMemCache("test-local-models", {})
    cache.clear()
    yield cache
    cache.clear()


def _read(cache, key):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Django warns of an instance pickled without its version
        return cache.get(key)


def test_each_read_of_a_kept_instance_is_its_own_equal_copy(local, product, django_assert_num_queries):
    kept = Product.objects.select_related("shop").get(pk=product.pk)
    kept.sku_list = list(kept.skus.all())
    local.set("product", kept)

    first, second = _read(local, "product"), _read(local, "product")
    with django_assert_num_queries(0):  # the related rows came with it
        assert first == second == kept and first is not second
        assert first.shop == kept.shop and first.shop is not second.shop
        assert first.shop.name == kept.shop.name and first.title == kept.title
        assert [s.pk for s in first.sku_list] == [s.pk for s in kept.sku_list]
        assert first._state.db == "default" and first._state.adding is False
        first.title = "changed"
        first.shop.name = "changed"
        first.sku_list[0].price = 1
    again = _read(local, "product")
    assert again.title == kept.title and again.shop.name == kept.shop.name
    assert again.sku_list[0].price == kept.sku_list[0].price
    assert second.title == kept.title


def test_what_pickles_itself_otherwise_is_still_kept(local, product):
    with_bytes = CatalogImport(token="t", filename="x.csv", data=memoryview(b"a,b"))
    link = Sku.options.through(sku_id=1, attributeoption_id=2)  # a class made by Django, not importable by name
    local.set("import", with_bytes)
    local.set("link", link)

    read = _read(local, "import")
    assert bytes(read.data) == b"a,b" and isinstance(read.data, memoryview) and read.token == "t"
    assert (_read(local, "link").sku_id, _read(local, "link").attributeoption_id) == (1, 2)
