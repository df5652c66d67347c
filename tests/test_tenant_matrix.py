"""Tenant isolation and shop roles, as a matrix over every seller endpoint.

Every URL pattern under /console/ and every route of the API under /seller
must have a row in CONSOLE or API below, naming the area it needs
(shops.roles) and how to call it. A new endpoint without a row fails
`test_every_seller_endpoint_has_a_row` with its name, so adding a row is the
price of adding an endpoint. For each row:

- a member of another shop gets 404 for this shop's objects (rows whose path
  names an object), a non-member 403 (API rows without an object) and a
  `?shop=` of a foreign shop 404 (console rows without an object);
- every role lacking the area gets 403, and nothing in the database changes;
- the owner, on their own shop's objects, is not refused (403/404): the row's
  area is the one the endpoint really checks.

Adding a row is one line: `"POST /seller/things/{thing_id}/do": api("area", {"json": "body"})`
with `{thing_id}` mapped to an object kind in PARAMS (or `ids={"thing_id": "kind"}`);
console rows: `"console:name": page("area", "POST", pk="kind")`.
"""

from dataclasses import dataclass, field
from functools import partial

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from shopyard.aftersales import services as aftersales
from shopyard.aftersales.defaults import ensure_default_reasons
from shopyard.aftersales.models import Reason
from shopyard.api import api as ninja_api
from shopyard.catalog import bulk
from shopyard.catalog import services as catalog
from shopyard.channels.services import create_campaign_link
from shopyard.notifications.models import WebhookDelivery
from shopyard.notifications.webhooks import register_endpoint
from shopyard.reviews import services as reviews
from shopyard.service import conversations, qa, tickets
from shopyard.settlement import services as settlement
from shopyard.shops import applications, decoration
from shopyard.shops.models import ShopMember
from shopyard.shops.roles import PERMISSIONS, Role, allows
from tests import factories as f
from tests.db_writes import recording_writes, tables_of_apps


@dataclass
class Row:
    area: str | None  # None: an operator page
    method: str = "GET"
    body: dict | None = None
    ids: dict = field(default_factory=dict)  # path parameter -> object kind (beyond PARAMS)
    multipart: bool = False
    owner_may_fail: bool = False  # the owner's own call may be refused by a business rule (never 403/404)
    query: str = ""  # console: a query string, "{kind}" placeholders filled with object ids
    data: dict | None = None  # console: the POST form

    @property
    def names_object(self) -> bool:
        return bool(self.ids) or "{" in self.query


def api(area, body=None, *, ids=None, multipart=False):
    return Row(area, body=body, ids=ids or {}, multipart=multipart)


def page(area, method="GET", query="", data=None, **ids):
    return Row(area, method=method, ids=ids, query=query, data=data)


def operator_page(method="GET", **ids):
    return Row(None, method=method, ids=ids)


# path parameter -> the kind of object it names (World.objects keys)
PARAMS = {"product_id": "product", "sku_id": "sku", "image_id": "image", "order_id": "order",
          "campaign_id": "group", "promotion_id": "promotion", "sale_id": "flash", "endpoint_id": "webhook",
          "delivery_id": "delivery", "review_id": "review", "link_id": "link", "case_id": "case",
          "question_id": "question", "conversation_id": "conversation", "reply_id": "canned", "ticket_id": "ticket",
          "member_id": "member", "category_id": "shop_category", "block_id": "block", "statement_id": "statement",
          "token": "import"}
# object kinds a path names by another field than the pk
KEY_FIELDS = {"import": "token"}


def key_of(world, kind):
    return getattr(world.objects[kind], KEY_FIELDS.get(kind, "pk"))


def import_csv(world) -> bytes:
    """A one-product catalogue file that checks clean for `world`'s shop."""
    return ("product_key,title,category,sku_code,price,stock\n"
            f"K1,导入商品,{world.objects['category'].slug},{world.shop.slug}-IMP-1,19.90,3\n").encode()


# multipart placeholders -> a fresh upload
UPLOADS = {"png": lambda world: f.png_upload(),
           "csv": lambda world: SimpleUploadedFile("goods.csv", import_csv(world), content_type="text/csv")}

START, END = "2030-01-01T10:00:00+08:00", "2030-01-02T10:00:00+08:00"
PRODUCT = {"category_id": "{category}", "title": "新品", "skus": [{"code": "NEW-1", "price": "10.00", "stock": 1}]}
FREIGHT = {"name": "顺丰", "basis": "piece", "first_units": "1", "first_fee": "10.00", "additional_units": "1",
           "additional_fee": "5.00"}

