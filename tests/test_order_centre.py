"""Issue 6, checkout and orders: buy now, a note per shop order, the payment
countdown (and the API's pay_by), the order centre's tabs and counts, buy again."""

from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from shopyard.cart.models import CartLine
from shopyard.catalog.models import Sku
from shopyard.checkout.services import place_order
from shopyard.core.errors import ValidationFailed
from shopyard.orders.models import Order
from shopyard.orders.queries import payment_deadline
from shopyard.orders.state import Status
from shopyard.payments.models import Payment
from shopyard.storefront.templatetags.order_tags import time_left
from tests import factories as f

pytestmark = pytest.mark.django_db


def _cart_lines(user):
    return {ln.sku_id: ln.quantity for ln in CartLine.objects.filter(cart__user=user)}


def _add(client, sku, quantity):
    assert client.post(reverse("storefront:cart_add"), {"sku_id": sku.pk, "quantity": quantity}).status_code == 302
    client.get(reverse("storefront:cart"))  # shows (and so clears) the "added" message


# --- buy now ------------------------------------------------------------------


def test_buy_now_places_one_order_at_the_catalogue_price_and_leaves_the_cart_alone(client, shopper, address, sku,
                                                                                   other_sku):
    # given a shopper with another item in the cart
    client.force_login(shopper)
    _add(client, other_sku, 2)

    # when they press 立即购买 for 2 units of `sku` (a forged price field is ignored)
    response = client.post(reverse("storefront:buy_now"), {"sku_id": sku.pk, "quantity": 2, "price": "0.01"})
    assert response.status_code == 302
    assert response["Location"] == reverse("storefront:buy_now")
    page = client.get(reverse("storefront:buy_now")).content.decode()
    assert "¥119.80" in page and "¥129.80" in page  # 2 × 59.90, plus the shop's ¥10 shipping
    assert other_sku.product.title_en not in page
    placed = client.post(reverse("storefront:buy_now"), {"address_id": address.pk, "token": "bn-1"})

    # then one order for that line alone, charged from the catalogue, and the cart is untouched
    assert placed.status_code == 302
    order = Order.objects.get(user=shopper)
    assert [(ln.sku_id, ln.quantity, str(ln.unit_price)) for ln in order.lines.all()] == [(sku.pk, 2, "59.9000")]
    assert str(order.total) == "129.8000"
    assert str(Payment.objects.get(user=shopper).amount) == "129.8000"
    assert _cart_lines(shopper) == {other_sku.pk: 2}
    assert "buy_now" not in client.session


def test_buy_now_of_an_unavailable_sku_is_refused_and_nothing_is_kept(client, shopper, sku):
    client.force_login(shopper)
    Sku.objects.filter(pk=sku.pk).update(is_active=False)

    response = client.post(reverse("storefront:buy_now"), {"sku_id": sku.pk, "quantity": 1})

    assert response.status_code == 404
    assert "This product is not available." in response.content.decode()
    assert "buy_now" not in client.session
    assert Order.objects.count() == 0 and CartLine.objects.count() == 0


def test_buy_now_quantity_over_the_cap_is_a_field_error(client, shopper, sku, settings):
    client.force_login(shopper)
    settings.MAX_UNITS_PER_SKU = 3

    response = client.post(reverse("storefront:buy_now"), {"sku_id": sku.pk, "quantity": 4})

    assert response.status_code == 422
    assert "At most 3 units of one item per order." in response.content.decode()
    assert "buy_now" not in client.session


def test_buy_now_page_sends_a_guest_to_log_in_first(client, sku):
    client.post(reverse("storefront:buy_now"), {"sku_id": sku.pk, "quantity": 1})

    response = client.get(reverse("storefront:buy_now"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))
    assert CartLine.objects.count() == 0


def test_product_page_has_a_buy_now_button(client, product):
    page = client.get(f.product_url(product)).content.decode()

    assert f'formaction="{reverse("storefront:buy_now")}"' in page
    assert "Buy now" in page


def test_api_places_an_order_for_given_lines_without_touching_the_cart(api, shopper, shopper_token, address, sku,
                                                                        other_sku, client):
    client.force_login(shopper)
    _add(client, other_sku, 1)

    response = api.post("/orders", {"address_id": address.pk, "lines": [{"sku_id": sku.pk, "quantity": 1}]},
                        token=shopper_token)

    assert response.status_code == 201
    assert [o["total"] for o in response.json()["orders"]] == ["69.90"]
    assert _cart_lines(shopper) == {other_sku.pk: 1}


# --- a note per shop order --------------------------------------------------------


