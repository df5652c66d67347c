"""Shop writes: operators suspend and reopen shops (with a reason, kept in the
history), and shop fees are checked against the currency's precision.

Suspension is read-only, not erasure: the shop's products disappear from every
shopper surface (catalog.queries.visible_products), its console and seller API
refuse every write (shops.queries.shop_for_seller with write=True,
console.access), and orders already placed keep their state. A paid order of a
suspended shop cannot be shipped until an operator reopens the shop (or handles
the order in the admin): suspension stops all seller activity by design.
"""

from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils.translation import gettext as _

from shopyard.core.access import require_operator
from shopyard.core.errors import NotFound, ValidationFailed
from shopyard.core.events import emit
from shopyard.core.money import CURRENCY_PRECISION
from shopyard.core.statemachine import actor_label, apply_transition
from shopyard.core.validation import check_id

from .models import Shop, ShopStatusChange
from .state import TRANSITIONS, Action

MAX_REASON_LENGTH = 500
MAX_FEE = Decimal("100000000")


def _record(shop, from_status, to_status, action, actor, note):
    ShopStatusChange.objects.create(
        shop=shop, from_status=from_status, to_status=to_status, action=action,
        actor=actor if getattr(actor, "pk", None) else None, actor_label=actor_label(actor), reason=note,
    )


def _clean_reason(reason) -> str:
    reason = reason.strip() if isinstance(reason, str) else ""
    if not reason:
        raise ValidationFailed(fields={"reason": [_("Give a reason.")]})
    if len(reason) > MAX_REASON_LENGTH:
        raise ValidationFailed(fields={"reason": [_("Use at most %(n)s characters.") % {"n": MAX_REASON_LENGTH}]})
    if "\x00" in reason:
        raise ValidationFailed(fields={"reason": [_("Remove the control characters.")]})
    return reason


def _change_status(*, actor, shop_id, reason, action) -> Shop:
    require_operator(actor, _("Only platform operators may suspend or reopen shops."))
    reason = _clean_reason(reason)
    shop_id = check_id(getattr(shop_id, "pk", shop_id), "shop_id")
    with transaction.atomic():
        shop = Shop.objects.select_for_update().filter(pk=shop_id).first()
        if shop is None:
            raise NotFound(_("Shop not found."))
        apply_transition(shop, action, transitions=TRANSITIONS, record=_record, actor=actor, note=reason)
        emit(f"shop.{'suspended' if action == Action.SUSPEND else 'reopened'}", shop_id=shop.pk,
             actor_id=actor.pk, reason=reason)
    return shop


def suspend_shop(*, actor, shop_id, reason) -> Shop:
    """Suspend an active shop (409 when it already is); `actor` must be staff (403)."""
    return _change_status(actor=actor, shop_id=shop_id, reason=reason, action=Action.SUSPEND)


def reopen_shop(*, actor, shop_id, reason) -> Shop:
    """Reopen a suspended shop (409 when it is active); `actor` must be staff (403)."""
    return _change_status(actor=actor, shop_id=shop_id, reason=reason, action=Action.REOPEN)


# --- fees --------------------------------------------------------------------


def _fee_error(value, currency, *, required):
    if value is None or value == "":
        return _("Enter an amount.") if required else None
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return _("Enter an amount.")
    if not amount.is_finite() or amount < 0 or amount > MAX_FEE:
        return _("Enter an amount from 0 to %(max)s.") % {"max": MAX_FEE}
    places = CURRENCY_PRECISION.get((currency or "").upper(), 2)
    if amount != amount.quantize(Decimal(1).scaleb(-places)):
        if places == 0:
            return _("%(currency)s amounts have no decimal places.") % {"currency": currency}
        return _("Use at most %(n)s decimal places for %(currency)s.") % {"n": places, "currency": currency}
    return None


def fee_errors(*, currency, shipping_fee, free_shipping_over) -> dict:
    """Per-field messages for fees a shop cannot charge exactly in its currency (e.g. 0.005 CNY)."""
    errors = {}
    for field, value, required in (("shipping_fee", shipping_fee, True),
                                   ("free_shipping_over", free_shipping_over, False)):
        message = _fee_error(value, currency, required=required)
        if message:
            errors[field] = [message]
    return errors


def set_fees(*, actor, shop_id, shipping_fee, free_shipping_over=None) -> Shop:
    """Change a shop's shipping fee and free-shipping threshold (operators only)."""
    require_operator(actor)
    shop_id = check_id(getattr(shop_id, "pk", shop_id), "shop_id")
    with transaction.atomic():
        shop = Shop.objects.select_for_update().filter(pk=shop_id).first()
        if shop is None:
            raise NotFound(_("Shop not found."))
        errors = fee_errors(currency=shop.currency, shipping_fee=shipping_fee, free_shipping_over=free_shipping_over)
        if errors:
            raise ValidationFailed(fields=errors)
        shop.shipping_fee = Decimal(str(shipping_fee))
        shop.free_shipping_over = None if free_shipping_over in (None, "") else Decimal(str(free_shipping_over))
        shop.save(update_fields=["shipping_fee", "free_shipping_over"])
        emit("shop.updated", shop_id=shop.pk, actor_id=actor.pk)
    return shop
