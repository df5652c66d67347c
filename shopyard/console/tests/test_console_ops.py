"""Seller console operations of issue 6: the dashboard's figures, order search,
packing lists and shipping several orders at once, driven as a seller would."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from shopyard.checkout.services import place_order
from shopyard.console.queries import today_bounds
from shopyard.orders.models import Order, OrderStatusChange
from shopyard.orders.services import cancel_expired_unpaid_orders, mark_paid
from shopyard.shipping.models import Shipment
from tests import factories as f

pytestmark = pytest.mark.django_db


def as_seller(client, seller):
    client.force_login(seller)
    return client


def buy(shopper, address, sku, quantity=1, note=""):
    placed = place_order(actor=shopper, address_id=address.pk, lines=[{"sku_id": sku.pk, "quantity": quantity}], note=note)
    return Order.objects.get(pk=placed.order_ids[0])


def paid(shopper, address, sku, quantity=1, note=""):
    order = buy(shopper, address, sku, quantity, note)
    mark_paid(actor=None, order=order.pk)
    order.refresh_from_db()
    return order


# --- dashboard -------------------------------------------------------------

def test_dashboard_counts_only_orders_paid_today_in_the_shops_time_zone(client, seller, shop, sku, shopper, address):
    # given: one order paid today (2 × 59.90 + 10.00), one paid yesterday, one unpaid placed today
    today = paid(shopper, address, sku, quantity=2)
    yesterday = paid(shopper, address, sku)
    start, _end = today_bounds()
    Order.objects.filter(pk=yesterday.pk).update(paid_at=start - timedelta(minutes=1), placed_at=start - timedelta(hours=1))
    buy(shopper, address, sku)
    # when
    response = as_seller(client, seller).get(reverse("console:dashboard"))
    # then
    stats = response.context["stats"]
    assert (stats["today"], stats["today_sales"], stats["to_ship"], stats["pending"]) == (1, Decimal("129.8000"), 2, 1)
    page = response.content.decode()
    assert '<strong class="stat-value price" data-stat="today_sales">¥129.80</strong>' in page
    assert f'href="{reverse("console:orders")}?day=today"' in page
    listed = as_seller(client, seller).get(reverse("console:orders"), {"day": "today"}).context["page"].object_list
    assert [o.pk for o in listed] == [today.pk]


def test_an_order_placed_yesterday_and_paid_today_counts_today(client, seller, shop, sku, shopper, address):
    order = buy(shopper, address, sku)
    start, _end = today_bounds()
    Order.objects.filter(pk=order.pk).update(placed_at=start - timedelta(hours=3))
    mark_paid(actor=None, order=order.pk)
    stats = as_seller(client, seller).get(reverse("console:dashboard")).context["stats"]
    assert (stats["today"], stats["today_sales"]) == (1, Decimal("69.9000"))


def test_dashboard_lists_low_stock_skus_with_links(client, seller, shop, settings):
    # given: the threshold is 5; SKUs with 5, 0, 6 units, and a low one in another shop
    settings.LOW_STOCK_THRESHOLD = 5
    low = f.make_product(shop, title="低库存商品", skus=[("10.00", 5), ("12.00", 0), ("14.00", 6)])
    f.make_product(f.make_shop("别家店铺"), stock=1)
    # when
    response = as_seller(client, seller).get(reverse("console:dashboard"))
    # then: the emptiest first, only this shop's, at most the threshold
    stats = response.context["stats"]
    codes = [s.code for s in stats["low_stock"]]
    assert codes == [low.skus.get(price=Decimal("12.00")).code, low.skus.get(price=Decimal("10.00")).code]
    page = response.content.decode()
    assert page.count(f'href="{reverse("console:product_edit", args=[low.pk])}"') == 2
    assert '<strong class="stat-value" data-stat="low_stock">2</strong>' in page
    # and the card's filtered list shows that product only
    products = as_seller(client, seller).get(reverse("console:products"), {"stock": "low"}).context["page"].object_list
    assert [p.pk for p in products] == [low.pk]


def test_low_stock_threshold_is_a_setting(client, seller, shop, settings):
    f.make_product(shop, stock=3)
    settings.LOW_STOCK_THRESHOLD = 2
    assert as_seller(client, seller).get(reverse("console:dashboard")).context["stats"]["low_stock"] == []


def test_dashboard_counts_drafts_and_links_to_them(client, seller, shop, product):
    draft = f.make_product(shop, publish=False)
    response = as_seller(client, seller).get(reverse("console:dashboard"))
    assert (response.context["stats"]["draft"], response.context["stats"]["published"]) == (1, 1)
    assert f'href="{reverse("console:products")}?status=draft"' in response.content.decode()
    listed = as_seller(client, seller).get(reverse("console:products"), {"status": "draft"}).context["page"].object_list
    assert [p.pk for p in listed] == [draft.pk]


def _dashboard_queries(client):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(reverse("console:dashboard")).status_code == 200
    return len(ctx.captured_queries)


def test_dashboard_costs_a_fixed_number_of_queries(client, seller, shop, sku, shopper, address):
    as_seller(client, seller)
    client.get(reverse("console:dashboard"))  # the session's first request records it (accounts.sessions)
    paid(shopper, address, sku)
    f.make_product(shop, stock=1)
    few = _dashboard_queries(client)
    for _n in range(3):
        paid(shopper, address, sku)
        f.make_product(shop, stock=2, publish=False)
    # session, its tracking row, user, memberships, the header's cart count and unread-message
    # count; then one each for products, orders (all four order figures), low-stock SKUs, latest orders,
    # the settlement balance
    assert (few, _dashboard_queries(client)) == (11, 11)


# --- search and filter -----------------------------------------------------

def test_search_by_order_number_and_by_phone_never_shows_another_shops_orders(client, seller, shop, sku, other_sku, shopper, address):
    # given: two orders here (one to another phone), one elsewhere by the same buyer
    mine = paid(shopper, address, sku)
    other_address = f.make_address(shopper, phone="13912345678")
    to_other_phone = buy(shopper, other_address, sku)
    elsewhere = paid(shopper, address, other_sku)
    as_seller(client, seller)

    def found(**params):
        return [o.pk for o in client.get(reverse("console:orders"), params).context["page"].object_list]

    # then: by the address snapshot's phone, by number, by the buyer account's phone
    assert found(q="13800138000") == [mine.pk]
    assert found(q="13912345678") == [to_other_phone.pk]
    assert found(q=elsewhere.number) == []
    assert found(q=mine.number) == [mine.pk]
    shopper.phone = "13700000001"
    shopper.save(update_fields=["phone"])
    assert found(q="13700000001") == [to_other_phone.pk, mine.pk]
    assert found(q="13700000001", status="paid") == [mine.pk]
    assert found(q="13000000000") == []


def test_status_tabs_come_from_the_state_machine(client, seller, shop):
    from shopyard.orders.state import Status

    page = as_seller(client, seller).get(reverse("console:orders")).content.decode()
    for value, label in Status.choices:
        assert f"status={value}\">{label}</a>" in page


# --- packing list ----------------------------------------------------------

def test_packing_list_of_two_orders(client, seller, shop, sku, shopper, address):
    first = paid(shopper, address, sku, quantity=2, note="请用纸箱")
    second = paid(shopper, f.make_address(shopper, recipient="李四", detail="天目山路 8 号"), sku)
    response = as_seller(client, seller).get(reverse("console:packing_list"), {"ids": [second.pk, first.pk]})
    assert response.status_code == 200
    assert [o.pk for o in response.context["orders"]] == [first.pk, second.pk]
    page = response.content.decode()
    for text in ("星河数码", first.number, second.number, "张三", "李四", "文三路 100 号", "天目山路 8 号",
                 "13800138000", sku.code, first.lines.get().product_title, "请用纸箱"):
        assert text in page, text
    assert '<td class="num">2</td>' in page and '<td class="num">1</td>' in page
    assert page.count('class="card packing-slip"') == 2


def test_packing_list_with_a_foreign_or_bad_id_is_404(client, seller, shop, sku, other_sku, shopper, address):
    mine = paid(shopper, address, sku)
    foreign = paid(shopper, address, other_sku)
    as_seller(client, seller)
    url = reverse("console:packing_list")
    assert client.get(url, {"ids": [foreign.pk]}).status_code == 404
    assert client.get(url, {"ids": [mine.pk, foreign.pk]}).status_code == 404
    assert client.get(url, {"ids": ["x"]}).status_code == 404
    assert client.get(url).status_code == 404


def test_packing_list_prints_without_console_chrome():
    from django.contrib.staticfiles import finders

    css = open(finders.find("console/console.css"), encoding="utf-8").read()
    rule = css[css.index("@media print"):]
    assert ".console-side" in rule and ".topbar" in rule and "break-after: page" in rule


# --- bulk ship -------------------------------------------------------------

def bulk_post(*rows):
    data = {"ids": [str(pk) for pk, _c, _t in rows]}
    for pk, carrier, tracking in rows:
        data[f"carrier-{pk}"] = carrier
        data[f"tracking-{pk}"] = tracking
    return data


def test_bulk_ship_ships_two_and_reports_one_already_shipped(client, seller, shop, sku, shopper, address):
    # given: two paid orders and one already shipped
    one, two, done = (paid(shopper, address, sku) for _n in range(3))
    as_seller(client, seller).post(reverse("console:order_ship", args=[done.pk]), {"carrier": "sf", "tracking_number": "SF000000000001"})
    # when
    response = client.post(reverse("console:bulk_ship"), bulk_post(
        (one.pk, "sf", "SF111111111111"), (two.pk, "zto", "732222222222"), (done.pk, "yto", "YT3333333333333")))
    # then: the two are shipped, the third is reported and untouched
    assert response.status_code == 200
    assert [o.pk for o in response.context["done"]] == [one.pk, two.pk]
    page = response.content.decode()
    assert f"Order {done.number}: only paid orders can be shipped; this order is “Shipped”." in page
    shipments = {s.order_id: (s.carrier, s.tracking_number) for s in Shipment.objects.all()}
    assert shipments == {one.pk: ("sf", "SF111111111111"), two.pk: ("zto", "732222222222"), done.pk: ("sf", "SF000000000001")}
    assert set(Order.objects.filter(pk__in=[one.pk, two.pk, done.pk]).values_list("status", flat=True)) == {"shipped"}


def test_bulk_ship_all_good_redirects_to_shipped_orders(client, seller, shop, sku, shopper, address):
    one, two = paid(shopper, address, sku), paid(shopper, address, sku)
    response = as_seller(client, seller).post(reverse("console:bulk_ship"), bulk_post(
        (one.pk, "sf", "SF111111111111"), (two.pk, "jd", "JD2222222222222")))
    assert response.status_code == 302 and response["Location"] == reverse("console:orders") + "?status=shipped"
    assert Shipment.objects.count() == 2


def test_bulk_ship_bad_tracking_number_ships_nothing_for_that_order(client, seller, shop, sku, shopper, address):
    good, bad = paid(shopper, address, sku), paid(shopper, address, sku)
    response = as_seller(client, seller).post(reverse("console:bulk_ship"), bulk_post(
        (good.pk, "sf", "SF111111111111"), (bad.pk, "sf", "no!")))
    assert response.status_code == 200
    assert response.context["errors"] == {str(bad.pk): {"tracking_number": ["Enter 6 to 40 letters, digits or dashes."]}}
    # the bad one is offered again with what was typed
    assert [o.pk for o in response.context["orders"]] == [bad.pk]
    assert 'value="no!"' in response.content.decode()
    bad.refresh_from_db()
    assert bad.status == "paid" and bad.shipped_at is None
    assert list(Shipment.objects.values_list("order_id", flat=True)) == [good.pk]
    assert not OrderStatusChange.objects.filter(order=bad, to_status="shipped").exists()


def test_bulk_ship_only_bad_input_is_422_and_writes_nothing(client, seller, shop, sku, shopper, address):
    order = paid(shopper, address, sku)
    as_seller(client, seller)
    response = client.post(reverse("console:bulk_ship"), bulk_post((order.pk, "", "SF111111111111")))
    assert response.status_code == 422
    assert response.context["errors"] == {str(order.pk): {"carrier": ["Choose a carrier from the list."]}}
    response = client.post(reverse("console:bulk_ship"), {})
    assert response.status_code == 422 and "Tick at least one order to ship." in response.content.decode()
    assert not Shipment.objects.exists()
    order.refresh_from_db()
    assert order.status == "paid"


def test_bulk_ship_cannot_touch_another_shops_order(client, seller, shop, other_sku, shopper, address):
    foreign = paid(shopper, address, other_sku)
    response = as_seller(client, seller).post(reverse("console:bulk_ship"), bulk_post((foreign.pk, "sf", "SF111111111111")))
    assert response.status_code == 422
    assert response.context["errors"] == {str(foreign.pk): {"order": ["Order not found."]}}
    assert foreign.number not in response.content.decode()
    assert not Shipment.objects.exists()


def test_bulk_ship_page_lists_paid_orders_only(client, seller, shop, sku, shopper, address):
    ready = paid(shopper, address, sku)
    unpaid = buy(shopper, address, sku)
    page = as_seller(client, seller).get(reverse("console:bulk_ship")).content.decode()
    assert ready.number in page and unpaid.number not in page
    ticked = as_seller(client, seller).get(reverse("console:bulk_ship"), {"ids": [unpaid.pk]}).context["orders"]
    assert ticked == []


# --- translations ----------------------------------------------------------

def test_ship_panel_and_system_actor_in_chinese(client, seller, shop, sku, shopper, address, settings):
    # given: an order cancelled by the unpaid-order timeout (the system) and one paid
    expired = buy(shopper, address, sku)
    Order.objects.filter(pk=expired.pk).update(placed_at=expired.placed_at - timedelta(minutes=settings.UNPAID_ORDER_TIMEOUT_MINUTES + 1))
    assert cancel_expired_unpaid_orders() == 1
    assert OrderStatusChange.objects.get(order=expired, to_status="cancelled").actor_label == "system"
    ready = paid(shopper, address, sku)
    as_seller(client, seller)
    # when
    cancelled_page = client.get(reverse("console:order_detail", args=[expired.pk]), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    ready_page = client.get(reverse("console:order_detail", args=[ready.pk]), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    # then: the stored label stays "system"; the page says 系统
    assert '<span class="muted" data-actor>· 系统</span>' in cancelled_page
    assert "· system<" not in cancelled_page
    assert "<h2>物流信息</h2>" in ready_page
    assert "<h2>运费</h2>" not in ready_page


# --- phones ----------------------------------------------------------------

def test_every_console_table_scrolls_in_its_own_box():
    """At 390px a table never widens the page: each sits in a .console-scroll
    box (horizontal scroll, sticky first column), and the list tables also
    turn into stacked cards under 600px (console.css)."""
    import re
    from pathlib import Path

    from django.contrib.staticfiles import finders

    templates = Path(__file__).resolve().parents[1] / "templates" / "console"
    unwrapped = []
    for path in sorted(templates.glob("*.html")):
        text = path.read_text(encoding="utf-8")
        wrapped = len(re.findall(r'class="[^"]*console-scroll[^"]*">\s*<table', text))
        if text.count("<table") != wrapped and path.name != "packing_list.html":
            unwrapped.append(path.name)
    assert unwrapped == []
    css = open(finders.find("console/console.css"), encoding="utf-8").read()
    assert ".console-scroll { overflow-x: auto;" in css and "position: sticky; left: 0;" in css
