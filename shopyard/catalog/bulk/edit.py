"""Bulk price and stock edits of many SKUs at once, all or nothing."""


from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from shopyard.core.bulk_sql import update_rows
from shopyard.core.errors import NotFound, ValidationFailed
from shopyard.core.events import emit
from shopyard.core.validation import parse_id, parse_int
from shopyard.inventory import services as inventory

from ..models import Product, Sku
from ..services import parse_price
from .apply import refresh_price_ranges
from .files import MAX_EDIT_ITEMS

# --- bulk price and stock edit --------------------------------------------------------------


def shop_skus(shop, *, q: str = "", status: str = ""):
    """The shop's SKUs for the bulk editor, with product and stock."""
    qs = Sku.objects.filter(product__shop=shop).select_related("product", "stock").order_by("product_id", "id")
    q = (q or "").strip()[:100]
    if q:
        qs = qs.filter(Q(code__icontains=q) | Q(product__title__icontains=q) | Q(product__title_en__icontains=q)
                       | Q(name__icontains=q))
    if status in Product.Status.values:
        qs = qs.filter(product__status=status)
    return qs


def edit_skus(*, actor, shop, items) -> dict:
    """Set the price and/or stock of many of the shop's SKUs at once, all or
    nothing. `items`: [{"sku_id", "price"?, "stock"?, "stock_seen"?}]; errors
    name the item (`items[3].price`). A SKU id of another shop is a 404.
    `stock_seen` (the figure the editor showed) refuses a row whose stock
    changed meanwhile, so units sold while the seller typed are not lost."""
    if not isinstance(items, list | tuple) or not items:
        raise ValidationFailed(fields={"items": [_("Change at least one SKU.")]})
    if len(items) > MAX_EDIT_ITEMS:
        raise ValidationFailed(fields={"items": [_("Edit at most %(n)s SKUs at once.") % {"n": MAX_EDIT_ITEMS}]})
    errors, ids = {}, []
    for i, item in enumerate(items):
        sku_id = parse_id((item or {}).get("sku_id"))
        if sku_id is None:
            errors[f"items[{i}].sku_id"] = [_("Enter a valid id.")]
        elif sku_id in ids:
            errors[f"items[{i}].sku_id"] = [_("Each SKU once.")]
        ids.append(sku_id)
    if errors:
        raise ValidationFailed(fields=errors)
    with transaction.atomic():
        skus = {s.pk: s for s in Sku.objects.select_for_update().filter(pk__in=ids, product__shop=shop)
                .select_related("product").order_by("pk")}
        if len(skus) != len(ids):
            raise NotFound(_("SKU not found."))
        current = inventory.available(ids)
        prices, stocks = [], {}
        for i, item in enumerate(items):
            sku = skus[ids[i]]
            if item.get("price") not in (None, ""):
                price = parse_price(item["price"], f"items[{i}].price", errors, currency=sku.product.currency)
                if price is not None and price != sku.price:
                    sku.price = price
                    prices.append(sku)
            if item.get("stock") not in (None, ""):
                stock = parse_int(item["stock"], max_value=inventory.MAX_STOCK)
                if stock is None:
                    errors[f"items[{i}].stock"] = [
                        _("Stock must be a whole number from 0 to %(max)s.") % {"max": inventory.MAX_STOCK}]
                    continue
                seen = item.get("stock_seen")
                if seen not in (None, "") and parse_int(seen) != current.get(sku.pk, 0):
                    if stock != parse_int(seen):
                        errors[f"items[{i}].stock"] = [_(
                            "Stock changed while you were editing: %(now)s on hand now; enter the new figure "
                            "again.") % {"now": current.get(sku.pk, 0)}]
                    continue
                if stock != current.get(sku.pk, 0):
                    stocks[sku.pk] = stock
        if errors:
            raise ValidationFailed(fields=errors)
        update_rows(Sku, prices, ["price"])
        inventory.set_stock_many(quantities=stocks, actor=actor)
        product_ids = sorted({skus[i].product_id for i in [s.pk for s in prices] + list(stocks)})
        if prices:
            refresh_price_ranges(sorted({s.product_id for s in prices}))
        if product_ids:
            emit("products.changed", shop_id=shop.pk, product_ids=product_ids, created_ids=[], source="bulk_edit",
                 actor_id=getattr(actor, "pk", None))
    return {"prices_changed": len(prices), "stocks_changed": len(stocks), "products": len(product_ids)}
