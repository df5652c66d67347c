"""Settlement through the API and the pages, as sellers and operators use them: each
shop sees only its own money (another shop's statement is a 404 everywhere), operators
see all; rates and payouts refuse bad input with a field message and change nothing."""

import csv
import io
from decimal import Decimal

import pytest
from django.urls import reverse

from shopyard.orders.models import Order
from shopyard.settlement import services
from shopyard.settlement.models import CategoryCommission, Entry, ShopCommission, Statement
from tests import factories as f

from .conftest import complete, ledger_sum

pytestmark = pytest.mark.django_db


@pytest.fixture
def settled(two_shop_checkout, shopper, shop, other_shop, operator):
    """Both orders completed; the week closed and the shop's statement paid; a new week
    open with nothing in it yet. Returns (shop's paid statement, other shop's closed one)."""
    mine, theirs = two_shop_checkout
    complete(mine, shopper)
    complete(theirs, shopper)
    services.close_due_statements(now=Statement.objects.get(shop=shop).period_end)
    paid = services.mark_paid(actor=operator, statement_id=Statement.objects.get(shop=shop).pk, reference="B-1")
    return paid, Statement.objects.get(shop=other_shop)


# ---------------------------------------------------------------------------- seller API


def test_a_seller_reads_their_balance_statements_and_entries(api, seller_token, settled, shop):
    mine, _theirs = settled
    assert api.get("/seller/settlement/balance", seller_token).json() == {
        "shop_id": shop.pk, "currency": "CNY", "balance": "0.00", "open_statement": "0.00", "closed_unpaid": "0.00"}
    page = api.get("/seller/settlement/statements", seller_token).json()
    assert [(s["id"], s["status"], s["payable"], s["commission"]) for s in page["results"]] == [
        (mine.pk, "paid", "124.12", "5.68")]  # 113.52 + 6.28 + 10.00 − 5.68 (the default 5 % of 113.52)
    detail = api.get(f"/seller/settlement/statements/{mine.pk}", seller_token).json()
    assert (detail["sales"], detail["platform_discounts"], detail["payout_reference"]) == ("123.52", "6.28", "B-1")
    entries = api.get(f"/seller/settlement/entries?statement_id={mine.pk}", seller_token).json()["results"]
    assert sorted((e["kind"], e["amount"]) for e in entries) == [
        ("commission", "-5.68"), ("payout", "-124.12"), ("platform_discount", "6.28"), ("sale", "113.52"),
        ("shipping", "10.00")]
    line = Order.objects.get(shop=shop).lines.get()
    assert {e["order_line_id"] for e in entries if e["kind"] == "sale"} == {line.pk}


def test_another_shops_statement_is_not_found_for_a_seller(api, seller_token, settled, seller_client):
    _mine, theirs = settled
    before = Entry.objects.count()
    for path in (f"/seller/settlement/statements/{theirs.pk}", f"/seller/settlement/entries?statement_id={theirs.pk}",
                 f"/seller/settlement/statements/{theirs.pk}/entries.csv", "/seller/settlement/statements/999999"):
        response = api.get(path, seller_token)
        assert response.status_code == 404, path
        assert response.json()["code"] == "not_found"
    for name in ("console:settlement_statement", "console:settlement_export"):
        assert seller_client.get(reverse(name, args=[theirs.pk])).status_code == 404
    assert Entry.objects.count() == before


def test_the_csv_export_is_numbers_and_formula_safe(api, shopper, address, seller, seller_token, shop, operator):
    # given a product whose title a spreadsheet would run as a formula, sold and completed
    sku = f.make_product(shop, price="20.00", title="=HYPERLINK(\"http://evil\")").skus.get()
    order = f.make_completed_order(shopper, address, [(sku, 1)])
    from .conftest import deliver

    deliver()
    statement = Statement.objects.get(shop=shop)
    response = api.get(f"/seller/settlement/statements/{statement.pk}/entries.csv", seller_token)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:])))
    body = rows[1:]
    assert len(rows[0]) == 12  # statement, start, end, entry, time, kind, order, line, product, source, amount, currency
    assert {r[8] for r in body} == {"'=HYPERLINK(\"http://evil\")", ""}
    assert sorted(r[10] for r in body) == ["-1.00", "10.00", "20.00"]  # commission 5 % of 20.00; shipping 10.00
    assert {r[6] for r in body} == {order.number}
    for row in body:
        for cell in row:
            assert not cell.startswith(("=", "+", "@")), cell