API = {
    "GET /seller/products": api("catalog"),
    "POST /seller/products": api("catalog", PRODUCT),
    "GET /seller/products/{product_id}": api("catalog"),
    "PUT /seller/products/{product_id}": api("catalog", PRODUCT),
    "POST /seller/products/{product_id}/publish": api("catalog"),
    "POST /seller/products/{product_id}/unpublish": api("catalog"),
    "POST /seller/products/{product_id}/images": api("catalog", {"image": "png"}, multipart=True),
    "PUT /seller/products/{product_id}/skus/{sku_id}/image": api("catalog", {"image_id": "{image}"}),
    "PUT /seller/products/{product_id}/images/order": api("catalog", {"image_ids": ["{image}"]}),
    "PUT /seller/products/{product_id}/skus/matrix": api("catalog", {"attributes": []}),
    "DELETE /seller/products/{product_id}/images/{image_id}": api("catalog"),
    "GET /seller/orders": api("orders"),
    "GET /seller/orders/{order_id}": api("orders"),
    "POST /seller/orders/{order_id}/ship": api("orders", {"carrier": "sf", "tracking_number": "SF1428839201775"}),
    "GET /seller/orders/{order_id}/refunds": api("orders"),
    "POST /seller/orders/{order_id}/refunds": api("orders", {"lines": [{"line_id": "{line}", "quantity": 1}],
                                                             "reason": "缺货"}),
    "GET /seller/orders/{order_id}/parcels": api("orders"),
    "POST /seller/orders/{order_id}/parcels": api("orders", {"carrier": "sf", "tracking_number": "SF1428839201776"}),
    "GET /seller/group-buys": api("promotions"),
    "POST /seller/group-buys": api("promotions", {"name": "x", "group_size": 2, "starts_at": START, "ends_at": END,
                                                  "items": [{"sku_id": "{sku}", "group_price": "9.90"}]}),
    "GET /seller/group-buys/{campaign_id}": api("promotions"),
    "POST /seller/group-buys/{campaign_id}/publish": api("promotions"),
    "POST /seller/group-buys/{campaign_id}/stop": api("promotions"),
    "GET /seller/promotions": api("promotions"),
    "POST /seller/promotions": api("promotions", {"kind": "spend_tiers", "name": "x", "starts_at": START,
                                                  "ends_at": END, "rules": {"tiers": [{"threshold": "100",
                                                                                       "amount_off": "5"}]}}),
    "GET /seller/promotions/{promotion_id}": api("promotions"),
    "PATCH /seller/promotions/{promotion_id}": api("promotions", {"name": "改名"}),
    "POST /seller/promotions/{promotion_id}/publish": api("promotions"),
    "POST /seller/promotions/{promotion_id}/stop": api("promotions"),
    "GET /seller/coupons": api("promotions"),
    "POST /seller/coupons": api("promotions", {"name": "x", "benefit": "amount", "total_quantity": 5,
                                               "claim_starts_at": START, "claim_ends_at": END, "threshold": "100",
                                               "amount_off": "10", "valid_from": START, "valid_until": END}),
    "POST /seller/coupons/{template_id}/publish": api("promotions", ids={"template_id": "coupon"}),
    "POST /seller/coupons/{template_id}/stop": api("promotions", ids={"template_id": "coupon"}),
    "POST /seller/coupons/{template_id}/issue": api("promotions", {"usernames": ["{buyer_name}"]},
                                                    ids={"template_id": "coupon"}),
    "GET /seller/freight-templates": api("shipping"),
    "POST /seller/freight-templates": api("shipping", FREIGHT),
    "POST /seller/freight-templates/assign": api("shipping", {"template_id": "{freight}", "product_ids": ["{product}"]}),
    "GET /seller/freight-templates/{template_id}": api("shipping", ids={"template_id": "freight"}),
    "PUT /seller/freight-templates/{template_id}": api("shipping", FREIGHT, ids={"template_id": "freight"}),
    "DELETE /seller/freight-templates/{template_id}": api("shipping", ids={"template_id": "freight"}),
    "GET /seller/webhooks": api("shop_settings"),
    "POST /seller/webhooks": api("shop_settings", {"url": "https://example.com/hook", "event_types": ["order.paid"]}),
    "DELETE /seller/webhooks/{endpoint_id}": api("shop_settings"),
    "GET /seller/webhooks/{endpoint_id}/deliveries": api("shop_settings"),
    "POST /seller/webhook-deliveries/{delivery_id}/replay": api("shop_settings"),
    "GET /seller/flash/sessions": api("promotions"),
    "POST /seller/flash/sessions": api("promotions", {"name": "x", "starts_at": START, "ends_at": END}),
    "POST /seller/flash/sessions/{sale_id}/items": api("promotions", {"sku_id": "{sku}", "flash_price": "1.00",
                                                                      "flash_stock": 1, "per_user_limit": 1}),
    "POST /seller/flash/sessions/{sale_id}/publish": api("promotions"),
    "POST /seller/flash/sessions/{sale_id}/cancel": api("promotions"),
    "GET /seller/reviews": api("reviews"),
    "POST /seller/reviews/{review_id}/reply": api("reviews", {"text": "谢谢"}),
    "POST /seller/reviews/{review_id}/follow-up-reply": api("reviews", {"text": "谢谢"}),
    "GET /seller/campaign-links": api("channels"),
    "POST /seller/campaign-links": api("channels", {"name": "x", "source": "wechat", "campaign": "c",
                                                    "target": "shop"}),
    "GET /seller/campaign-links/{link_id}": api("channels"),
    "GET /seller/channel-report": api("channels"),
    "GET /seller/aftersales/cases": api("aftersales"),
    "GET /seller/aftersales/cases/{case_id}": api("aftersales"),
    "POST /seller/aftersales/cases/{case_id}/approve": api("aftersales", {}),
    "POST /seller/aftersales/cases/{case_id}/reject": api("aftersales", {"note": "x"}),
    "POST /seller/aftersales/cases/{case_id}/receive": api("aftersales", {}),
    "POST /seller/aftersales/cases/{case_id}/inspect": api("aftersales", {"resaleable": True}),
    "POST /seller/aftersales/cases/{case_id}/ship-replacement": api("aftersales", {"carrier": "sf",
                                                                                   "tracking_number": "SF1428839201777"}),
    "POST /seller/aftersales/cases/{case_id}/escalate": api("aftersales", {"note": "x"}),
    "POST /seller/aftersales/cases/{case_id}/photos": api("aftersales", {"photo": "png"}, multipart=True),
    "GET /seller/aftersales/policy": api("aftersales"),
    "PUT /seller/aftersales/policy": api("aftersales", {}),
    "GET /seller/aftersales/stats": api("statistics"),
    "GET /seller/questions": api("service"),
    "POST /seller/questions/{question_id}/answers": api("service", {"text": "有货"}),
    "GET /seller/conversations": api("service"),
    "GET /seller/conversations/{conversation_id}": api("service"),
    "POST /seller/conversations/{conversation_id}/messages": api("service", {"body": "您好"}),
    "POST /seller/conversations/{conversation_id}/images": api("service", {"image": "png"}, multipart=True),
    "POST /seller/conversations/{conversation_id}/read": api("service", {}),
    "POST /seller/conversations/{conversation_id}/assign": api("service", {}),
    "POST /seller/conversations/{conversation_id}/close": api("service", {}),
    "GET /seller/canned-replies": api("service"),
    "POST /seller/canned-replies": api("service", {"title": "t", "body": "b"}),
    "PUT /seller/canned-replies/{reply_id}": api("service", {"title": "t", "body": "b"}),
    "DELETE /seller/canned-replies/{reply_id}": api("service"),
    "GET /seller/tickets": api("service"),
    "GET /seller/tickets/{ticket_id}": api("service"),
    "POST /seller/tickets/{ticket_id}/messages": api("service", {"body": "处理中"}),
    "POST /seller/tickets/{ticket_id}/actions": api("service", {"action": "resolve"}),
    "POST /seller/tickets/{ticket_id}/escalate": api("service", {"reason": "x"}),
    "POST /seller/tickets/{ticket_id}/assign": api("service", {}),
    "GET /seller/staff": api("staff"),
    "POST /seller/staff": api("staff", {"login": "{outsider_name}", "role": "cs_agent"}),
    "PUT /seller/staff/{member_id}": api("staff", {"role": "order_clerk"}),
    "DELETE /seller/staff/{member_id}": api("staff"),
    "GET /seller/shop/profile": api("shop_settings"),
    "PUT /seller/shop/profile": api("shop_settings", {"description": "老店", "promises": ["genuine"]}),
    "POST /seller/shop/logo": api("shop_settings", {"image": "png"}, multipart=True),
    "POST /seller/shop/images": api("shop_settings", {"image": "png"}, multipart=True),
    "GET /seller/shop/categories": api("catalog"),
    "POST /seller/shop/categories": api("catalog", {"name": "新分类"}),
    "PUT /seller/shop/categories/{category_id}": api("catalog", {"name": "改名"}),
    "DELETE /seller/shop/categories/{category_id}": api("catalog"),
    "PUT /seller/shop/categories/{category_id}/products": api("catalog", {"product_ids": ["{product}"]}),
    "GET /seller/shop/decoration": api("shop_settings"),
    "POST /seller/shop/decoration/blocks": api("shop_settings", {"kind": "banner", "config": {
        "slides": [{"image_id": "{shop_image}", "link": "/", "alt": "x"}]}}),
    "PATCH /seller/shop/decoration/blocks/{block_id}": api("shop_settings", {"title": "改名", "visible": False}),
    "DELETE /seller/shop/decoration/blocks/{block_id}": api("shop_settings"),
    "PUT /seller/shop/decoration/order": api("shop_settings", {"block_ids": ["{block}"]}),
    "GET /seller/shop/decoration/preview": api("shop_settings"),
    "POST /seller/shop/decoration/publish": api("shop_settings"),
    "GET /seller/settlement/balance": api("finance"),
    "GET /seller/settlement/statements": api("finance"),
    "GET /seller/settlement/statements/{statement_id}": api("finance"),
    "GET /seller/settlement/entries": api("finance"),
    "GET /seller/settlement/statements/{statement_id}/entries.csv": api("finance"),
    "GET /seller/catalog/export": api("catalog"),
    "POST /seller/catalog/imports": api("catalog", {"file": "csv"}, multipart=True),
    "POST /seller/catalog/imports/{token}/confirm": api("catalog"),
    "GET /seller/skus": api("catalog"),
    "PUT /seller/skus": api("catalog", {"items": [{"sku_id": "{sku}", "price": "99.00", "stock": 7}]}),
}