def test_checkout_page_stores_one_note_per_shop_order(client, shopper, address, sku, other_sku, shop, other_shop):
    client.force_login(shopper)
    _add(client, sku, 1)
    _add(client, other_sku, 1)
    page = client.get(reverse("storefront:checkout")).content.decode()
    assert f'name="note_{shop.pk}"' in page and f'name="note_{other_shop.pk}"' in page

    response = client.post(reverse("storefront:checkout"), {
        "address_id": address.pk, "token": "t-notes", f"note_{shop.pk}": " 请开发票 ", f"note_{other_shop.pk}": "周末送货",
    })

    assert response.status_code == 302
    assert {o.shop_id: o.note for o in Order.objects.filter(user=shopper)} == {shop.pk: "请开发票", other_shop.pk: "周末送货"}


def test_a_too_long_shop_note_is_a_field_error_and_nothing_is_placed(client, shopper, address, sku, shop):
    client.force_login(shopper)
    _add(client, sku, 1)

    response = client.post(reverse("storefront:checkout"), {
        "address_id": address.pk, "token": "t-long", f"note_{shop.pk}": "长" * 201,
    })

    assert response.status_code == 422
    assert "Use at most 200 characters." in response.content.decode()
    assert Order.objects.count() == 0
    assert _cart_lines(shopper) == {sku.pk: 1}


def test_place_order_refuses_notes_with_nul_or_for_a_shop_not_in_the_order(shopper, address, sku, shop, other_shop):
    lines = [{"sku_id": sku.pk, "quantity": 1}]
    with pytest.raises(ValidationFailed) as nul:
        place_order(actor=shopper, address_id=address.pk, lines=lines, notes={shop.pk: "a\x00b"})
    with pytest.raises(ValidationFailed) as foreign:
        place_order(actor=shopper, address_id=address.pk, lines=lines, notes={other_shop.pk: "hi"})

    assert nul.value.fields == {f"notes[{shop.pk}]": ["Remove the NUL character."]}
    assert foreign.value.fields == {f"notes[{other_shop.pk}]": ["No item in this order comes from this shop."]}
    assert Order.objects.count() == 0


def test_api_accepts_notes_per_shop_and_keeps_the_single_note(api, shopper_token, address, sku, other_sku, shop,
                                                              other_shop):
    response = api.post("/orders", {
        "address_id": address.pk, "note": "for all",
        "lines": [{"sku_id": sku.pk, "quantity": 1}, {"sku_id": other_sku.pk, "quantity": 1}],
        "notes": {str(shop.pk): "shop one only"},
    }, token=shopper_token)

    assert response.status_code == 201
    notes = {o.shop_id: o.note for o in Order.objects.all()}
    assert notes == {shop.pk: "shop one only", other_shop.pk: "for all"}
    detail = api.get(f"/orders/{Order.objects.get(shop=shop).pk}", token=shopper_token).json()
    assert detail["note"] == "shop one only"


# --- the payment countdown --------------------------------------------------------


def _place(shopper, address, sku, quantity=1):
    placed = place_order(actor=shopper, address_id=address.pk, lines=[{"sku_id": sku.pk, "quantity": quantity}])
    return Order.objects.get(pk=placed.order_ids[0]), Payment.objects.get(pk=placed.payment_id)


