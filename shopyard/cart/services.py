"""Cart writes. A guest cart lives on the session key and merges into the
user's cart at login (quantities add up, capped at the line limit)."""

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from shopyard.catalog.models import Sku
from shopyard.catalog.queries import visible_skus
from shopyard.checkout.limits import max_units_per_sku
from shopyard.core.errors import NotFound, OutOfStock, ValidationFailed
from shopyard.core.validation import check_id, check_quantity, parse_id
from shopyard.inventory.services import available

from .models import Cart, CartLine

MAX_LINES = 100


def get_cart(*, user=None, session_key=None, create=False):
    if user is not None and user.is_authenticated:
        cart = Cart.objects.filter(user=user).first()
        if cart is None and create:
            try:
                with transaction.atomic():
                    cart = Cart.objects.create(user=user)
            except IntegrityError:
                cart = Cart.objects.get(user=user)
        return cart
    if not session_key:
        return None
    cart = Cart.objects.filter(session_key=session_key, user__isnull=True).first()
    if cart is None and create:
        try:
            with transaction.atomic():
                cart = Cart.objects.create(session_key=session_key)
        except IntegrityError:  # a parallel request of the same session created it first
            cart = Cart.objects.filter(session_key=session_key, user__isnull=True).first()
            if cart is None:
                raise NotFound(_("Cart not found.")) from None
    return cart


def buyable_sku(sku_id, field="sku_id") -> Sku:
    sku_id = check_id(sku_id, field)
    sku = visible_skus().select_related("product", "product__shop", "stock").filter(pk=sku_id).first()
    if sku is None:
        raise NotFound(_("This product is not available."), fields={field: [_("Unknown or unavailable SKU.")]})
    return sku


def _check_stock(sku, quantity, field="quantity"):
    have = available([sku.pk]).get(sku.pk, 0)
    if have < quantity:
        # the same error (409 out_of_stock) as checkout's, on pages and in the API
        raise OutOfStock(
            _("Only %(n)s left in stock.") % {"n": have},
            fields={field: [_("Only %(n)s left in stock.") % {"n": have}]},
        )


def _check_limit(quantity, field="quantity"):
    limit = max_units_per_sku()
    if quantity > limit:
        raise ValidationFailed(fields={field: [_("The quantity may be at most %(limit)s.") % {"limit": limit}]})


@transaction.atomic
def add_line(*, cart, sku_id, quantity) -> CartLine:
    quantity = check_quantity(quantity)
    sku = buyable_sku(sku_id)
    # Lock the cart first: the line may not exist yet, so locking it alone lets
    # parallel first adds both insert (a unique-constraint 500); with the cart
    # locked they queue and the later ones add to the line the first created.
    if Cart.objects.select_for_update().filter(pk=cart.pk).first() is None:
        raise NotFound(_("Cart not found."))  # merged into the user's cart meanwhile
    line = CartLine.objects.select_for_update().filter(cart=cart, sku=sku).first()
    new_qty = quantity + (line.quantity if line else 0)
    _check_limit(new_qty)
    _check_stock(sku, new_qty)
    if line is None:
        if cart.lines.count() >= MAX_LINES:
            raise ValidationFailed(fields={"sku_id": [_("The cart is full.")]})
        line = CartLine.objects.create(cart=cart, sku=sku, quantity=new_qty)
    else:
        line.quantity = new_qty
        line.save(update_fields=["quantity"])
    cart.save(update_fields=["updated_at"])
    return line


def _own_line(cart, line_id) -> CartLine:
    line = None
    line_id = parse_id(line_id)
    if cart is not None and line_id is not None:
        line = CartLine.objects.select_for_update().filter(cart=cart, pk=line_id).first()
    if line is None:
        raise NotFound(_("Cart line not found."))
    return line


@transaction.atomic
def set_quantity(*, cart, line_id, quantity) -> CartLine:
    quantity = check_quantity(quantity)
    line = _own_line(cart, line_id)
    _check_limit(quantity)
    _check_stock(line.sku, quantity)
    line.quantity = quantity
    line.save(update_fields=["quantity"])
    return line


@transaction.atomic
def remove_line(*, cart, line_id) -> None:
    _own_line(cart, line_id).delete()


@transaction.atomic
def merge_guest_cart(*, session_key, user) -> None:
    guest = Cart.objects.filter(session_key=session_key, user__isnull=True).first()
    if guest is None:
        return
    target = get_cart(user=user, create=True)
    for line in guest.lines.all():
        existing = CartLine.objects.filter(cart=target, sku_id=line.sku_id).first()
        if existing:
            existing.quantity = min(existing.quantity + line.quantity, max_units_per_sku())
            existing.save(update_fields=["quantity"])
        else:
            CartLine.objects.create(cart=target, sku_id=line.sku_id, quantity=line.quantity)
    guest.delete()


def remove_purchased(*, user, sku_ids) -> None:
    """Drop the lines a checkout just ordered from the user's cart."""
    CartLine.objects.filter(cart__user=user, sku_id__in=list(sku_ids)).delete()


def line_items(*, user) -> list[dict]:
    """The user's cart as checkout reads it: [{sku_id, quantity}], lines that can no
    longer be bought left out (they stay in the cart, shown apart)."""
    cart = get_cart(user=user)
    if cart is None:
        return []
    return list(CartLine.objects.filter(cart=cart, sku__in=visible_skus()).order_by("id").values("sku_id", "quantity"))