CONSOLE = {
    "console:dashboard": page("overview"),
    "console:products": page("catalog"),
    "console:product_create": page("catalog", "POST"),
    "console:product_edit": page("catalog", "POST", pk="product"),
    "console:product_publish": page("catalog", "POST", pk="product"),
    "console:image_upload": page("catalog", "POST", pk="product"),
    "console:image_delete": page("catalog", "POST", pk="product", image_id="image"),
    "console:image_move": page("catalog", "POST", pk="product", image_id="image"),
    "console:image_order": page("catalog", "POST", pk="product"),
    "console:reviews": page("reviews"),
    "console:review_reply": page("reviews", "POST", pk="review"),
    "console:messages": page("overview"),
    "console:messages_read": page("overview", "POST"),
    "console:webhooks": page("shop_settings", "POST"),
    "console:webhook_detail": page("shop_settings", pk="webhook"),
    "console:webhook_delete": page("shop_settings", "POST", pk="webhook"),
    "console:webhook_replay": page("shop_settings", "POST", pk="delivery"),
    "console:channels": page("channels", "POST"),
    "console:platform_channels": operator_page(),
    "console:freight_templates": page("shipping"),
    "console:freight_template_create": page("shipping", "POST"),
    "console:freight_assign": page("shipping", "POST"),
    "console:freight_template_edit": page("shipping", "POST", pk="freight"),
    "console:freight_template_delete": page("shipping", "POST", pk="freight"),
    "console:orders": page("orders"),
    "console:packing_list": page("orders", query="?ids={order}"),
    "console:bulk_ship": page("orders", "POST"),
    "console:order_detail": page("orders", pk="order"),
    "console:order_ship": page("orders", "POST", pk="order"),
    "console:order_refund": page("orders", "POST", pk="order"),
    "console:cases": page("aftersales"),
    "console:case_policy": page("aftersales", "POST"),
    "console:case_detail": page("aftersales", pk="case"),
    "console:case_step": page("aftersales", "POST", pk="case", step="approve"),
    "console:promotions": page("promotions"),
    "console:promotion_create": page("promotions", "POST", query="?kind=spend_tiers"),
    "console:promotion_edit": page("promotions", "POST", pk="promotion"),
    "console:promotion_publish": page("promotions", "POST", pk="promotion"),
    "console:promotion_stop": page("promotions", "POST", pk="promotion"),
    "console:coupons": page("promotions"),
    "console:coupon_create": page("promotions", "POST"),
    "console:coupon_detail": page("promotions", pk="coupon"),
    "console:coupon_publish": page("promotions", "POST", pk="coupon"),
    "console:coupon_stop": page("promotions", "POST", pk="coupon"),
    "console:coupon_issue": page("promotions", "POST", pk="coupon"),
    "console:flash_sales": page("promotions"),
    "console:flash_create": page("promotions", "POST"),
    "console:flash_detail": page("promotions", pk="flash"),
    "console:flash_add_item": page("promotions", "POST", pk="flash"),
    "console:flash_publish": page("promotions", "POST", pk="flash"),
    "console:flash_cancel": page("promotions", "POST", pk="flash"),
    "console:group_buys": page("promotions"),
    "console:group_create": page("promotions", "POST"),
    "console:group_detail": page("promotions", pk="group"),
    "console:group_publish": page("promotions", "POST", pk="group"),
    "console:group_stop": page("promotions", "POST", pk="group"),
    "console:aftersales_stats": page("statistics"),
    "console:aftersales_stats_export": page("statistics"),
    "console:service_conversations": page("service"),
    "console:service_conversation": page("service", pk="conversation"),
    "console:service_conversation_messages": page("service", pk="conversation"),
    "console:service_conversation_send": page("service", "POST", pk="conversation"),
    "console:service_conversation_assign": page("service", "POST", pk="conversation"),
    "console:service_conversation_close": page("service", "POST", pk="conversation"),
    "console:service_canned": page("service", "POST"),
    "console:service_canned_delete": page("service", "POST", pk="canned"),
    "console:service_questions": page("service"),
    "console:service_question_answer": page("service", "POST", pk="question", data={"text": "有现货"}),
    "console:service_tickets": page("service"),
    "console:service_ticket": page("service", pk="ticket"),
    "console:service_ticket_reply": page("service", "POST", pk="ticket"),
    "console:service_ticket_action": page("service", "POST", pk="ticket"),
    "console:staff": page("staff", "POST"),
    "console:staff_role": page("staff", "POST", pk="member"),
    "console:staff_remove": page("staff", "POST", pk="member"),
    "console:operator_applications": operator_page(),
    "console:operator_application": operator_page(pk="application"),
    "console:operator_application_review": operator_page("POST", pk="application"),
    "console:shop_profile": page("shop_settings", "POST", data={"description": "老店", "promises": ["genuine"]}),
    "console:shop_logo": page("shop_settings", "POST"),
    "console:shop_categories": page("catalog", "POST", data={"name": "新分类"}),
    "console:shop_category": page("catalog", "POST", pk="shop_category", data={"name": "改名"}),
    "console:shop_category_delete": page("catalog", "POST", pk="shop_category"),
    "console:decoration": page("shop_settings"),
    "console:decoration_add": page("shop_settings", "POST", data={"kind": "notice", "html": "<p>上新</p>"}),
    "console:decoration_block": page("shop_settings", "POST", pk="block",
                                    data={"title": "改名", "slide_image_1": "{shop_image}"}),
    "console:decoration_block_action": page("shop_settings", "POST", pk="block", data={"action": "hide"}),
    "console:decoration_publish": page("shop_settings", "POST"),
    "console:decoration_image": page("shop_settings", "POST"),
    "console:settlement": page("finance"),
    "console:settlement_entries": page("finance"),
    "console:settlement_statement": page("finance", pk="statement"),
    "console:settlement_export": page("finance", pk="statement"),
    "console:product_import": page("catalog", "POST"),
    "console:product_import_confirm": page("catalog", "POST", data={"token": "{import}"}),
    "console:product_export": page("catalog"),
    "console:sku_bulk_edit": page("catalog", "POST"),
}