def test_payment_deadline_is_placed_at_plus_the_timeout_and_the_api_says_so(api, shopper, shopper_token, address, sku,
                                                                             settings):
    settings.UNPAID_ORDER_TIMEOUT_MINUTES = 45
    order, _payment = _place(shopper, address, sku)

    deadline = payment_deadline(order)

    assert deadline == order.placed_at + timedelta(minutes=45)
    body = api.get(f"/orders/{order.pk}", token=shopper_token).json()
    assert datetime.fromisoformat(body["pay_by"].replace("Z", "+00:00")) == deadline.replace(
        microsecond=deadline.microsecond // 1000 * 1000)
    listed = api.get("/orders", token=shopper_token).json()["results"][0]
    assert listed["pay_by"] == body["pay_by"]


def test_a_paid_or_cancelled_order_has_no_deadline(api, shopper, shopper_token, address, sku):
    order, _payment = _place(shopper, address, sku)
    Order.objects.filter(pk=order.pk).update(status=Status.PAID)
    order.refresh_from_db()

    assert payment_deadline(order) is None
    assert api.get(f"/orders/{order.pk}", token=shopper_token).json()["pay_by"] is None


def test_countdown_text_counts_down_to_the_deadline():
    from django.utils import timezone

    now = timezone.now()
    assert time_left(now + timedelta(minutes=29, seconds=59), now) == (1799, "29:59")
    assert time_left(now + timedelta(hours=2, seconds=5), now) == (7205, "2:00:05")
    assert time_left(now - timedelta(seconds=1), now) == (0, "00:00")


def test_gateway_and_order_pages_show_the_time_left(client, shopper, address, sku, settings, monkeypatch):
    settings.UNPAID_ORDER_TIMEOUT_MINUTES = 30
    order, payment = _place(shopper, address, sku)
    client.force_login(shopper)
    # the clock stands 10 minutes and 15 seconds after the order was placed
    from django.utils import timezone
    frozen = order.placed_at + timedelta(minutes=10, seconds=15)
    monkeypatch.setattr(timezone, "now", lambda: frozen)

    gateway = client.get(reverse("payments:simulated", args=[payment.reference])).content.decode()
    detail = client.get(reverse("storefront:order_detail", args=[order.pk])).content.decode()
    listing = client.get(reverse("storefront:orders")).content.decode()

    for page in (gateway, detail, listing):
        assert 'data-seconds="1185"' in page
        assert ">19:45</time>, or the order is cancelled automatically." in page
        assert "shopyard/countdown.js" in page


def test_return_page_after_a_declined_payment_shows_the_countdown(client, shopper, address, sku,
                                                                  django_capture_on_commit_callbacks):
    order, payment = _place(shopper, address, sku)
    client.force_login(shopper)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("payments:simulated", args=[payment.reference]), {"action": "decline"})

    page = client.get(reverse("payments:return", args=[payment.reference])).content.decode()

    assert 'class="pay-countdown"' in page


# --- order centre -----------------------------------------------------------------


@pytest.fixture
def one_order_per_state(shopper, address, sku):
    """One order of the shopper in each status."""
    orders = {}
    for status in Status:
        order, _payment = _place(shopper, address, sku)
        Order.objects.filter(pk=order.pk).update(status=status)
        orders[status] = order
    return orders


TAB_OF = {
    "unpaid": {Status.PENDING_PAYMENT}, "to_ship": {Status.PAID}, "to_receive": {Status.SHIPPED, Status.DELIVERED},
    "completed": {Status.COMPLETED}, "cancelled": {Status.CANCELLED},
}


def test_order_centre_tabs_show_counts_and_filter(client, shopper, one_order_per_state, other_shopper, other_sku):
    f.make_address(other_shopper)
    place_order(actor=other_shopper, address_id=other_shopper.addresses.get().pk,
                lines=[{"sku_id": other_sku.pk, "quantity": 1}])  # someone else's order counts nowhere
    client.force_login(shopper)

    page = client.get(reverse("storefront:orders")).content.decode()

    for tab, label in [("all", "All"), ("unpaid", "To pay"), ("to_ship", "To ship"), ("to_receive", "To receive"),
                       ("completed", "Completed"), ("cancelled", "Cancelled")]:
        expected = len(Status) if tab == "all" else len(TAB_OF[tab])
        assert f'id="tab-{tab}"' in page
        assert f'{label} <span class="tab-count">{expected}</span>' in page
    for tab, statuses in TAB_OF.items():
        body = client.get(reverse("storefront:orders") + f"?tab={tab}").content.decode()
        shown = {o.number for o in one_order_per_state.values() if o.number in body}
        assert shown == {one_order_per_state[status].number for status in statuses}, tab


def test_order_centre_actions_follow_the_state(client, shopper, one_order_per_state):
    client.force_login(shopper)

    unpaid = client.get(reverse("storefront:orders") + "?tab=unpaid").content.decode()
    shipped = client.get(reverse("storefront:orders") + "?tab=to_receive").content.decode()
    done = client.get(reverse("storefront:orders") + "?tab=completed").content.decode()

    pending = one_order_per_state[Status.PENDING_PAYMENT]
    assert reverse("storefront:order_cancel", args=[pending.pk]) in unpaid
    assert reverse("storefront:order_confirm", args=[one_order_per_state[Status.SHIPPED].pk]) in shipped
    completed = one_order_per_state[Status.COMPLETED]
    assert reverse("storefront:order_confirm", args=[completed.pk]) not in done
    assert reverse("storefront:order_cancel", args=[completed.pk]) not in done
    assert reverse("storefront:order_pay") not in done
    assert reverse("storefront:order_buy_again", args=[completed.pk]) in done


def test_old_status_links_open_the_matching_tab(client, shopper, one_order_per_state):
    client.force_login(shopper)

    body = client.get(reverse("storefront:orders") + "?status=paid").content.decode()

    assert one_order_per_state[Status.PAID].number in body
    assert one_order_per_state[Status.SHIPPED].number not in body


