"""The payment state machine: one table-driven walk over every (status, action) pair."""

import itertools

import pytest

from shopyard.checkout.services import place_order
from shopyard.core.errors import InvalidTransition
from shopyard.payments import services
from shopyard.payments.models import Payment, PaymentStatusChange
from shopyard.payments.state import TRANSITIONS, Action, Status


@pytest.mark.parametrize(("status", "action"), list(itertools.product(Status.values, Action.values)))
def test_every_status_action_pair_follows_the_table(shopper, address, sku, status, action):
    placed = place_order(actor=shopper, address_id=address.pk, lines=[{"sku_id": sku.pk, "quantity": 1}])
    Payment.objects.filter(pk=placed.payment_id).update(status=status)
    payment = Payment.objects.get(pk=placed.payment_id)
    target = TRANSITIONS.get((status, action))
    if target is not None:
        services.transition(payment, action, note="walk")
        payment.refresh_from_db()
        assert payment.status == target
        change = PaymentStatusChange.objects.get(payment=payment)
        assert (change.from_status, change.to_status, change.action) == (status, target, action)
        assert payment.completed_at is not None
    else:
        with pytest.raises(InvalidTransition) as exc:
            services.transition(payment, action)
        assert exc.value.status == 409
        payment.refresh_from_db()
        assert payment.status == status
        assert not PaymentStatusChange.objects.filter(payment=payment).exists()


def test_table_only_names_known_states():
    for (status, action), target in TRANSITIONS.items():
        assert status in Status.values and action in Action.values and target in Status.values
