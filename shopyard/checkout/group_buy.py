"""Buying in a group (拼团): opening a group or joining one places an order
through place_order, priced at the group price by the group offer (its line
carries the group in its context), which records the shopper's place in the
group when the order is placed. The place counts once the order is paid
(promotions.group_services.count_payment); until the group fills the order is
on hold and cannot be shipped.

The group row is locked before place_order takes any stock, the lock order
group → stock that the group's own jobs keep too. `quote` prices the same line
the same way for pages and the API, so the total shown is the total charged."""

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from shopyard.cart.services import buyable_sku
from shopyard.core.errors import Conflict, ValidationFailed
from shopyard.core.models import IdempotencyRecord
from shopyard.promotions import group_services
from shopyard.promotions.models import Group, GroupMember

from .pricing import price_lines
from .services import MAX_KEY_LENGTH, PlacedCheckout, place_order, request_fingerprint


@dataclass
class GroupCheckout:
    group: Group
    placed: PlacedCheckout


def _buy(*, actor, group, quantity, address_id) -> PlacedCheckout:
    sku_id = group.item.sku_id
    placed = place_order(actor=actor, address_id=address_id, lines=[{"sku_id": sku_id, "quantity": quantity}],
                         line_context={sku_id: {"group": group}})
    if not GroupMember.objects.filter(group=group, user=actor, order_id__in=placed.order_ids).exists():
        # another offer priced the line lower than the group price: no place in the group was
        # taken, so nothing is bought (the atomic block around us rolls the order back)
        raise Conflict(_("The group price does not apply to this item now."), code="group_price_not_applied")
    return placed


OPEN_SCOPE = "open_group"


class _KeyTaken(Exception):
    pass


def _replay(actor, key, fingerprint) -> GroupCheckout | None:
    from shopyard.orders.models import Order
    from shopyard.payments.models import Payment

    record = IdempotencyRecord.objects.filter(user=actor, scope=OPEN_SCOPE, key=key).first()
    if record is None:
        return None
    if record.request_hash != fingerprint:
        raise ValidationFailed(
            _("This Idempotency-Key was used with a different request."),
            fields={"Idempotency-Key": [_("This key was already used with a different request body.")]},
            code="idempotency_key_reused")
    r = record.result
    placed = PlacedCheckout(checkout_id=r["checkout_id"], order_ids=r["order_ids"], payment_id=r["payment_id"],
                            replayed=True, orders=list(Order.objects.filter(pk__in=r["order_ids"]).order_by("pk")),
                            payment=Payment.objects.get(pk=r["payment_id"]))
    return GroupCheckout(group=Group.objects.select_related("campaign", "item", "item__sku").get(pk=r["group_id"]),
                         placed=placed)


def open_group(*, actor, item_id, quantity, address_id, idempotency_key=None) -> GroupCheckout:
    """开团: a new group of a live campaign's item, led by `actor`, and its first order.
    With an `idempotency_key`, a retry of the same request returns the first group and
    order (`placed.replayed`) instead of opening another; the same key with another
    request is a 422."""
    key = None
    if idempotency_key is not None:
        key = str(idempotency_key).strip()
        if not key or len(key) > MAX_KEY_LENGTH:
            raise ValidationFailed(fields={"Idempotency-Key": [_("Use 1 to 128 characters.")]})
    fingerprint = request_fingerprint({"item_id": str(item_id), "quantity": str(quantity),
                                       "address_id": str(address_id)})
    if key and (earlier := _replay(actor, key, fingerprint)):
        return earlier
    try:
        with transaction.atomic():
            record = None
            if key:
                try:
                    with transaction.atomic():
                        record = IdempotencyRecord.objects.create(user=actor, scope=OPEN_SCOPE, key=key,
                                                                  request_hash=fingerprint)
                except IntegrityError:  # a concurrent request with this key committed first
                    raise _KeyTaken() from None
            group = group_services.open_group_row(actor=actor, item_id=item_id, quantity=quantity)
            placed = _buy(actor=actor, group=group, quantity=quantity, address_id=address_id)
            if record is not None:
                record.result = {"group_id": group.pk, "checkout_id": placed.checkout_id,
                                 "order_ids": placed.order_ids, "payment_id": placed.payment_id}
                record.save(update_fields=["result"])
    except _KeyTaken:
        earlier = _replay(actor, key, fingerprint)
        if earlier:
            return earlier
        raise ValidationFailed(fields={"Idempotency-Key": [_("This key is being used by another request.")]}) from None
    return GroupCheckout(group=group, placed=placed)


def join_group(*, actor, share_code, quantity, address_id) -> GroupCheckout:
    """参团: an order in the group a share link names. Refused (409) when the group is
    full, failed or expired, its leader has not paid, or `actor` is already in it."""
    with transaction.atomic():
        group = group_services.group_by_code(share_code, lock=True)
        group_services.check_joinable(group, user=actor)
        quantity = group_services.check_member_quantity(group.campaign, quantity)
        placed = _buy(actor=actor, group=group, quantity=quantity, address_id=address_id)
    return GroupCheckout(group=group, placed=placed)


@dataclass
class GroupQuote:
    group: Group  # unsaved when previewing a group to open
    quantity: int
    pricing: object  # checkout.pricing.Pricing

    @property
    def line(self):
        return self.pricing.lines[0]

    @property
    def total(self):
        return self.pricing.total


def quote(*, user, quantity=1, item=None, group=None) -> GroupQuote:
    """What opening a group of `item` (or joining `group`) with `quantity` units costs
    `user`, priced by the pipeline exactly as place_order will price it."""
    if group is None:
        group = Group(campaign=item.campaign, item=item, leader=None, status=Group.Status.OPEN,
                      expires_at=timezone.now())
    sku = buyable_sku(group.item.sku_id, field="item_id")
    pricing = price_lines([(sku, quantity, None, {"group": group})], user=user)
    return GroupQuote(group=group, quantity=quantity, pricing=pricing)