def test_order_centre_shows_line_thumbnails_and_costs_a_fixed_number_of_queries(client, shopper, address, shop, media):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from shopyard.catalog.models import ProductImage

    client.force_login(shopper)

    def make_order():
        product = f.make_product(shop, price="10.00", stock=5)
        ProductImage.objects.create(product=product, image=SimpleUploadedFile("a.png", b"x", "image/png"),
                                    thumbnail=SimpleUploadedFile("t.png", b"x", "image/png"))
        place_order(actor=shopper, address_id=address.pk,
                    lines=[{"sku_id": product.skus.get().pk, "quantity": 1}])

    make_order()
    client.get(reverse("storefront:orders"))  # warm the session and caches
    with CaptureQueriesContext(connection) as one:
        first = client.get(reverse("storefront:orders"))
    for _i in range(3):
        make_order()
    with CaptureQueriesContext(connection) as four:
        page = client.get(reverse("storefront:orders"))

    assert first.status_code == 200
    assert len(four) == len(one)
    assert page.content.decode().count('class="order-thumb" src="/media/products/thumbs/') == 4


# --- buy again --------------------------------------------------------------------


def test_buy_again_adds_the_lines_and_names_those_no_longer_buyable(client, shopper, address, sku, other_sku):
    placed = place_order(actor=shopper, address_id=address.pk,
                         lines=[{"sku_id": sku.pk, "quantity": 2}, {"sku_id": other_sku.pk, "quantity": 1}])
    Sku.objects.filter(pk=other_sku.pk).update(is_active=False)
    order = Order.objects.get(pk=placed.order_ids[0]) if Order.objects.get(
        pk=placed.order_ids[0]).shop_id == sku.product.shop_id else Order.objects.get(pk=placed.order_ids[1])
    other_order = Order.objects.exclude(pk=order.pk).get(user=shopper)
    client.force_login(shopper)

    ok = client.post(reverse("storefront:order_buy_again", args=[order.pk]), follow=True)
    refused = client.post(reverse("storefront:order_buy_again", args=[other_order.pk]), follow=True)

    assert _cart_lines(shopper) == {sku.pk: 2}
    assert "1 item(s) added to your cart." in ok.content.decode()
    assert f"Not added, no longer available: {other_sku.product.title_en}" in refused.content.decode()


def test_buy_again_of_a_foreign_order_is_404_and_adds_nothing(client, other_shopper, shopper, address, sku):
    placed = place_order(actor=shopper, address_id=address.pk, lines=[{"sku_id": sku.pk, "quantity": 1}])
    client.force_login(other_shopper)

    response = client.post(reverse("storefront:order_buy_again", args=[placed.order_ids[0]]))

    assert response.status_code == 404
    assert CartLine.objects.count() == 0


def test_api_buy_again_reports_added_and_skipped_lines(api, shopper, shopper_token, address, sku, settings):
    placed = place_order(actor=shopper, address_id=address.pk, lines=[{"sku_id": sku.pk, "quantity": 3}])
    settings.MAX_UNITS_PER_SKU = 5
    other = f.make_product(sku.product.shop, price="5.00", stock=1).skus.get()
    second = place_order(actor=shopper, address_id=address.pk, lines=[{"sku_id": other.pk, "quantity": 1}])

    first = api.post(f"/orders/{placed.order_ids[0]}/buy-again", token=shopper_token)
    sold_out = api.post(f"/orders/{second.order_ids[0]}/buy-again", token=shopper_token)

    assert first.status_code == 200
    assert first.json() == {"added_sku_ids": [sku.pk], "skipped": []}
    assert sold_out.status_code == 200
    assert sold_out.json()["added_sku_ids"] == []
    assert [(s["sku_id"], s["reason"]) for s in sold_out.json()["skipped"]] == [(other.pk, "Only 0 left in stock.")]
    assert _cart_lines(shopper) == {sku.pk: 3}
    assert api.post("/orders/999999/buy-again", token=shopper_token).status_code == 404


def test_api_lists_orders_by_tab_with_the_counts(api, shopper_token, one_order_per_state):
    body = api.get("/orders?tab=to_receive", token=shopper_token).json()

    # 待收货 holds the shipped order and the delivered one, newest first
    assert [o["id"] for o in body["results"]] == [one_order_per_state[Status.DELIVERED].pk,
                                                  one_order_per_state[Status.SHIPPED].pk]
    assert body["counts"] == {"all": 6, "unpaid": 1, "to_ship": 1, "to_receive": 2, "completed": 1, "cancelled": 1}
    assert api.get("/orders?tab=nope", token=shopper_token).status_code == 422
    assert len(api.get("/orders", token=shopper_token).json()["results"]) == 6