# --- enumerating the endpoints -------------------------------------------------


def seller_api_routes() -> list[str]:
    """"METHOD /seller/..." of every operation the API serves under /seller (from its OpenAPI)."""
    paths = ninja_api.get_openapi_schema()["paths"]
    return sorted(f"{method.upper()} {path.removeprefix('/api/v1')}" for path, ops in paths.items()
                  if path.startswith("/api/v1/seller/") for method in ops)


def console_url_names() -> list[str]:
    def walk(patterns, namespace):
        for p in patterns:
            if isinstance(p, URLResolver):
                yield from walk(p.url_patterns, f"{namespace}{p.namespace}:" if p.namespace else namespace)
            elif isinstance(p, URLPattern) and p.name:
                yield f"{namespace}{p.name}"

    return sorted(n for n in walk(get_resolver().url_patterns, "") if n.startswith("console:"))


def test_every_seller_endpoint_has_a_row():
    """A new console page or seller API route must say which area it needs and how to reach it."""
    routes, names = seller_api_routes(), console_url_names()  # once: the OpenAPI schema is slow to build
    assert [r for r in routes if r not in API] == []
    assert [n for n in names if n not in CONSOLE] == []
    assert [r for r in API if r not in routes] == []
    assert [n for n in CONSOLE if n not in names] == []


