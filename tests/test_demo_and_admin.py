"""The demo data a new user sees first, the bench catalogue, and the operator admin."""

import io
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth import authenticate
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.urls import reverse

from shopyard.accounts.models import Address, ApiToken, User
from shopyard.catalog.models import Category, Product, ProductImage, Sku
from shopyard.catalog.queries import published_products
from shopyard.demo import images, loader
from shopyard.inventory.models import StockLevel, StockMovement
from shopyard.orders.models import Order
from shopyard.payments.models import Payment
from shopyard.shops.models import Shop, ShopMember
from shopyard.storefront import catalog_views

CJK = re.compile(r"[\u4e00-\u9fff]")


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def files_under(root: Path) -> int:
    return sum(1 for p in root.rglob("*") if p.is_file())


def snapshot():
    return {
        m.__name__: m.objects.count()
        for m in (User, Address, Shop, ShopMember, Category, Product, Sku, StockLevel, StockMovement, ProductImage,
                  Order, Payment)
    }


@pytest.mark.django_db
def test_load_demo_builds_a_real_looking_marketplace_and_loads_once(media, client):
    # when the default demo is loaded into an empty database
    output = run("load_demo")

    # then: a platform self-operated shop and independent seller shops, with delivery fees
    assert Shop.objects.filter(kind=Shop.Kind.SELF_OPERATED).count() == 1
    assert Shop.objects.filter(kind=Shop.Kind.SELLER).count() >= 2
    assert Shop.objects.count() >= 3
    own = Shop.objects.get(kind=Shop.Kind.SELF_OPERATED)
    assert (own.name, own.name_en, own.shipping_fee) == ("自营旗舰店", "Shopyard Self-operated", Decimal("0"))
    galaxy = Shop.objects.get(slug="galaxy-digital")
    assert (galaxy.shipping_fee, galaxy.free_shipping_over) == (Decimal("10.00"), Decimal("199.00"))

    # a two-level category tree of at least 8 categories, each top level with children
    assert Category.objects.count() >= 8
    roots = Category.objects.filter(parent__isnull=True)
    assert roots.count() >= 2
    assert all(root.children.exists() for root in roots)
    assert not Category.objects.filter(parent__parent__isnull=False).exists()  # no third level
    assert Category.objects.filter(slug="phones", parent__slug="digital").exists()

    # a category with more products than one listing page holds: its second page lists the rest
    digital = Category.objects.get(slug="digital")
    listed = published_products(category=digital).count()
    assert listed > catalog_views.PER_PAGE
    first = client.get(reverse("storefront:category", args=["digital"]))
    second = client.get(reverse("storefront:category", args=["digital"]), {"page": 2})
    assert (len(first.context["products"]), len(second.context["products"])) == (
        catalog_views.PER_PAGE, listed - catalog_views.PER_PAGE)
    assert second.context["page"].number == 2 and 'href="?page=2"' in first.content.decode()

    # at least 60 bilingual products (84 by default), each with SKUs, stock and pictures on disk
    products = list(Product.objects.prefetch_related("skus__stock", "skus__options", "images", "attributes"))
    assert len(products) == loader.DEFAULT_PRODUCTS >= 60
    for product in products:
        assert CJK.search(product.title), product.title
        assert product.title_en and not CJK.search(product.title_en), product.title_en
        assert CJK.search(product.description) and product.description_en
        skus = list(product.skus.all())
        assert skus
        for sku in skus:
            assert sku.stock.quantity >= 0  # every SKU has its stock level
            assert sku.price == sku.price.quantize(Decimal("0.01")) and sku.price > 0
            assert sku.options.count() == len(product.attributes.all())  # built from the attributes
        assert product.min_price == min(s.price for s in skus)
        assert product.max_price == max(s.price for s in skus)
        pictures = list(product.images.all())
        assert 2 <= len(pictures) <= 3
        for picture in pictures:
            assert Path(picture.image.path).is_file() and Path(picture.thumbnail.path).is_file()
            assert str(media) in picture.thumbnail.path
    codes = list(Sku.objects.values_list("code", flat=True))
    assert len(codes) == len(set(codes))

    # SKUs come from real attribute combinations: colour × size for clothing
    tee = Product.objects.get(title_en="Men's Cotton Crew-neck T-shirt")
    assert list(tee.attributes.values_list("name_en", flat=True)) == ["Colour", "Size"]
    assert tee.skus.count() == 4 * 5
    assert set(tee.skus.values_list("name_en", flat=True)) >= {"White / S", "Black / XXL"}
    phone = Product.objects.get(title_en="Galaxy X20 Pro 5G Smartphone")
    prices = {s.name_en: s.price for s in phone.skus.all()}
    assert prices["Obsidian Black / 128GB"] < prices["Obsidian Black / 512GB"]

    # mostly published, a couple of drafts, some sold-out SKUs, varied sales
    assert Product.objects.filter(status=Product.Status.DRAFT).count() == 2
    assert StockLevel.objects.filter(quantity=0).exists()
    assert len(set(Product.objects.values_list("sales_count", flat=True))) > 20

    # demo accounts work with the printed passwords
    operator = authenticate(username="operator", password="operator123")
    assert operator.is_superuser and operator.is_staff
    shopper = authenticate(username="shopper", password="shopper123")
    assert shopper.addresses.count() == 2 and shopper.addresses.filter(is_default=True).count() == 1
    for username, slug in (("seller", "galaxy-digital"), ("seller2", "aoki-home")):
        user = authenticate(username=username, password="seller123")
        assert ShopMember.objects.get(user=user, role=ShopMember.Role.OWNER).shop.slug == slug
    platform = User.objects.get(username="platform")
    assert platform.is_staff and ShopMember.objects.get(user=platform).shop == own

    # sample orders in several states, placed and paid through the services
    statuses = set(Order.objects.filter(user=shopper).values_list("status", flat=True))
    assert {"completed", "shipped", "paid", "cancelled", "pending_payment"} <= statuses
    assert Payment.objects.filter(status="succeeded").exists()
    # settlement: a shop's last week settled and paid, a refund after it in this week's open statement
    from shopyard.settlement.models import Entry, Statement

    assert {"paid", "open"} <= set(Statement.objects.values_list("status", flat=True))
    paid_shop = Statement.objects.get(status="paid").shop_id
    assert Entry.objects.filter(shop_id=paid_shop, kind="refund", statement__status="open").exists()
    assert sum(Entry.objects.values_list("amount", flat=True)) == 0

    # the accounts and URLs are printed
    for text in ("operator123", "shopper123", "seller123", "/console/", "/admin/", "/api/v1/docs"):
        assert text in output

    # when it runs again with --if-empty: nothing changes, the accounts are printed again
    before, files_before = snapshot(), files_under(media)
    output = run("load_demo", "--if-empty")
    assert snapshot() == before and files_under(media) == files_before
    assert "shopper123" in output and "not loaded again" in output

    # and without --if-empty it refuses to load twice
    with pytest.raises(CommandError):
        run("load_demo")
    assert snapshot() == before and files_under(media) == files_before


