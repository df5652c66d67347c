"""What an order or payment allows comes from its state machine: the
storefront, console, templates and API ask `allowed_actions`; nothing else
re-encodes status lists. Orders never import payments (payments depend on
orders), and write services record the acting user."""

import itertools
import re
from pathlib import Path

import pytest

from shopyard.checkout.services import place_order
from shopyard.orders import state as order_state
from shopyard.orders.state import Action, Role, Status, allowed_actions
from shopyard.payments import services as payments
from shopyard.payments import state as payment_state
from shopyard.payments.models import Payment, PaymentStatusChange

from . import factories as f

ROOT = Path(__file__).resolve().parent.parent / "shopyard"


@pytest.mark.parametrize(("status", "role"), list(itertools.product(Status.values, [*Role.values, None])))
def test_order_allowed_actions_are_the_table_rows_the_role_may_start(status, role):
    expected = {a for (s, a) in order_state.TRANSITIONS if s == status and (role is None or role in order_state.PERFORMERS[a])}
    assert allowed_actions(status, role) == expected


def test_order_allowed_actions_per_role_read_as_the_business_says():
    assert allowed_actions(Status.PENDING_PAYMENT, Role.BUYER) == {Action.PAY, Action.CANCEL}
    assert allowed_actions(Status.PENDING_PAYMENT, Role.SYSTEM) == {Action.PAY, Action.EXPIRE}
    assert allowed_actions(Status.PENDING_PAYMENT, Role.SELLER) == set()
    assert allowed_actions(Status.PAID, Role.SELLER) == {Action.SHIP}
    assert allowed_actions(Status.PAID, Role.BUYER) == set()
    assert allowed_actions(Status.SHIPPED, Role.BUYER) == {Action.CONFIRM_RECEIPT}
    assert allowed_actions(Status.COMPLETED) == allowed_actions(Status.CANCELLED) == set()
    assert order_state.statuses_allowing(Action.SHIP) == [Status.PAID]
    assert order_state.SOLD == sorted([Status.PAID, Status.SHIPPED, Status.DELIVERED, Status.COMPLETED])
    assert set(order_state.PERFORMERS) == set(Action.values)


def test_payment_and_refund_allowed_actions_come_from_their_tables():
    ps = payment_state
    assert ps.allowed_actions(ps.Status.PENDING) == {ps.Action.SUCCEED, ps.Action.FAIL, ps.Action.CANCEL}
    assert ps.allowed_actions(ps.Status.CANCELLED, ps.Role.SYSTEM) == {ps.Action.CAPTURE_LATE}
    assert ps.allowed_actions(ps.Status.CANCELLED, ps.Role.BUYER) == set()
    assert [s for s in ps.Status.values if ps.is_open(s)] == [ps.Status.PENDING]
    assert {s: ps.outcome(s) for s in ps.Status.values} == {
        "pending": "pending", "succeeded": "succeeded", "failed": "failed", "cancelled": "failed"}
    assert ps.allowed_refund_actions(ps.RefundStatus.FAILED, ps.Role.OPERATOR) == {ps.RefundAction.RETRY}
    assert ps.allowed_refund_actions(ps.RefundStatus.SUCCEEDED) == set()
    for (source, action), target in ps.REFUND_TRANSITIONS.items():
        assert source in ps.RefundStatus.values and target in ps.RefundStatus.values
        assert action in ps.REFUND_PERFORMERS


def test_api_orders_carry_the_actions_the_caller_may_take(api, shopper, shopper_token, seller_token, address, sku):
    # given an unpaid order
    placed = place_order(actor=shopper, address_id=address.pk, lines=[{"sku_id": sku.pk, "quantity": 1}])
    (order_id,) = placed.order_ids
    # then the buyer may pay or cancel it, the seller nothing yet
    assert api.get(f"/orders/{order_id}", token=shopper_token).json()["actions"] == ["cancel", "pay"]
    assert api.get("/orders", token=shopper_token).json()["results"][0]["actions"] == ["cancel", "pay"]
    assert api.get(f"/seller/orders/{order_id}", token=seller_token).json()["actions"] == []
    # once paid, the seller may ship it and the buyer do nothing
    from shopyard.orders.services import mark_paid

    mark_paid(actor=None, order=order_id)
    assert api.get(f"/orders/{order_id}", token=shopper_token).json()["actions"] == []
    assert api.get("/seller/orders", token=seller_token).json()["results"][0]["actions"] == ["ship"]


STATUS_WORDS = re.compile(r"""PENDING_PAYMENT|["']pending_payment["']|["']paid["']|["']shipped["']|Status\.(PAID|SHIPPED|PENDING)\b""")


def test_no_view_template_api_or_query_re_encodes_order_or_payment_statuses():
    # the pages, templates, API modules and queries of the apps that show orders and payments
    places = [*ROOT.glob("orders/*.py"), *ROOT.glob("payments/*.py"), ROOT / "storefront/buying_views.py",
              ROOT / "console/views.py", ROOT / "console/queries.py",
              *ROOT.glob("storefront/templates/storefront/order*.html"), *ROOT.glob("console/templates/console/*.html"),
              *ROOT.glob("payments/templates/payments/*.html")]
    allowed_homes = {"state.py", "services.py", "refunds.py", "models.py"}
    offenders = [f"{p.relative_to(ROOT)}:{n}" for p in places if p.name not in allowed_homes
                 for n, line in enumerate(p.read_text().splitlines(), 1) if STATUS_WORDS.search(line)]
    assert offenders == []


def test_orders_never_import_payments_and_parse_ids_with_check_id():
    orders_code = {p: p.read_text() for p in ROOT.glob("orders/**/*.py")}
    assert [str(p) for p, text in orders_code.items() if "shopyard.payments" in text] == []
    payments_code = {p: p.read_text() for p in ROOT.glob("payments/**/*.py")}
    assert [str(p) for p, text in {**orders_code, **payments_code}.items() if ".isdigit()" in text] == []


def test_payment_status_changes_record_their_actor(shopper, address, sku, other_shop):
    # given a two-shop checkout whose payment the shopper replaces with one for a single order
    other = f.make_product(other_shop, price="5.00", stock=3).skus.get()
    placed = place_order(actor=shopper, address_id=address.pk,
                         lines=[{"sku_id": sku.pk, "quantity": 1}, {"sku_id": other.pk, "quantity": 1}])
    payments.start_payment(actor=shopper, order_ids=[placed.order_ids[0]])
    # then the superseded payment's history names the shopper; a gateway decision names the system
    change = PaymentStatusChange.objects.get(payment_id=placed.payment_id)
    assert (change.to_status, change.note, change.actor, change.actor_label) == ("cancelled", "superseded", shopper, shopper.username)
    payment = Payment.objects.get(status="pending")
    payments.transition(payment, payment_state.Action.FAIL, actor=None, note="declined")
    last = PaymentStatusChange.objects.get(payment=payment)
    assert (last.actor, last.actor_label) == (None, "system")