def test_every_console_view_declares_its_area_in_the_decorator():
    for name, row in CONSOLE.items():
        view = get_resolver().resolve(reverse(name, kwargs=_dummy_kwargs(row))).func
        declared = getattr(view, "seller_area", None) or ("operator" if getattr(view, "operator_only", False) else None)
        assert declared == (row.area or "operator"), name


def _dummy_kwargs(row):
    return {k: (v if k == "step" else 1) for k, v in row.ids.items()}


# --- the world: two shops with one object of every kind ------------------------


ROLES = list(Role.values)


class World:
    def __init__(self, shop, owner, buyer, address):
        self.shop, self.owner = shop, owner
        self.members = {Role.OWNER.value: owner}
        for role in ROLES:
            if role != Role.OWNER:
                user = f.make_user(f"{shop.slug}-{role}")
                ShopMember.objects.create(shop=shop, user=user, role=role)
                self.members[role] = user
        product = f.make_product(shop, price="120.00", stock=50)
        sku = product.skus.get()
        image = catalog.add_image(actor=owner, shop=shop, product_id=product.pk, upload=f.png_upload())
        paid = f.make_paid_order(buyer, address, [(sku, 1)])
        done = f.make_completed_order(buyer, address, [(sku, 1)])
        review = reviews.create_review(actor=buyer, order_id=done.pk, line_id=done.lines.get().pk, rating=5,
                                       logistics=5, service=5, text="很好")
        case = aftersales.open_case(actor=buyer, order_id=done.pk, kind="refund_only",
                                    reason_id=Reason.objects.get(code="quality").pk,
                                    lines=[{"line_id": done.lines.get().pk, "quantity": 1}])
        endpoint, _secret = register_endpoint(actor=owner, shop=shop, url="https://example.com/hooks",
                                              event_types=["order.paid"])
        delivery = WebhookDelivery.objects.create(endpoint=endpoint, event_id=1, event_name="order.paid", body="{}",
                                                  status="dead", next_attempt_at=timezone.now())
        conversation = conversations.open_conversation(actor=buyer, shop_id=shop.pk)
        conversations.send_message(actor=buyer, conversation_id=conversation.pk, body="在吗")
        shop_image = decoration.add_image(actor=owner, shop=shop, upload=f.png_upload())
        self.objects = {
            "category": product.category, "line": paid.lines.get(),
            "product": product, "sku": sku, "image": image, "order": paid, "review": review, "case": case,
            "promotion": f.make_promotion(shop, "spend_tiers", {"tiers": [{"threshold": "120", "amount_off": "20"}]},
                                          actor=owner, publish=False),
            "coupon": f.make_coupon_template(shop, actor=owner, publish=False),
            "flash": f.make_flash_sale(shop, [(f.make_product(shop, price="80.00", stock=5).skus.get(), "9.90", 5, 1)],
                                       actor=owner, publish=False, starts_in_minutes=60),
            "group": f.make_group_buy(shop, sku, actor=owner, publish=False),
            "freight": f.make_freight_template(shop, actor=owner),
            "webhook": endpoint, "delivery": delivery,
            "link": create_campaign_link(actor=owner, shop=shop, data={"name": "春季", "source": "wechat",
                                                                       "campaign": "spring", "target": "shop"}),
            "question": qa.ask_question(actor=buyer, product_id=product.pk, text="有现货吗？"),
            "conversation": conversation,
            "canned": conversations.create_canned_reply(actor=owner, shop=shop, title="问候", body="您好"),
            "ticket": tickets.open_ticket(actor=buyer, category="other", subject="发票", body="请开发票",
                                          shop_id=shop.pk),
            "member": ShopMember.objects.get(shop=shop, role=Role.CS_AGENT),
            "application": applications.submit_application(
                actor=f.make_user(f"{shop.slug}-applicant"), documents=[("id_front", f.png_upload()),
                                                                        ("id_back", f.png_upload())],
                data={"kind": "individual", "shop_name": f"{shop.name}二店", "business_category": "other",
                      "contact_name": "王", "contact_phone": "13800138000",
                      "id_number": "11010519491231002" + applications.id_card_check_digit("11010519491231002")}),
            "shop_category": decoration.create_category(actor=owner, shop=shop, name="上新"),
            "shop_image": shop_image,
            "block": decoration.add_block(actor=owner, shop=shop, kind="banner",
                                          config={"slides": [{"image_id": shop_image.pk}]}),
            "statement": settlement.open_statement(shop_id=shop.pk, currency=shop.currency),
        }
        self.objects["import"] = bulk.stage_import(actor=owner, shop=shop, data=import_csv(self),
                                                   filename="goods.csv")[1]