@pytest.mark.django_db
def test_small_demo_still_covers_every_category_and_shop(media):
    run("load_demo", "--products", "12", "--no-orders")
    assert Product.objects.count() == 12
    leaves = Category.objects.filter(parent__isnull=False)
    assert all(Product.objects.filter(category=leaf).exists() for leaf in leaves)
    assert all(shop.products.exists() for shop in Shop.objects.all())


def test_pictures_are_deterministic_and_decodable():
    from PIL import Image

    a = images.render(kind="phone", colour=(52, 104, 196), caption="Galaxy X20", sub="GALAXY", variant=1, seed=3)
    b = images.render(kind="phone", colour=(52, 104, 196), caption="Galaxy X20", sub="GALAXY", variant=1, seed=3)
    assert a == b
    with Image.open(io.BytesIO(a)) as img:
        assert img.size == (600, 600) and img.format == "JPEG"


def test_product_specs_are_deterministic_and_spread_over_categories():
    import random

    specs = loader.product_specs(12)
    assert len({s["cat"] for s in specs}) == 12
    more = loader.product_specs(100)
    assert len({s["title_en"] for s in more}) == 100  # repeats become numbered styles

    class Cat:
        pk = 1

    one = loader.build_product_data(specs[0], number=1, shop_code="GD", category=Cat, brand=None, rng=random.Random(5))
    two = loader.build_product_data(specs[0], number=1, shop_code="GD", category=Cat, brand=None, rng=random.Random(5))
    assert one == two


