"""Channels: tags in URLs and short links, touches recorded after the response,
last-touch attribution within 7 days, the report by channel and campaign, and
the console pages and API for campaign links."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from shopyard.channels import queries, services, tags
from shopyard.channels.middleware import CLAIM_COOKIE, VISITOR_COOKIE
from shopyard.channels.models import CampaignLink, ChannelTouch, OrderAttribution
from shopyard.checkout.services import place_order
from shopyard.core.errors import ValidationFailed
from shopyard.orders.models import Order
from tests import factories as f

TAG = "utm_source=wechat&utm_medium=social&utm_campaign=双11"


def make_link(shop, seller, product=None, **data):
    fields = {"name": "朋友圈推广", "source": "wechat", "medium": "social", "campaign": "双11",
              "target": "product" if product else "shop", "product_id": product.pk if product else None, **data}
    return services.create_campaign_link(actor=seller, shop=shop, data=fields)


def touch(user, *, days_ago, source="wechat", campaign="双11", shop=None):
    row = services.record_touch(tag=tags.Tag(source=source, campaign=campaign), visitor="a" * 32,
                                user_id=user.pk, now=timezone.now() - timedelta(days=days_ago))
    if shop is not None:
        ChannelTouch.objects.filter(pk=row.pk).update(shop=shop)
    return row


def order_now(user, address, sku, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        placed = place_order(actor=user, address_id=address.pk, lines=[{"sku_id": sku.pk, "quantity": 1}])
    return placed.order_ids[0]


# --- tags -----------------------------------------------------------------------------


def test_a_tag_is_cleaned_and_cut_to_its_columns():
    tag = tags.from_query({"utm_source": " we\x00chat ", "utm_medium": "m" * 500, "utm_campaign": "c" * 5000,
                           "utm_id": "bad code!"})
    assert tag == tags.Tag(source="wechat", medium="m" * 64, campaign="c" * 100, link_code="")


@pytest.mark.parametrize("query", [{}, {"utm_source": ""}, {"utm_source": "   "}, {"utm_source": "\x01\x02"},
                                   {"utm_medium": "social"}])
def test_no_usable_source_is_no_tag(query):
    assert tags.from_query(query) is None


# --- short links ------------------------------------------------------------------------


def test_a_short_link_redirects_to_its_target_with_the_tag(client, shop, seller, product):
    link = make_link(shop, seller, product)
    resp = client.get(f"/s/{link.code}/")
    assert resp.status_code == 302
    assert product.slug and resp["Location"] == (f"/p/{product.pk}-{product.slug}/?utm_source=wechat&utm_medium=social"
                                                 f"&utm_campaign=%E5%8F%8C11&utm_id={link.code}")
    shop_link = make_link(shop, seller, name="店铺首页", target="shop", source="weibo")
    assert client.get(f"/s/{shop_link.code}/")["Location"].startswith(f"/shop/{shop.slug}/?utm_source=weibo&")


def test_a_short_link_lands_on_the_canonical_page_in_one_redirect(client, shop, seller, product):
    from shopyard.catalog.models import Product

    product_link = make_link(shop, seller, product)
    shop_link = make_link(shop, seller, name="店铺首页", target="shop", source="weibo")
    for link, final in ((product_link, f.product_url(product)), (shop_link, f"/shop/{shop.slug}/")):
        # one request to the short link, one to where it points: the page itself, tag kept
        location = client.get(f"/s/{link.code}/")["Location"]
        page = client.get(location)
        assert page.status_code == 200, location
        assert location.split("?")[0] == final
        assert f"utm_source={link.source}" in location and f"utm_id={link.code}" in location
    # when the product's slug changes, the same short link goes straight to the new one
    Product.objects.filter(pk=product.pk).update(slug="xin-mingzi")
    location = client.get(f"/s/{product_link.code}/")["Location"]
    assert location.startswith(f"/p/{product.pk}-xin-mingzi/?utm_source=wechat&")
    assert client.get(location).status_code == 200


def test_a_short_link_to_a_hidden_product_gives_away_no_slug(client, shop, seller, product):
    from shopyard.catalog.services import set_published

    link = make_link(shop, seller, product)
    set_published(actor=None, shop=shop, product_id=product.pk, published=False)
    location = client.get(f"/s/{link.code}/")["Location"]
    assert location.startswith(f"/p/{product.pk}/?utm_source=wechat&")
    assert client.get(location).status_code == 404


@pytest.mark.parametrize("code", ["ZZZZZZZZ", "x", "a" * 17, "../../etc", "%27OR1=1", "abc%01def", "短码短码"])
def test_an_unknown_or_malformed_short_code_is_a_404(db, client, code):
    assert client.get(f"/s/{code}/").status_code == 404
    assert ChannelTouch.objects.count() == 0


def test_following_a_short_link_records_one_touch_for_the_links_shop(client, shop, seller, product):
    link = make_link(shop, seller, product)
    final = client.get(f"/s/{link.code}/", follow=True)
    assert final.status_code == 200 and [code for _url, code in final.redirect_chain] == [302]
    [row] = ChannelTouch.objects.all()
    assert (row.source, row.medium, row.campaign, row.link_code, row.shop_id, row.user_id) == (
        "wechat", "social", "双11", link.code, shop.pk, None)
    assert row.landing_path == f.product_url(product)
    assert len(row.visitor) == 32 and final.cookies[VISITOR_COOKIE].value == row.visitor


# --- touches ------------------------------------------------------------------------------


def test_a_tagged_visit_costs_one_insert_and_an_untagged_one_nothing(client, shop, product):
    url = f.product_url(product)
    client.get(url)  # warm the cached category tree
    with CaptureQueriesContext(connection) as plain:
        client.get(url)
    with CaptureQueriesContext(connection) as tagged:
        client.get(f"{url}?{TAG}")
    extra = [q["sql"] for q in tagged.captured_queries[len(plain.captured_queries):]]
    assert len(tagged.captured_queries) == len(plain.captured_queries) + 1
    assert extra[0].startswith("INSERT INTO") and "channels_channeltouch" in extra[0]
    assert ChannelTouch.objects.get().shop_id == shop.pk  # found inside the insert


def test_a_tagged_product_page_keeps_its_query_budget(client, shop, product, django_assert_max_num_queries):
    client.get(f.product_url(product))
    with django_assert_max_num_queries(13):  # the product page's 12 (test_catalog_pages), and the touch
        assert client.get(f"{f.product_url(product)}?{TAG}").status_code == 200


def test_a_logged_in_visit_records_the_user_and_a_shop_page_its_shop(client, shopper, shop):
    client.force_login(shopper)
    client.get(f"/shop/{shop.slug}/?utm_source=douyin&utm_campaign=live")
    row = ChannelTouch.objects.get()
    assert (row.user_id, row.shop_id, row.source, row.campaign) == (shopper.pk, shop.pk, "douyin", "live")


@pytest.mark.parametrize(("query", "status"), [
    ("utm_source=" + "x" * 3000 + "&utm_campaign=" + "y" * 3000, 200),
    ("utm_source=%01%02&utm_campaign=a", 200),
    ("utm_source=%00&utm_campaign=a", 400),  # NUL bytes are refused before any view (core.middleware)
    ("utm_source=a&utm_source=b&utm_id=" + "9" * 40, 200),
    ("utm_source=%E2%80%AE%ED%A0%80&utm_medium=%ZZ", 200),
    ("utm_source='%3B DROP TABLE channels_channeltouch;--", 200),
])
def test_forged_tags_never_fail_the_page(client, product, query, status):
    resp = client.get(f"{f.product_url(product)}?{query}")
    assert resp.status_code == status
    for row in ChannelTouch.objects.all():
        assert len(row.source) <= 64 and len(row.campaign) <= 100 and row.link_code == ""


def test_a_missing_page_or_a_post_records_nothing(client, shopper):
    client.get("/p/999999/?utm_source=wechat")
    client.post("/cart/add/?utm_source=wechat", {})
    assert ChannelTouch.objects.count() == 0


def test_touches_made_before_login_are_claimed_at_login(client, shopper, product):
    client.get(f"{f.product_url(product)}?{TAG}")
    assert ChannelTouch.objects.get().user_id is None and CLAIM_COOKIE in client.cookies
    client.force_login(shopper)
    client.get(reverse("storefront:home"))
    assert ChannelTouch.objects.get().user_id == shopper.pk
    assert client.cookies[CLAIM_COOKIE].value == ""  # deleted: later requests do nothing


def test_another_browsers_touches_are_not_claimed(client, shopper, other_shopper, product):
    other = Client()
    other.get(f"{f.product_url(product)}?{TAG}")
    client.force_login(shopper)
    client.cookies[CLAIM_COOKIE] = "1"
    client.get(reverse("storefront:home"))
    assert ChannelTouch.objects.get().user_id is None


# --- attribution ------------------------------------------------------------------------------


def test_an_order_six_days_after_a_visit_is_attributed(shopper, address, sku, django_capture_on_commit_callbacks):
    touch(shopper, days_ago=8, source="weibo", campaign="old")
    last = touch(shopper, days_ago=6)
    order_id = order_now(shopper, address, sku, django_capture_on_commit_callbacks)
    row = OrderAttribution.objects.get()
    assert (row.order_id, row.touch_id, row.source, row.campaign, row.shop_id) == (
        order_id, last.pk, "wechat", "双11", sku.product.shop_id)
    order = Order.objects.get(pk=order_id)
    assert (row.total, row.currency, row.placed_at) == (order.total, order.currency, order.placed_at)


def test_an_order_eight_days_after_a_visit_is_not_attributed(shopper, address, sku,
                                                             django_capture_on_commit_callbacks):
    touch(shopper, days_ago=8)
    order_now(shopper, address, sku, django_capture_on_commit_callbacks)
    assert OrderAttribution.objects.count() == 0


def test_the_last_touch_wins_and_other_buyers_touches_do_not_count(shopper, other_shopper, address, sku,
                                                                   django_capture_on_commit_callbacks):
    touch(shopper, days_ago=3, source="weibo")
    touch(shopper, days_ago=1, source="douyin")
    touch(other_shopper, days_ago=0, source="email")
    order_now(shopper, address, sku, django_capture_on_commit_callbacks)
    assert OrderAttribution.objects.get().source == "douyin"


def test_attribution_is_once_per_order(shopper, address, sku, django_capture_on_commit_callbacks):
    touch(shopper, days_ago=1)
    order_id = order_now(shopper, address, sku, django_capture_on_commit_callbacks)
    touch(shopper, days_ago=0, source="later")
    payload = {"order_id": order_id, "shop_id": sku.product.shop_id, "user_id": shopper.pk,
               "placed_at": timezone.now().isoformat(), "total": "99.00", "currency": "CNY"}
    services.on_order_placed(payload)  # a redelivered event
    assert list(OrderAttribution.objects.values_list("source", flat=True)) == ["wechat"]


# --- the report ------------------------------------------------------------------------------------


def test_the_report_counts_visits_orders_and_gmv_by_channel_and_campaign(shop, other_shop, shopper, address,
                                                                        sku, other_sku,
                                                                        django_capture_on_commit_callbacks):
    touch(shopper, days_ago=2, source="weibo", campaign="春季", shop=shop)
    touch(shopper, days_ago=1, shop=shop)
    touch(shopper, days_ago=1, shop=other_shop)
    mine_ids = [order_now(shopper, address, sku, django_capture_on_commit_callbacks) for _n in range(2)]
    order_now(shopper, address, other_sku, django_capture_on_commit_callbacks)
    gmv = sum(Order.objects.filter(pk__in=mine_ids).values_list("total", flat=True))
    period = queries.parse_period()

    mine = queries.channel_report(period=period, shop=shop)
    everyone = queries.channel_report(period=period)

    assert [(r.source, r.campaign, r.visits, r.orders, r.gmv) for r in mine["rows"]] == [
        ("wechat", "双11", 1, 2, {"CNY": gmv}), ("weibo", "春季", 1, 0, {})]
    assert gmv > Decimal("0")
    assert (everyone["total"].visits, everyone["total"].orders) == (3, 3)
    assert everyone["rows"][0].orders == 3


def test_a_period_is_checked():
    today = timezone.localdate()
    assert queries.parse_period(today=today).start == today - timedelta(days=29)
    for start, end, field in (("2026-13-01", "", "start"), ("", "yesterday", "end"), ("2026-02-01", "2026-01-01", "start"),
                              ("2024-01-01", "2026-01-01", "start")):
        with pytest.raises(ValidationFailed) as exc:
            queries.parse_period(start, end)
        assert list(exc.value.fields) == [field]


# --- campaign links: rules, console, API -------------------------------------------------------------


def test_a_link_to_another_shops_or_a_hidden_product_is_refused(shop, seller, other_sku):
    draft = f.make_product(shop, publish=False)
    for product_id in (other_sku.product_id, draft.pk, 99999999, "abc"):
        with pytest.raises(ValidationFailed) as exc:
            make_link(shop, seller, target="product", product_id=product_id)
        assert list(exc.value.fields) == ["product_id"]
    assert CampaignLink.objects.count() == 0


def test_bad_link_fields_get_field_messages_and_nothing_is_saved(shop, seller):
    with pytest.raises(ValidationFailed) as exc:
        make_link(shop, seller, name="", source="微信 群", medium="x" * 65, campaign="c" * 101, target="page")
    assert set(exc.value.fields) == {"name", "source", "medium", "campaign", "target"}
    assert CampaignLink.objects.count() == 0


def test_the_seller_creates_a_link_and_reads_the_report_in_the_console(seller_client, shop, product):
    page = seller_client.get(reverse("console:channels"))
    assert page.status_code == 200 and "channel-report" in page.content.decode()
    resp = seller_client.post(reverse("console:channels"), {
        "name": "朋友圈", "source": "WeChat", "medium": "", "campaign": "双11", "target": "product",
        "product_id": str(product.pk)})
    assert resp.status_code == 302
    link = CampaignLink.objects.get()
    assert (link.shop_id, link.source, link.product_id) == (shop.pk, "wechat", product.pk)
    html = seller_client.get(reverse("console:channels")).content.decode()
    assert f"http://testserver/s/{link.code}/" in html and 'data-copy="short-' in html


def test_console_link_errors_show_beside_the_fields(seller_client):
    resp = seller_client.post(reverse("console:channels"), {"name": "", "source": "", "campaign": "", "target": "shop"})
    assert resp.status_code == 422
    assert CampaignLink.objects.count() == 0
    bad_period = seller_client.get(reverse("console:channels") + "?start=2026-99-99")
    assert bad_period.status_code == 200 and "YYYY-MM-DD" in bad_period.content.decode()


def test_the_platform_report_is_for_operators_only(client, seller_client):
    assert seller_client.get(reverse("console:platform_channels")).status_code == 403  # core.access.operator_required
    client.force_login(f.make_user(is_staff=True))
    assert client.get(reverse("console:platform_channels")).status_code == 200


def test_api_campaign_links_and_report(api, seller_token, shop, product, other_shop):
    created = api.post("/seller/campaign-links", {"name": "邮件", "source": "email", "campaign": "周报",
                                                        "target": "product", "product_id": product.pk},
                       token=seller_token)
    assert created.status_code == 201
    body = created.json()
    assert body["short_url"] == f"http://testserver/s/{body['code']}/"
    assert body["full_url"] == (f"http://testserver{f.product_url(product)}?utm_source=email"
                                f"&utm_campaign=%E5%91%A8%E6%8A%A5&utm_id={body['code']}")
    assert [row["id"] for row in api.get("/seller/campaign-links", token=seller_token).json()] == [body["id"]]
    foreign = make_link(other_shop, f.make_user(), name="别家")
    assert api.get(f"/seller/campaign-links/{foreign.pk}", token=seller_token).status_code == 404
    report = api.get("/seller/channel-report?start=2026-01-01&end=2026-01-31", token=seller_token)
    assert report.status_code == 200 and report.json()["rows"] == []
    assert api.get("/seller/channel-report?start=nope", token=seller_token).status_code == 422
    assert api.get("/operator/channel-report", token=seller_token).status_code == 403


def test_listing_links_reads_their_products_urls_in_one_query(api, seller_token, shop, seller):
    products = [f.make_product(shop, title=f"链接商品{n}") for n in range(3)]
    make_link(shop, seller, products[0])
    api.get("/seller/campaign-links", token=seller_token)  # the token's first use is written once
    with CaptureQueriesContext(connection) as one:
        assert len(api.get("/seller/campaign-links", token=seller_token).json()) == 1
    for p in products[1:]:
        make_link(shop, seller, p)
    with CaptureQueriesContext(connection) as three:
        body = api.get("/seller/campaign-links", token=seller_token).json()
    assert len(three) == len(one)
    assert {row["full_url"].split("?")[0] for row in body} == {f"http://testserver{f.product_url(p)}" for p in products}


def test_api_refuses_bad_link_input_with_field_messages(api, seller_token, shop):
    resp = api.post("/seller/campaign-links", {"name": "x", "source": "a b", "campaign": "c",
                                                     "target": "product"}, token=seller_token)
    assert resp.status_code == 422 and set(resp.json()["fields"]) == {"source", "product_id"}
    assert CampaignLink.objects.count() == 0


def test_old_touches_are_purged(shopper):
    touch(shopper, days_ago=500)
    kept = touch(shopper, days_ago=10)
    assert services.purge_old_touches() == 1
    assert list(ChannelTouch.objects.values_list("pk", flat=True)) == [kept.pk]


def test_end_to_end_a_short_link_visit_then_login_then_order_shows_in_the_sellers_report(
        client, shop, seller, shopper, address, product, django_capture_on_commit_callbacks):
    # given a seller's campaign link followed by a visitor who is not logged in yet
    link = make_link(shop, seller, product)
    assert client.get(f"/s/{link.code}/", follow=True).status_code == 200
    # when they log in and place an order
    client.force_login(shopper)
    client.get(reverse("storefront:home"))
    order_id = order_now(shopper, address, product.skus.get(), django_capture_on_commit_callbacks)
    # then the order is attributed to the link and the seller's report counts it
    attribution = OrderAttribution.objects.get()
    assert (attribution.order_id, attribution.link_code, attribution.source) == (order_id, link.code, "wechat")
    report = queries.channel_report(period=queries.parse_period(), shop=shop)
    [row] = report["rows"]
    assert (row.source, row.campaign, row.visits, row.orders) == ("wechat", "双11", 1, 1)
    assert row.gmv == {"CNY": Order.objects.get(pk=order_id).total}


def test_the_report_gmv_is_net_of_a_partial_refund(shop, seller, shopper, address, sku,
                                                   django_capture_on_commit_callbacks):
    from shopyard.payments import refunds
    from shopyard.payments import services as payments
    from shopyard.payments.gateways import simulated
    from shopyard.payments.models import Payment

    # given an order attributed to a campaign and paid
    touch(shopper, days_ago=1, shop=shop)
    with django_capture_on_commit_callbacks(execute=True):
        placed = place_order(actor=shopper, address_id=address.pk, lines=[{"sku_id": sku.pk, "quantity": 2}])
    body, headers = simulated.build_notification(payment=Payment.objects.get(pk=placed.payment_id), status="success")
    with django_capture_on_commit_callbacks(execute=True):
        assert payments.handle_notification(gateway="simulated", body=body, headers=headers) == "applied"
    order = Order.objects.get(pk=placed.order_ids[0])
    before = queries.channel_report(period=queries.parse_period(), shop=shop)["rows"][0]
    assert before.gmv == {"CNY": order.total} and before.refunded == {}
    # when the seller refunds ¥20.00 of it and the gateway completes the refund
    with django_capture_on_commit_callbacks(execute=True):
        refund = refunds.refund_order_lines(actor=seller, shop=shop, order_id=order.pk, reason="少发",
                                            lines=[{"line_id": order.lines.get().pk, "amount": "20.00"}])
    refund.refresh_from_db()
    assert refund.status == "succeeded"
    # then the campaign's GMV (and the total) is the order's total less the refund
    report = queries.channel_report(period=queries.parse_period(), shop=shop)
    row = report["rows"][0]
    assert (row.source, row.campaign, row.orders) == ("wechat", "双11", 1)
    assert row.gmv == {"CNY": order.total - Decimal("20.00")}
    assert row.refunded == {"CNY": Decimal("20.00")}
    assert report["total"].gmv == {"CNY": order.total - Decimal("20.00")}
    assert queries.channel_report(period=queries.parse_period())["total"].gmv == {"CNY": order.total - Decimal("20.00")}