@pytest.fixture
def worlds(db, media):
    ensure_default_reasons()
    buyer = f.make_user("matrix-buyer")
    address = f.make_address(buyer)
    own_owner, other_owner = f.make_user("own-owner"), f.make_user("foreign-owner")
    own = World(f.make_shop("本店", owner=own_owner), own_owner, buyer, address)
    foreign = World(f.make_shop("别人的店", owner=other_owner), other_owner, buyer, address)
    return own, foreign, buyer


# accounts: tokens and last_login change on every authenticated request; sessions: force_login
NOT_BUSINESS = ("sessions", "admin", "contenttypes", "auth", "accounts")


# --- calling a row -------------------------------------------------------------


class _Rollback(Exception):
    pass


def attempt(call, *, check_changes):
    """(response, changed): `call()` inside a savepoint that is then rolled back, so rows
    never depend on each other's effects; `changed` says whether it wrote a row of a
    business table (tests/db_writes.py watches the statements; hashing the tables before
    and after each call was most of the suite's time)."""
    outcome = {}
    try:
        with transaction.atomic(), recording_writes(ignore=tables_of_apps(NOT_BUSINESS)) as written:
            outcome["response"] = call()
            outcome["changed"] = check_changes and bool(written)
            raise _Rollback
    except _Rollback:
        pass
    return outcome["response"], outcome["changed"]