@pytest.mark.django_db
def test_bench_catalogue_bulk_loads_published_products_with_two_skus(media):
    output = run("load_bench_catalog", "--products", "300")
    assert output.count("\n") == 1 and "300 products" in output
    assert Product.objects.filter(status=Product.Status.PUBLISHED).count() == 300
    assert Category.objects.filter(parent__isnull=False).count() >= 8
    for product in Product.objects.prefetch_related("skus__stock", "skus__options", "images")[:50]:
        skus = list(product.skus.all())
        assert len(skus) == 2
        assert all(s.stock.quantity >= 0 and s.options.count() == 1 for s in skus)
        assert product.min_price == min(s.price for s in skus)
        image = product.images.get()
        assert Path(image.image.path).is_file() and Path(image.thumbnail.path).is_file()
    # pictures are shared, not one file per product
    assert files_under(media) < 30


# --- admin ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def admin_demo(django_db_setup, django_db_blocker, tmp_path_factory):
    """One small demo for all admin tests, loaded once in a transaction that is
    rolled back after the module (each test still runs in its own savepoint)."""
    from django.db import transaction
    from django.test import override_settings

    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=tmp_path_factory.mktemp("admin-media")):
        with transaction.atomic():
            run("load_demo", "--products", "24")
            operator = User.objects.get(username="operator")
            ApiToken.objects.create(user=operator, key_hash="0" * 64, prefix="demo0000")
            Group.objects.create(name="Customer service")
            from shopyard.shops.models import Shop, ShopStatusChange

            ShopStatusChange.objects.create(shop=Shop.objects.order_by("pk").first(), from_status="active",
                                            to_status="suspended", action="suspend", actor=operator,
                                            actor_label="operator", reason="admin page test")
            yield operator
            transaction.set_rollback(True)
        assert not Product.objects.exists()  # nothing leaks into other modules


@pytest.fixture
def loaded_admin(admin_demo, db, client):
    client.force_login(admin_demo)
    return client


STORED_AMOUNT = re.compile(r"\b\d+\.\d{4}\b")  # 59.9000: a DecimalField as stored, not as people read it


def _registered_admins():
    return [(model, admin.site.get_model_admin(model)) for model in apps.get_models() if admin.site.is_registered(model)]


def _statement(operator):
    """The demo imports no provider statement: import one for today that names a payment
    nobody made (a "missing here" mismatch), so the reconciliation admin pages open."""
    from django.utils import timezone

    from shopyard.payments.reconciliation import import_statement

    day = timezone.localdate().isoformat()
    data = (f"date,type,reference,gateway_reference,amount,currency\n"
            f"{day},payment,PAY-NOT-OURS,SIM-1,12.30,CNY\n").encode()
    import_statement(actor=operator, gateway="simulated", data=data, filename="statement.csv")