# ---------------------------------------------------------------------------- operator API


def test_operators_list_every_shops_statements_and_read_a_balanced_ledger(api, operator, settled):
    operator_token = f.token_for(operator)
    mine, theirs = settled
    page = api.get("/operator/settlement/statements", operator_token).json()
    assert {s["id"] for s in page["results"]} == {mine.pk, theirs.pk}
    assert api.get("/operator/settlement/statements?status=closed", operator_token).json()["meta"]["count"] == 1
    # every entry of one order, on every account, traceable to its line
    order = Order.objects.get(shop=mine.shop)
    entries = api.get(f"/operator/settlement/entries?order_id={order.pk}", operator_token).json()["results"]
    assert sum(Decimal(e["amount"]) for e in entries) == 0
    assert {e["posting"] for e in entries} == {f"order:{order.pk}:line:{order.lines.get().pk}",
                                               f"order:{order.pk}:shipping"}
    trial = api.get("/operator/settlement/trial-balance", operator_token).json()
    assert trial["total"] == "0.00"
    assert {r["account"]: r["balance"] for r in trial["rows"]} == {
        "clearing": "198.80", "commission_revenue": "-9.04", "payouts": "-124.12", "promotion_cost": "10.00",
        "seller_payable": "-75.64"}


def test_mark_paid_over_the_api_once_then_409_with_nothing_changed(api, operator, settled):
    operator_token = f.token_for(operator)
    _mine, theirs = settled
    ok = api.post(f"/operator/settlement/statements/{theirs.pk}/mark-paid", {"reference": "B-2"}, operator_token)
    assert ok.status_code == 200 and ok.json()["status"] == "paid" and ok.json()["actions"] == []
    before = (Entry.objects.count(), ledger_sum())
    again = api.post(f"/operator/settlement/statements/{theirs.pk}/mark-paid", {"reference": "B-3"}, operator_token)
    assert again.status_code == 409 and again.json()["code"] == "invalid_transition"
    assert (Entry.objects.count(), ledger_sum()) == before
    assert Statement.objects.get(pk=theirs.pk).payout_reference == "B-2"
    assert api.post("/operator/settlement/statements/999999/mark-paid", {}, operator_token).status_code == 404
    assert api.post(f"/operator/settlement/statements/{theirs.pk}/close", {}, operator_token).status_code == 409


def test_sellers_and_shoppers_cannot_use_operator_endpoints(api, seller_token, shopper_token, settled, shop):
    _mine, theirs = settled
    for token in (seller_token, shopper_token):
        assert api.post(f"/operator/settlement/statements/{theirs.pk}/mark-paid", {}, token).status_code == 403
        assert api.get("/operator/settlement/statements", token).status_code == 403
        assert api.get("/operator/settlement/entries", token).status_code == 403
        assert api.get("/operator/settlement/trial-balance", token).status_code == 403
        response = api.c.put(f"/api/v1/operator/settlement/commission-rates/shops/{shop.pk}", data='{"rate": "0"}',
                             content_type="application/json", **f.auth(token))
        assert response.status_code == 403
    assert Statement.objects.get(pk=theirs.pk).status == "closed" and not ShopCommission.objects.exists()


def _put(api, path, body, token):
    import json

    return api.c.put(f"/api/v1{path}", data=json.dumps(body), content_type="application/json", **f.auth(token))


def test_commission_rates_over_the_api_with_0_to_100_validation(api, operator, shop):
    operator_token = f.token_for(operator)
    category = f.make_category("服饰")
    ok = _put(api, f"/operator/settlement/commission-rates/categories/{category.pk}", {"rate": "7.5"}, operator_token)
    assert ok.status_code == 200
    assert ok.json()["categories"] == [{"category_id": category.pk, "category": "服饰", "rate": "7.50"}]
    for bad in ("101", "-0.01", "abc", "1.001"):
        response = _put(api, f"/operator/settlement/commission-rates/shops/{shop.pk}", {"rate": bad}, operator_token)
        assert response.status_code == 422 and "rate" in response.json()["fields"], bad
    assert _put(api, "/operator/settlement/commission-rates/shops/999999", {"rate": "1"}, operator_token
                ).status_code == 404
    assert _put(api, f"/operator/settlement/commission-rates/shops/{shop.pk}", [], operator_token).status_code == 422
    assert not ShopCommission.objects.exists()
    assert list(CategoryCommission.objects.values_list("rate", flat=True)) == [Decimal("7.50")]
    deleted = api.c.delete(f"/api/v1/operator/settlement/commission-rates/categories/{category.pk}",
                           **f.auth(operator_token))
    assert deleted.status_code == 200 and deleted.json()["categories"] == []


