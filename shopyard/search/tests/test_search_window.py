"""The ranked window at scale, shrunk to a few rows so a small catalogue fills it: a
word broad in titles keeps to titles under a filter (unless no title passes it), and
the relaxed match fills the window only with products that have enough words."""

import pytest

from shopyard.core.events import dispatch_pending
from shopyard.search import queries
from shopyard.search.queries import Filters, search
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def lamps(shop, monkeypatch):
    monkeypatch.setattr(queries, "WINDOW", 3)
    lumo = f.make_category(name="Lumo")
    made = {
        "cheap": f.make_product(shop, title="Lumo desk lamp", price="30.00"),
        "cheap2": f.make_product(shop, title="Lumo desk lamp mini", price="35.00"),
        "mid": f.make_product(shop, title="Lumo floor lamp", price="150.00"),
        "dear": f.make_product(shop, title="Lumo wall lamp", price="600.00"),
        # has the word only in its category, in the cheap range
        "shade": f.make_product(shop, title="Paper shade", price="40.00", category=lumo),
        # the word only in its category, in a range no title has
        "cord": f.make_product(shop, title="Braided cord", price="2500.00", category=lumo),
    }
    dispatch_pending()
    return made


def test_a_word_broad_in_titles_keeps_to_titles_under_a_filter(lamps):
    # without a filter the titles fill the window: titles only
    assert search("lumo").capped
    assert lamps["shade"].pk not in search("lumo").ids
    # with a filter fewer titles than the window pass: still the titles, not the category match
    cheap = search("lumo", filters=Filters(price=1))
    assert set(cheap.ids) == {lamps["cheap"].pk, lamps["cheap2"].pk}
    # a filter no title passes searches every field
    assert search("lumo", filters=Filters(price=7)).ids == [lamps["cord"].pk]


def test_a_narrow_word_under_a_filter_searches_every_field(lamps):
    assert set(search("lumo desk", filters=Filters(price=1)).ids) == {lamps["cheap"].pk, lamps["cheap2"].pk}
    assert search("shade", filters=Filters(price=1)).ids == [lamps["shade"].pk]


def test_the_relaxed_window_holds_only_products_with_enough_words(shop, monkeypatch):
    monkeypatch.setattr(queries, "WINDOW", 3)
    # two products with two of the three words, in their category (a weak text match) ...
    both = f.make_category(name="Orbix Velta")
    pair = [f.make_product(shop, title=f"Plain thing {n}", category=both) for n in range(2)]
    # ... and more products than the window with the third word in their titles (a strong one)
    for n in range(5):
        f.make_product(shop, title=f"Crondo Crondo {n}")
    for n in range(20):
        f.make_product(shop, title=f"Filler {n}")
    dispatch_pending()
    result = search("orbix velta crondo")  # no product has all three: two of three
    assert result.relaxed
    assert set(result.ids) == {p.pk for p in pair}