def _late_capture():
    """The demo has no late capture: make one (its queued notification, refund and the
    simulated provider's ledger rows) so their admin pages have something to open."""
    from shopyard.orders.models import Order
    from shopyard.payments import refunds
    from shopyard.payments import services as payments
    from shopyard.payments.gateways import simulated
    from shopyard.payments.models import QueuedNotification

    order = Order.objects.filter(status="cancelled").order_by("pk").first()
    payment = order.payments.order_by("pk").first()
    body, headers = simulated.decide(payment=payment, approve=True)
    queued = QueuedNotification.objects.create(gateway=payment.gateway, body=body.decode(), headers=headers)
    assert payments.deliver_queued(queued_id=queued.pk) == "applied"
    refund = order.refunds.get()
    assert refunds.perform_refund(refund_id=refund.pk) == "succeeded"


def _notifications(operator):
    """Deliver the demo's events (messages, e-mails) to a platform webhook endpoint
    and log one attempt, so the notification admin pages have something to open."""
    from shopyard.core.events import dispatch_pending
    from shopyard.notifications import services, webhooks
    from shopyard.notifications.models import Outgoing, WebhookAttempt, WebhookDelivery

    services.set_preferences(actor=operator, choices={"order_paid": ["inbox"]}, language="en")
    webhooks.register_endpoint(actor=operator, shop=None, url="https://erp.example.com/hooks",
                               event_types=["order.placed", "order.paid", "refund.succeeded"])
    dispatch_pending(limit=100_000)
    if not Outgoing.objects.exists():
        services.notify(user=operator, kind="order_paid", context={"order_number": "1", "total": "1.00",
                                                                   "currency": "CNY"})
    WebhookAttempt.objects.create(delivery=WebhookDelivery.objects.order_by("pk").first(), status_code=200,
                                  duration_ms=12)


def _failed_delivery():
    """The demo's events all go through at once, and only a failure writes delivery rows
    (core.events): fail one, so the deliveries' admin pages have something to open."""
    from shopyard.core import events

    def fails(payload):
        raise RuntimeError("the subscriber is down")

    key = events.subscribe("admin.checked", fails, key="test.admin_fails")
    try:
        event = events.emit("admin.checked", n=1)
        assert events.dispatch(event.pk) == 0
    finally:
        events.unsubscribe("admin.checked", key)


@pytest.mark.django_db
def test_every_admin_changelist_and_change_page_opens(loaded_admin, admin_demo):
    client = loaded_admin
    _late_capture()
    _statement(admin_demo)
    _notifications(admin_demo)
    _failed_delivery()
    assert client.get("/admin/").status_code == 200
    for model, model_admin in _registered_admins():
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        changelist = reverse(f"{prefix}_changelist")
        page = client.get(changelist)
        assert page.status_code == 200, changelist
        # amounts show with the currency's precision, never as stored
        assert not STORED_AMOUNT.findall(page.content.decode()), changelist
        if model_admin.search_fields:
            assert client.get(changelist, {"q": "a"}).status_code == 200, changelist
        obj = model._default_manager.order_by("pk").first()
        assert obj is not None, f"no {model.__name__} to open"
        change = reverse(f"{prefix}_change", args=[obj.pk])
        page = client.get(change)
        assert page.status_code == 200, change
        assert not STORED_AMOUNT.findall(page.content.decode()), change


@pytest.mark.django_db
def test_admin_shows_money_with_symbol_and_precision_and_addresses_as_text(loaded_admin):
    order = Order.objects.filter(shipping_fee__gt=0).order_by("pk").first()
    line = order.lines.order_by("pk").first()
    page = loaded_admin.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()
    expected = {f"¥{order.subtotal.quantize(Decimal('0.01'))}", f"¥{order.total.quantize(Decimal('0.01'))}",
                f"¥{order.shipping_fee.quantize(Decimal('0.01'))}", f"¥{line.unit_price.quantize(Decimal('0.01'))}"}
    assert {text for text in expected if text in page} == expected
    address = order.shipping_address
    assert f"{address['recipient']} {address['phone']}, {address['province']} {address['city']}" in page
    assert "recipient" not in page  # the snapshot's keys are not shown: it is text, not JSON
    listing = loaded_admin.get(reverse("admin:orders_order_changelist")).content.decode()
    assert f"¥{order.total.quantize(Decimal('0.01'))}" in listing
    payment = Payment.objects.order_by("pk").first()
    page = loaded_admin.get(reverse("admin:payments_payment_changelist")).content.decode()
    assert f"¥{payment.amount.quantize(Decimal('0.01'))}" in page
    shop = Shop.objects.get(slug="galaxy-digital")
    page = loaded_admin.get(reverse("admin:shops_shop_change", args=[shop.pk])).content.decode()
    assert 'name="shipping_fee" value="10.00"' in page and 'value="199.00"' in page
    assert "¥10.00" in loaded_admin.get(reverse("admin:shops_shop_changelist")).content.decode()