# ---------------------------------------------------------------------------- pages


def test_the_sellers_settlement_pages(seller_client, settled, shop, django_assert_num_queries):
    mine, _theirs = settled
    seller_client.get(reverse("console:settlement"))  # the session's first request records it
    # session, its tracking row, user, memberships, cart count, unread messages; statements
    # (count, page), the balance by status, closed-unpaid total (an open statement adds two)
    with django_assert_num_queries(10):
        page = seller_client.get(reverse("console:settlement"))
    assert page.status_code == 200
    assert '<strong class="stat-value price" data-stat="balance">¥0.00</strong>' in page.content.decode()
    # the same six; the statement, its entries (count, page with order, line and posting)
    with django_assert_num_queries(9):
        detail = seller_client.get(reverse("console:settlement_statement", args=[mine.pk]))
    text = detail.content.decode()
    assert '<dd class="stat-value price" data-stat="payable">¥124.12</dd>' in text
    assert f"order:{Order.objects.get(shop=shop).pk}:shipping" in text
    assert seller_client.get(reverse("console:settlement_entries")).status_code == 200
    dashboard = seller_client.get(reverse("console:dashboard")).content.decode()
    assert '<strong class="stat-value price" data-stat="balance">¥0.00</strong>' in dashboard


def test_the_operators_pages_mark_paid_once(client, operator, seller, settled):
    _mine, theirs = settled
    client.force_login(operator)
    listing = client.get(reverse("settlement:statements"), {"status": "closed"})
    assert listing.status_code == 200 and [s.pk for s, _f in listing.context["rows"]] == [theirs.pk]
    url = reverse("settlement:statement_action", args=[theirs.pk, "mark-paid"])
    assert client.post(url, {"reference": "B-9"}).status_code == 302
    again = client.post(url, {"reference": "B-10"})
    assert again.status_code == 409 and again.context["error"]
    assert Statement.objects.get(pk=theirs.pk).payout_reference == "B-9"
    assert client.get(reverse("settlement:statement", args=[999999])).status_code == 404
    client.force_login(seller)
    assert client.get(reverse("settlement:statements")).status_code == 403
    assert client.post(url, {"reference": "x"}).status_code == 403


def test_the_operators_rates_page_refuses_a_rate_above_100(client, operator, shop):
    client.force_login(operator)
    assert client.get(reverse("settlement:rates")).status_code == 200
    response = client.post(reverse("settlement:rates"), {"kind": "shop", "target_id": shop.pk, "rate": "150"})
    assert response.status_code == 422 and "between 0 and 100" in response.context["error"]
    assert not ShopCommission.objects.exists()
    assert client.post(reverse("settlement:rates"), {"kind": "shop", "target_id": shop.pk, "rate": "2"}
                       ).status_code == 302
    assert ShopCommission.objects.get().rate == Decimal("2.00")


# ---------------------------------------------------------------------------- shop isolation of orders


def test_each_shop_sees_and_ships_only_its_own_order_and_operators_see_both(
        api, seller_token, two_shop_checkout, seller_client, client):
    mine, theirs = two_shop_checkout
    listed = api.get("/seller/orders", seller_token).json()["results"]
    assert [o["id"] for o in listed] == [mine.pk]
    assert api.get(f"/seller/orders/{theirs.pk}", seller_token).status_code == 404
    shipped = api.post(f"/seller/orders/{theirs.pk}/ship", {"carrier": "sf", "tracking_number": "SF1"}, seller_token)
    assert shipped.status_code == 404 and Order.objects.get(pk=theirs.pk).status == "paid"
    assert seller_client.get(reverse("console:order_detail", args=[theirs.pk])).status_code == 404
    # the platform reads every shop's orders (the admin's read-only order list)
    client.force_login(f.make_user(is_staff=True, is_superuser=True))
    page = client.get(reverse("admin:orders_order_changelist")).content.decode()
    assert mine.number in page and theirs.number in page