_TOKENS = {}


def token_header(user):
    if user.pk not in _TOKENS:
        _TOKENS[user.pk] = f.auth(f.token_for(user))
    return _TOKENS[user.pk]


def _fill(value, world, extra):
    if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
        key = value[1:-1]
        return extra[key] if key in extra else key_of(world, key)
    if isinstance(value, list):
        return [_fill(v, world, extra) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, world, extra) for k, v in value.items()}
    return value


def call_api(client, key, row, world, user, extra):
    method, path = key.split(" ", 1)
    for name in [p.strip("{}") for p in path.split("/") if p.startswith("{")]:
        kind = row.ids.get(name) or PARAMS[name]
        path = path.replace("{" + name + "}", str(key_of(world, kind)))
    headers = token_header(user)
    body = _fill(row.body, world, extra) if row.body is not None else None
    url = "/api/v1" + path
    if row.multipart:
        data = {k: (UPLOADS[v](world) if v in UPLOADS else v) for k, v in body.items()}
        return client.post(url, data, **headers)
    if body is None:
        return client.generic(method, url, **headers)
    return getattr(client, method.lower())(url, body, content_type="application/json", **headers)


def call_page(client, name, row, world, user, query=""):
    client.force_login(user)
    kwargs = {k: (v if k == "step" else key_of(world, v)) for k, v in row.ids.items()}
    url = reverse(name, kwargs=kwargs) + (_fill_query(row.query, world) + query.replace("?", "&")
                                          if row.query else query)
    return client.post(url, _fill(row.data or {}, world, {})) if row.method == "POST" else client.get(url)


def _fill_query(query, world):
    for kind in world.objects:
        query = query.replace("{" + kind + "}", str(key_of(world, kind)))
    return query


