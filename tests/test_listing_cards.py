"""A listing's cards (storefront.listing_cards) as a shopper sees them, kept between
requests or not: the cover is the first picture in the seller's order, its thumbnail
when made, the picture itself otherwise; a product without pictures shows its
placeholder; a new cover order, title or price shows at the next request."""

import pytest

from shopyard.catalog import services as catalog_services
from shopyard.catalog.models import ProductImage
from tests import factories as f

ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}


def _card_of(client, category, product):
    html = client.get(f"/c/{category.slug}/", **ZH).content.decode()
    start = html.index(f'href="/p/{product.pk}-')
    return html[html.rindex("<li", 0, start):html.index("</li>", start)]


@pytest.fixture(params=[30, 0], ids=["kept", "not-kept"])
def fragment_seconds(request, settings):
    settings.FRAGMENT_CACHE_SECONDS = request.param
    return request.param


def test_cover_is_the_first_picture_in_the_sellers_order(client, seller, shop, media, fragment_seconds,
                                                         django_capture_on_commit_callbacks):
    category = f.make_category("茶具")
    pictured = f.make_product(shop, category=category, title="青瓷茶杯")
    bare = f.make_product(shop, category=category, title="白瓷茶壶")
    one = catalog_services.add_image(actor=seller, shop=shop, product_id=pictured.pk, upload=f.png_upload("one.png"))
    two = catalog_services.add_image(actor=seller, shop=shop, product_id=pictured.pk, upload=f.png_upload("two.png"))
    assert one.thumbnail and two.thumbnail
    card = _card_of(client, category, pictured)
    assert f'src="{one.thumbnail.url}"' in card and two.thumbnail.url not in card
    assert "<img" not in _card_of(client, category, bare) and "thumb-placeholder" in _card_of(client, category, bare)

    with django_capture_on_commit_callbacks(execute=True):  # events reach the caches after commit
        catalog_services.reorder_images(actor=seller, shop=shop, product_id=pictured.pk, image_ids=[two.pk, one.pk])
    card = _card_of(client, category, pictured)
    assert f'src="{two.thumbnail.url}"' in card and one.thumbnail.url not in card

    # a picture without a thumbnail is its own cover (an edit outside the services, then any catalogue event)
    ProductImage.objects.filter(pk=two.pk).update(thumbnail="")
    with django_capture_on_commit_callbacks(execute=True):
        catalog_services.reorder_images(actor=seller, shop=shop, product_id=pictured.pk, image_ids=[two.pk, one.pk])
    assert f'src="{two.image.url}"' in _card_of(client, category, pictured)


def test_a_title_and_a_price_edit_show_on_the_next_listing_view(client, seller, shop, fragment_seconds,
                                                                django_capture_on_commit_callbacks):
    category = f.make_category("茶具")
    product = f.make_product(shop, category=category, title="青瓷茶杯", price="59.90")
    card = _card_of(client, category, product)
    assert "青瓷茶杯" in card and "59.90" in card and shop.name in card
    sku = product.skus.get()
    with django_capture_on_commit_callbacks(execute=True):
        catalog_services.update_product(actor=seller, shop=shop, product_id=product.pk, data={
            "category_id": category.pk, "title": "汝窑茶杯",
            "skus": [{"code": sku.code, "price": "49.00", "stock": 3, "options": []}]})
    card = _card_of(client, category, product)
    assert "汝窑茶杯" in card and "青瓷茶杯" not in card and "49.00" in card and "59.90" not in card


def test_an_operators_category_edit_shows_at_once(admin_client, shop, fragment_seconds,
                                                   django_capture_on_commit_callbacks):
    parent = f.make_category("家居")
    category = f.make_category("茶具", parent=parent)
    product = f.make_product(shop, category=category, title="青瓷茶杯")
    assert "<h1 class=\"page-title\">茶具</h1>" in admin_client.get(f"/c/{category.slug}/", **ZH).content.decode()
    form = {"name": "茶器", "name_en": "Tea ware", "parent": parent.pk, "slug": category.slug, "position": 0,
            "children-TOTAL_FORMS": 0, "children-INITIAL_FORMS": 0}
    with django_capture_on_commit_callbacks(execute=True):
        saved = admin_client.post(f"/admin/catalog/category/{category.pk}/change/", form)
    assert saved.status_code == 302, saved.content.decode()[:2000]
    html = admin_client.get(f"/c/{category.slug}/", **ZH).content.decode()
    assert "<h1 class=\"page-title\">茶器</h1>" in html and f'href="/p/{product.pk}-' in html

    # a top-level category renamed: the header's menu shows the new name at the next request
    assert ">家居</a>" in html
    form = {"name": "居家", "name_en": "Home", "slug": parent.slug, "position": 0,
            "children-TOTAL_FORMS": 0, "children-INITIAL_FORMS": 0}
    with django_capture_on_commit_callbacks(execute=True):
        assert admin_client.post(f"/admin/catalog/category/{parent.pk}/change/", form).status_code == 302
    html = admin_client.get(f"/c/{category.slug}/", **ZH).content.decode()
    menu = html[html.index('<nav class="catnav"'):html.index("</nav>", html.index('<nav class="catnav"'))]
    assert ">居家</a>" in menu and ">家居</a>" not in menu


def test_a_kept_promotion_badge_goes_when_the_promotion_ends(client, shop, fragment_seconds,
                                                             django_capture_on_commit_callbacks):
    from datetime import timedelta

    from django.utils import timezone

    from shopyard.promotions.kinds import Kind

    category = f.make_category("茶具")
    product = f.make_product(shop, category=category, price="100.00")
    with django_capture_on_commit_callbacks(execute=True):
        f.make_promotion(shop, Kind.TIME_DISCOUNT, {"percent_off": "10"}, ends_at=timezone.now() + timedelta(hours=1))
    assert "限时折扣" in _card_of(client, category, product)
    # an hour later, with no event between: the kept promotion rows are older than its end
    later = timezone.now() + timedelta(hours=1, seconds=1)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(timezone, "now", lambda: later)
        assert "限时折扣" not in _card_of(client, category, product)
