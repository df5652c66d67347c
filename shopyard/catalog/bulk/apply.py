"""The import itself: a checked plan written in one transaction with bulk
statements, or nothing; and the staged file behind a confirmation token."""

import secrets
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Max, Min
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from shopyard.core.bulk_sql import insert_rows, update_rows
from shopyard.core.errors import Conflict, NotFound, ValidationFailed
from shopyard.core.events import emit
from shopyard.core.slugs import slugify_text
from shopyard.inventory import services as inventory

from .. import rich_text
from ..models import AttributeOption, CatalogImport, Product, ProductAttribute, Sku
from ..services import recount_categories
from .check import Plan, check_file
from .files import BATCH, IMPORT_TTL

# --- writing ----------------------------------------------------------------------------


def _write(plan: Plan, *, shop, actor) -> dict:
    """Everything the plan says, in the caller's transaction, a statement per batch."""
    now = timezone.now()
    groups = plan.groups
    summary = plan.summary
    existing_ids = sorted(g.product.pk for g in groups if g.product is not None)
    locked = {}
    for start in range(0, len(existing_ids), BATCH):
        for p in Product.objects.select_for_update().filter(shop=shop, pk__in=existing_ids[start:start + BATCH]):
            locked[p.pk] = p
    touched = {p.category_id for p in locked.values()}  # the categories products may leave
    new_products = []
    for g in groups:
        f = g.fields
        if g.product is None:
            status = f.get("status", Product.Status.DRAFT)
            g.product = Product(
                shop=shop, currency=shop.currency, title=f["title"], title_en=f.get("title_en", ""),
                description=rich_text.sanitize(f.get("description", "")),
                description_en=rich_text.sanitize(f.get("description_en", "")),
                category=f["category"], brand=f.get("brand"), slug=slugify_text(f["title"]), status=status,
                published_at=now if status == Product.Status.PUBLISHED else None)
            new_products.append(g.product)
            continue
        if g.product.pk not in locked:  # deleted between the check and the write
            raise Conflict(_("A product of this file was changed meanwhile; check the file again."))
        p = g.product = locked[g.product.pk]
        p.title, p.category = f["title"], f["category"]
        for name in ("title_en", "description", "description_en"):
            if name in f:
                setattr(p, name, rich_text.sanitize(f[name]) if name.startswith("description") else f[name])
        if "brand" in f:
            p.brand = f["brand"]
        if "status" in f:
            p.status = f["status"]
            if p.status == Product.Status.PUBLISHED and p.published_at is None:
                p.published_at = now
        p.slug = slugify_text(p.title)
        p.updated_at = now
    Product.objects.bulk_create(new_products, batch_size=BATCH)
    update_rows(Product, [g.product for g in groups if g.product.pk in locked],
                ["title", "title_en", "description", "description_en", "category", "brand", "status",
                 "published_at", "slug", "updated_at"])
    options = _write_options(groups)
    _write_skus(groups, options, actor)
    ids = [g.product.pk for g in groups]
    refresh_price_ranges(ids)
    recount_categories(touched | {g.product.category_id for g in groups})
    created = [p.pk for p in new_products]
    emit("products.changed", shop_id=shop.pk, product_ids=ids, created_ids=created, source="import",
         actor_id=getattr(actor, "pk", None))
    return summary


def _write_options(groups) -> dict:
    """The attribute options the rows name, created where missing: {(product id, name, value): option}."""
    wanted = [(g.product.pk, names) for g in groups
              for names in [[n for n, _v in (g.skus[0].options or [])]] if names]
    product_ids = [pid for pid, _n in wanted]
    attrs = {}
    for start in range(0, len(product_ids), BATCH):
        for a in ProductAttribute.objects.filter(product_id__in=product_ids[start:start + BATCH]):
            attrs[(a.product_id, a.name)] = a
    new_attrs = []
    for pid, names in wanted:
        for pos, name in enumerate(names):
            if (pid, name) not in attrs:
                attrs[(pid, name)] = ProductAttribute(product_id=pid, name=name, position=pos)
                new_attrs.append(attrs[(pid, name)])
    ProductAttribute.objects.bulk_create(new_attrs, batch_size=BATCH)
    attr_ids = [a.pk for a in attrs.values()]
    opts, top = {}, {}
    for start in range(0, len(attr_ids), BATCH):
        for o in AttributeOption.objects.filter(attribute_id__in=attr_ids[start:start + BATCH]):
            opts[(o.attribute_id, o.value)] = o
            top[o.attribute_id] = max(top.get(o.attribute_id, 0), o.position + 1)
    new_opts = []
    result = {}
    for g in groups:
        for s in g.skus:
            for name, value in s.options or []:
                attr = attrs[(g.product.pk, name)]
                option = opts.get((attr.pk, value))
                if option is None:
                    option = opts[(attr.pk, value)] = AttributeOption(attribute=attr, value=value,
                                                                      position=top.get(attr.pk, 0))
                    top[attr.pk] = top.get(attr.pk, 0) + 1
                    new_opts.append(option)
                result[(g.product.pk, name, value)] = option
    AttributeOption.objects.bulk_create(new_opts, batch_size=BATCH)
    return result