def test_seller_api_matrix(worlds):
    own, foreign, buyer = worlds
    outsider = f.make_user("matrix-outsider")
    extra = {"buyer_name": buyer.username, "outsider_name": outsider.username}
    client = Client()
    _TOKENS.clear()
    for user in [outsider, *own.members.values()]:  # before the savepoints, which would roll new tokens back
        token_header(user)
    failures = []
    for key, row in API.items():
        writes = not key.startswith("GET ")
        if "{" in key:  # another shop's owner (every area) on this shop's objects: 404
            r, changed = attempt(partial(call_api, client, key, row, foreign, own.owner, extra), check_changes=writes)
            if r.status_code != 404 or changed:
                failures.append(f"{key}: foreign object gave {r.status_code}{' and changed data' if changed else ''}")
        else:
            r, changed = attempt(partial(call_api, client, key, row, own, outsider, extra), check_changes=writes)
            if r.status_code != 403 or changed:
                failures.append(f"{key}: a non-member got {r.status_code}")
        for role in ROLES:  # every role lacking the area: 403, nothing changed
            if allows(role, row.area):
                continue
            r, changed = attempt(partial(call_api, client, key, row, own, own.members[role], extra),
                                 check_changes=writes)
            if r.status_code != 403 or changed:
                failures.append(f"{key}: role {role} got {r.status_code}{' and changed data' if changed else ''}")
        r, _changed = attempt(partial(call_api, client, key, row, own, own.owner, extra), check_changes=False)
        if r.status_code in (403, 404, 422) and not row.owner_may_fail:
            failures.append(f"{key}: the owner got {r.status_code}: {r.content[:300]!r}")
    print("\n".join(failures))
    assert failures == [], "\n".join(failures)


def test_console_matrix(worlds):
    own, foreign, buyer = worlds
    failures = []
    for name, row in CONSOLE.items():
        writes = row.method != "GET"
        if row.area is None:  # operator pages: sellers get 403
            r, _changed = attempt(partial(call_page, Client(), name, row, foreign, own.owner), check_changes=False)
            if r.status_code != 403:
                failures.append(f"{name}: a seller got {r.status_code}")
            continue
        if row.names_object:
            r, changed = attempt(partial(call_page, Client(), name, row, foreign, own.owner), check_changes=writes)
            if r.status_code != 404 or changed:
                failures.append(f"{name}: foreign object gave {r.status_code}{' and changed data' if changed else ''}")
        else:
            r, changed = attempt(partial(call_page, Client(), name, row, own, own.owner,
                                                   query=f"?shop={foreign.shop.pk}"), check_changes=writes)
            if r.status_code != 404 or changed:
                failures.append(f"{name}: ?shop= of a foreign shop gave {r.status_code}")
        for role in ROLES:
            if allows(role, row.area):
                continue
            r, changed = attempt(partial(call_page, Client(), name, row, own, own.members[role]), check_changes=writes)
            if r.status_code != 403 or changed:
                failures.append(f"{name}: role {role} got {r.status_code}{' and changed data' if changed else ''}")
        r, _changed = attempt(partial(call_page, Client(), name, row, own, own.owner), check_changes=False)
        if r.status_code in (403, 404):
            failures.append(f"{name}: the owner got {r.status_code}")
    print("\n".join(failures))
    assert failures == [], "\n".join(failures)


def test_roles_table_is_complete():
    assert set(PERMISSIONS) == set(Role.values)
    assert all(allows(Role.OWNER, a) for a in PERMISSIONS[Role.OWNER])
    assert [r for r in Role.values if allows(r, "staff")] == ["owner"]


def test_attempt_sees_a_refused_call_that_writes(client, shop, seller):
    """The matrix's "nothing changed" check fails a refused call that writes a row, and
    lets through what every request writes (the session, last_login)."""
    from django.http import HttpResponse

    from shopyard.shops.models import Shop

    def refused_but_writes():
        Shop.objects.filter(pk=shop.pk).update(description="改了")
        return HttpResponse(status=403)

    def refused_but_logs_in():
        client.force_login(seller)
        return client.get(reverse("console:dashboard"))

    response, changed = attempt(refused_but_writes, check_changes=True)
    assert response.status_code == 403 and changed
    shop.refresh_from_db()
    assert shop.description != "改了"  # and the savepoint rolled the write back
    response, changed = attempt(refused_but_logs_in, check_changes=True)
    assert response.status_code == 200 and not changed
