"""Buy now: one SKU and quantity shown as a checkout, without the cart.

The page keeps only the SKU id and quantity (in the session); every amount is
priced again from the catalogue, by the same calculator place_order uses, when
the page is shown and when the order is placed."""

from shopyard.cart.models import CartLine
from shopyard.cart.queries import CartLineView, CartView, shop_group
from shopyard.cart.services import buyable_sku
from shopyard.catalog.queries import sku_stock

from .pricing import AUTO, price_lines
from .services import normalise_lines


def buy_now_line(*, sku_id, quantity) -> dict:
    """The checked line ({sku_id, quantity}) a buy-now checkout keeps; refuses an
    unknown or unavailable SKU and a bad quantity with the checkout's field errors."""
    [(sku_id, quantity)] = normalise_lines([{"sku_id": sku_id, "quantity": quantity}])
    buyable_sku(sku_id, field="lines[0].sku_id")
    return {"sku_id": sku_id, "quantity": quantity}


def buy_now_view(line: dict, *, user=None, coupons=AUTO, address=None) -> CartView:
    """The one line priced and grouped as the checkout page shows a cart, with the
    promotions `user` gets and their coupons (AUTO, the best they hold, or the chosen
    ids): the same pipeline and offers place_order uses."""
    sku = buyable_sku(line["sku_id"], field="lines[0].sku_id")
    pricing = price_lines([(sku, line["quantity"], CartLine(sku=sku, quantity=line["quantity"]))], user=user,
                          coupons=coupons, address=address)
    groups = []
    for amounts in pricing.shops:
        group = shop_group(amounts)
        for priced in amounts.lines:
            if priced.is_gift:
                continue
            stock = sku_stock(priced.sku)
            group.lines.append(CartLineView(priced.ref, priced.unit_price, priced.line_total, stock,
                                            stock >= priced.quantity, priced=priced))
        groups.append(group)
    return CartView(groups=groups, total=pricing.total, count=line["quantity"], discount=pricing.discount,
                    pricing=pricing)
