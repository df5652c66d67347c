"""Demo settlement: commission rates (two category rates and one shop's own rate), a
settled statement (last week's, closed and paid, then a refund after it) and the open
statement of this week, all written through settlement's services."""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

# platform categories' rates (percent) and the fashion shop's own negotiated rate
CATEGORY_RATES = {"digital": "5", "clothing": "8", "home": "6"}
SHOP_RATES = {"fs": "6.5"}


def load_rates(*, operator, shops, cats) -> int:
    from shopyard.settlement import services

    done = 0
    for slug, rate in CATEGORY_RATES.items():
        if slug in cats:
            services.set_category_rate(actor=operator, category_id=cats[slug].pk, rate=rate)
            done += 1
    for key, rate in SHOP_RATES.items():
        if key in shops:
            services.set_shop_rate(actor=operator, shop_id=shops[key].pk, rate=rate)
            done += 1
    return done


def load_settlement(*, shops, users, pay) -> int:
    """A gd order received last week: its sale sits in last week's statement, which is
    closed and paid; a ¥5.00 refund on it today lands in this week's open statement,
    beside the sales of this week's received orders. Returns the orders it placed."""
    from shopyard.checkout.services import place_order
    from shopyard.orders import services as orders
    from shopyard.orders.models import Order
    from shopyard.payments import refunds
    from shopyard.settlement import services
    from shopyard.settlement.models import Statement
    from shopyard.shops.models import ShopMember

    from .loader import _buyable_skus

    shop, shopper, operator = shops.get("gd"), users["shopper"], users["operator"]
    address = shopper.addresses.order_by("-is_default", "id").first()
    skus = _buyable_skus(shop, limit=6) if shop is not None else []
    if address is None or not skus:
        return 0
    owner = ShopMember.objects.filter(shop=shop, role=ShopMember.Role.OWNER).first().user
    placed = place_order(actor=shopper, address_id=address.pk, idempotency_key="demo-checkout-settlement", lines=[
        {"sku_id": skus[min(3, len(skus) - 1)].pk, "quantity": 1}])
    pay(placed.payment_id)
    order_id = placed.order_ids[0]
    orders.ship(actor=owner, shop=shop, order_id=order_id, carrier="sf", tracking_number="SF1428839209931")
    now = timezone.now()
    last_week = now - timedelta(days=7)
    with transaction.atomic():
        orders.confirm_receipt(actor=shopper, order_id=order_id)
        # the sale as it was entered last week (the event's delivery then finds it written)
        services.record_order_completed(order_id=order_id, now=last_week)
    statement = Statement.objects.get(shop=shop, period_start=services.period_bounds(last_week)[0])
    services.close_due_statements(now=now)
    services.mark_paid(actor=operator, statement_id=statement.pk, reference="DEMO-PAYOUT-0001")
    line = Order.objects.get(pk=order_id).lines.order_by("pk").first()
    refund = refunds.refund_order_lines(actor=owner, shop=shop, order_id=order_id, lines=[
        {"line_id": line.pk, "amount": "5.00"}], reason="少发赠品，部分退款 / missing free gift, partial refund")
    # what the after-commit task and the event delivery do, done now so that the demo reads
    # the same wherever it is loaded (both are idempotent: a second run writes nothing)
    refunds.perform_refund(refund_id=refund.pk)
    services.record_refund(refund_id=refund.pk)
    for completed in Order.objects.filter(status="completed").order_by("pk").values_list("pk", flat=True):
        services.record_order_completed(order_id=completed)
    return 1
