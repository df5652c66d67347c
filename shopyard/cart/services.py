"""Cart writes. A guest cart lives on the session key and merges into the
user's cart at login (quantities add up, capped at the line limit; the
selection and the price-when-added follow the lines).

Selection: each line carries `selected`; checkout buys only selected lines that
can still be bought (`line_items`). A line that cannot be bought (hidden by
catalog.queries.visible_skus, or sold out) cannot be ticked.

Price changes: the unit price at add time is kept on the line (`added_price`).
As on Taobao, a changed price does not block the line: it stays buyable at the
current price and the page shows the change until the shopper acknowledges it
(`acknowledge_price`) or adds the SKU again, which both reset `added_price`."""

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from shopyard.catalog.models import Sku
from shopyard.catalog.queries import buyable_sku_row, visible_skus
from shopyard.catalog.services import add_favourite
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
    sku = buyable_sku_row(sku_id)
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
        line = CartLine.objects.create(cart=cart, sku=sku, quantity=new_qty, selected=True, added_price=sku.price)
    else:
        # adding again is a fresh look at the price: the change marker clears
        line.quantity = new_qty
        line.selected = True
        line.added_price = sku.price
        line.save(update_fields=["quantity", "selected", "added_price"])
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
            # the guest's latest choice wins: what they ticked before signing in stays ticked
            existing.selected = line.selected
            existing.save(update_fields=["quantity", "selected"])
        else:
            CartLine.objects.create(cart=target, sku_id=line.sku_id, quantity=line.quantity,
                                    selected=line.selected, added_price=line.added_price)
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
    return list(buyable_lines(cart).filter(selected=True).order_by("id").values("sku_id", "quantity"))


def buyable_lines(cart):
    """The cart's lines that can be bought now: visible (the one visibility rule) and not sold out."""
    return CartLine.objects.filter(cart=cart, sku__in=visible_skus(), sku__stock__quantity__gt=0)


def _check_bool(value, field="selected") -> bool:
    if not isinstance(value, bool):
        raise ValidationFailed(fields={field: [_("Must be true or false.")]})
    return value


@transaction.atomic
def set_selected(*, cart, line_id, selected) -> CartLine:
    selected = _check_bool(selected)
    line = _own_line(cart, line_id)
    if selected and not buyable_lines(cart).filter(pk=line.pk).exists():
        raise ValidationFailed(fields={"selected": [_("This item can no longer be bought.")]})
    line.selected = selected
    line.save(update_fields=["selected"])
    return line


@transaction.atomic
def select_lines(*, cart, selected, all_lines=False, shop_id=None, line_ids=None) -> int:
    """Tick or untick the whole cart, one shop's lines or a list of lines; ticking
    skips lines that cannot be bought. Returns the number of lines changed."""
    selected = _check_bool(selected)
    scopes = sum([bool(all_lines), shop_id is not None, line_ids is not None])
    if scopes != 1:
        raise ValidationFailed(fields={"all": [_("Give exactly one of all, shop_id or line_ids.")]})
    if cart is None:
        raise NotFound(_("Cart not found."))
    lines = CartLine.objects.select_for_update().filter(cart=cart)
    if shop_id is not None:
        shop_id = check_id(shop_id, "shop_id")
        lines = lines.filter(sku__product__shop_id=shop_id)
        if not lines.exists():
            raise NotFound(_("No items of this shop in your cart."), fields={"shop_id": [_("Not in your cart.")]})
    if line_ids is not None:
        ids = {check_id(i, "line_ids") for i in line_ids}
        if not ids or len(ids) > MAX_LINES:
            raise ValidationFailed(fields={"line_ids": [_("Give between 1 and %(n)s lines.") % {"n": MAX_LINES}]})
        lines = lines.filter(pk__in=ids)
        if len(lines) != len(ids):
            raise NotFound(_("Cart line not found."), fields={"line_ids": [_("Not in your cart.")]})
    if selected:
        buyable = set(buyable_lines(cart).values_list("pk", flat=True))
        if line_ids is not None and any(line.pk not in buyable for line in lines):
            raise ValidationFailed(fields={"line_ids": [_("This item can no longer be bought.")]})
        lines = [line for line in lines if line.pk in buyable]
    return CartLine.objects.filter(pk__in=[line.pk for line in lines]).update(selected=selected)


@transaction.atomic
def acknowledge_price(*, cart, line_id) -> CartLine:
    """The shopper has seen the new price: it becomes the line's reference price."""
    line = _own_line(cart, line_id)
    line.added_price = line.sku.price
    line.save(update_fields=["added_price"])
    return line


@transaction.atomic
def remove_selected(*, cart) -> int:
    if cart is None:
        return 0
    count, _detail = CartLine.objects.filter(cart=cart, selected=True).delete()
    return count


@transaction.atomic
def move_to_favourites(*, cart, line_id, actor) -> None:
    """Keep the product in the shopper's favourites and take the line out of the cart."""
    line = _own_line(cart, line_id)
    add_favourite(actor=actor, product_id=line.sku.product_id)
    line.delete()


@transaction.atomic
def update_line(*, cart, line_id, quantity=None, selected=None) -> CartLine:
    """Quantity and/or selection of one line, both or neither written."""
    if quantity is None and selected is None:
        raise ValidationFailed(fields={"quantity": [_("Give a quantity or a selection.")]})
    line = _own_line(cart, line_id)
    if quantity is not None:
        line = set_quantity(cart=cart, line_id=line.pk, quantity=quantity)
    if selected is not None:
        line = set_selected(cart=cart, line_id=line.pk, selected=selected)
    return line


@transaction.atomic
def apply_selection_form(*, cart, shown, ticked, all_now, all_was, shops_now, shops_was) -> None:
    """The cart page's selection form, which works without JavaScript: it posts the
    whole state (ticked line ids among the `shown` ones, the shop and "all" boxes)
    with the state it was rendered with (`*_was`). A changed "all" box wins, then
    a changed shop box; otherwise the line boxes say exactly what is ticked.
    Ids are parsed by the caller; lines not in the cart are ignored (the cart may
    have changed in another tab), lines that cannot be bought stay unticked."""
    if cart is None:
        raise NotFound(_("Cart not found."))
    lines = {line.pk: line for line in CartLine.objects.select_for_update().filter(cart=cart, pk__in=shown)
             .select_related("sku__product")}
    chosen = set(ticked) & set(lines)
    if all_now != all_was:
        chosen = set(lines) if all_now else set()
    else:
        for shop_id in set(shops_now) ^ set(shops_was):
            of_shop = {pk for pk, line in lines.items() if line.sku.product.shop_id == shop_id}
            chosen = chosen | of_shop if shop_id in shops_now else chosen - of_shop
    buyable = set(buyable_lines(cart).filter(pk__in=lines).values_list("pk", flat=True))
    CartLine.objects.filter(pk__in=[pk for pk in lines if pk in chosen and pk in buyable]).update(selected=True)
    CartLine.objects.filter(pk__in=[pk for pk in lines if pk not in chosen or pk not in buyable]).update(selected=False)