@pytest.mark.django_db
def test_admin_publish_action_goes_through_the_service(loaded_admin):
    draft = Product.objects.filter(status=Product.Status.DRAFT).first()
    url = reverse("admin:catalog_product_changelist")
    response = loaded_admin.post(url, {"action": "publish", "_selected_action": [draft.pk]}, follow=True)
    assert response.status_code == 200
    draft.refresh_from_db()
    assert draft.status == Product.Status.PUBLISHED and draft.published_at is not None

    loaded_admin.post(url, {"action": "unpublish", "_selected_action": [draft.pk]})
    draft.refresh_from_db()
    assert draft.status == Product.Status.DRAFT


@pytest.mark.django_db
def test_admin_publish_refuses_a_product_without_active_skus(loaded_admin):
    product = Product.objects.filter(status=Product.Status.DRAFT).first()
    product.skus.update(is_active=False)
    url = reverse("admin:catalog_product_changelist")
    response = loaded_admin.post(url, {"action": "publish", "_selected_action": [product.pk]}, follow=True)
    assert response.status_code == 200
    assert "Add an active SKU before publishing." in response.content.decode()
    product.refresh_from_db()
    assert product.status == Product.Status.DRAFT


@pytest.mark.django_db
def test_admin_stock_edit_is_recorded_in_the_ledger(loaded_admin):
    level = StockLevel.objects.order_by("pk").first()
    movements = StockMovement.objects.filter(sku_id=level.pk).count()
    url = reverse("admin:inventory_stocklevel_change", args=[level.pk])
    response = loaded_admin.post(url, {"quantity": level.quantity + 7})
    assert response.status_code == 302
    assert StockLevel.objects.get(pk=level.pk).quantity == level.quantity + 7
    last = StockMovement.objects.filter(sku_id=level.pk).order_by("-id").first()
    assert StockMovement.objects.filter(sku_id=level.pk).count() == movements + 1
    assert (last.delta, last.reason, last.actor.username) == (7, "adjust", "operator")


@pytest.mark.django_db
def test_admin_cannot_change_an_order_status_or_amounts(loaded_admin):
    order = Order.objects.filter(status="paid").first()
    url = reverse("admin:orders_order_change", args=[order.pk])
    page = loaded_admin.get(url).content.decode()
    assert 'name="status"' not in page and 'name="total"' not in page
    response = loaded_admin.post(url, {
        "status": "completed", "total": "0.01", "note": "call before delivery",
        "lines-TOTAL_FORMS": "0", "lines-INITIAL_FORMS": "0",
        "history-TOTAL_FORMS": "0", "history-INITIAL_FORMS": "0",
    })
    assert response.status_code == 302
    after = Order.objects.get(pk=order.pk)
    assert (after.status, after.total) == ("paid", order.total)
    assert after.note == "call before delivery"


@pytest.mark.django_db
def test_payments_are_read_only_in_admin(loaded_admin):
    payment = Payment.objects.first()
    url = reverse("admin:payments_payment_change", args=[payment.pk])
    assert loaded_admin.post(url, {"status": "cancelled"}).status_code == 403
    assert Payment.objects.get(pk=payment.pk).status == payment.status