def _write_skus(groups, options, actor) -> None:
    new, changed, linked = [], [], []
    update_fields = {"price"}
    for g in groups:
        for s in g.skus:
            picked = [options[(g.product.pk, n, v)] for n, v in s.options] if s.options is not None else None
            sku = s.sku or Sku(product=g.product, code=s.code, price=s.price)
            sku.price = s.price
            if picked is not None:
                sku.name = " / ".join(o.value for o in picked)
                sku.name_en = " / ".join(o.value_en or o.value for o in picked)
                update_fields |= {"name", "name_en"}
            for name, value in s.values.items():
                setattr(sku, name, value)
                update_fields.add(name)
            (changed if s.sku else new).append(sku)
            s.sku = sku
            if picked is not None:
                linked.append((sku, picked))
    Sku.objects.bulk_create(new, batch_size=BATCH)
    update_rows(Sku, changed, sorted(update_fields))
    through = Sku.options.through
    relinked = [sku.pk for sku, _p in linked]
    for start in range(0, len(relinked), BATCH):
        through.objects.filter(sku_id__in=relinked[start:start + BATCH]).delete()
    insert_rows(through, [through(sku_id=sku.pk, attributeoption_id=o.pk) for sku, picked in linked for o in picked])
    inventory.set_stock_many(quantities={s.sku.pk: s.stock for g in groups for s in g.skus}, actor=actor)


def refresh_price_ranges(product_ids) -> None:
    """catalog.services.refresh_price_range for many products in a few statements."""
    products = []
    for start in range(0, len(product_ids), BATCH):
        chunk = product_ids[start:start + BATCH]
        ranges = {r["product_id"]: r for r in Sku.objects.filter(product_id__in=chunk, is_active=True)
                  .values("product_id").annotate(lo=Min("price"), hi=Max("price"))}
        for pid in chunk:
            r = ranges.get(pid, {})
            products.append(Product(pk=pid, min_price=r.get("lo") or Decimal("0"), max_price=r.get("hi") or Decimal("0")))
    update_rows(Product, products, ["min_price", "max_price"])


def _apply(*, actor, shop, data, filename) -> dict:
    plan = check_file(shop=shop, data=data, filename=filename)
    if not plan.ok:
        raise ImportRefused(plan)
    try:
        with transaction.atomic():
            return _write(plan, shop=shop, actor=actor)
    except IntegrityError:  # a SKU code taken by someone else between the check and the write
        raise Conflict(_("Another change to these SKU codes came first; check the file again.")) from None


class ImportRefused(ValidationFailed):
    """The file has row errors: nothing was written; `errors` lists them all."""

    def __init__(self, plan):
        self.plan = plan
        self.errors = plan.errors
        fields = {}
        for e in plan.errors[:200]:
            fields.setdefault(f"rows[{e.row}].{e.column}", []).append(str(e.message))
        n = len(plan.errors)
        super().__init__(ngettext("The file has %(n)s error; nothing was imported.",
                                  "The file has %(n)s errors; nothing was imported.", n) % {"n": n}, fields=fields)


def import_file(*, actor, shop, data: bytes, filename: str = "") -> dict:
    """Check and import a file in one step (the API's `dry_run=false`): all or nothing."""
    return _apply(actor=actor, shop=shop, data=data, filename=filename)


def stage_import(*, actor, shop, data: bytes, filename: str = "") -> tuple[Plan, CatalogImport | None]:
    """The dry run the console and the API show before confirming: the plan, and
    when the file has no errors the stored file whose token confirms it. Old
    staged files of the shop are removed here (no periodic job needed)."""
    plan = check_file(shop=shop, data=data, filename=filename)
    CatalogImport.objects.filter(shop=shop, created_at__lt=timezone.now() - 2 * IMPORT_TTL).delete()
    if not plan.ok:
        return plan, None
    staged = CatalogImport.objects.create(token=secrets.token_urlsafe(24), shop=shop, created_by=actor,
                                          filename=(filename or "")[:200], data=data, summary=plan.summary)
    return plan, staged


def confirm_import(*, actor, shop, token: str) -> dict:
    """Import the file staged under `token`, once: a second confirmation (a
    replay, a double click) is a Conflict and imports nothing again; another
    shop's or user's token, or an expired one, is not found. The file is
    checked again, as the catalogue may have changed since the dry run."""
    token = str(token or "")[:64]
    staged = CatalogImport.objects.filter(token=token, shop=shop, created_by=actor).first() if token else None
    if staged is None or staged.created_at < timezone.now() - IMPORT_TTL:
        raise NotFound(_("This import is unknown or has expired; upload the file again."))
    with transaction.atomic():
        # the conditional UPDATE lets one confirmation through, on SQLite and PostgreSQL alike
        claimed = CatalogImport.objects.filter(pk=staged.pk, status=CatalogImport.Status.PENDING).update(
            status=CatalogImport.Status.APPLIED, applied_at=timezone.now())
        if not claimed:
            raise Conflict(_("This file was already imported."), code="import_already_applied")
        summary = _apply(actor=actor, shop=shop, data=bytes(staged.data), filename=staged.filename)
    CatalogImport.objects.filter(pk=staged.pk).update(data=b"")  # the file is not needed any more
    return summary
