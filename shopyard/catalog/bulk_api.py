"""The bulk catalogue over HTTP (/api/v1/seller): export, import with a dry
run and a confirmation token, and bulk price and stock edits. The rules live
in catalog.bulk; these handlers parse, find the seller's shop and serialise."""

from datetime import datetime
from typing import Literal

from django.http import HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Query, Router, Schema, Status, UploadedFile

from shopyard.core.api_support import InSchema, PageMeta, bearer, paginate, responses
from shopyard.core.errors import ValidationFailed
from shopyard.core.money import money_str
from shopyard.shops.queries import shop_for_seller

from . import bulk

router = Router(tags=["seller"])


class CatalogImportSummary(Schema):
    rows: int
    products_created: int
    products_updated: int
    skus_created: int
    skus_updated: int


class CatalogImportRowError(Schema):
    row: int = Field(..., description="the spreadsheet's row number (the header is row 1)")
    column: str
    message: str


class CatalogImportCheckOut(Schema):
    ok: bool
    token: str | None = Field(None, description="confirm with POST /seller/catalog/imports/{token}/confirm")
    expires_at: datetime | None = None
    summary: CatalogImportSummary
    errors: list[CatalogImportRowError]


class CatalogImportDoneOut(Schema):
    summary: CatalogImportSummary


def _read_upload(upload) -> tuple[bytes, str]:
    if upload.size is not None and upload.size > bulk.MAX_IMPORT_BYTES:
        message = _("The file is larger than %(n)s MB.") % {"n": bulk.MAX_IMPORT_BYTES // (1024 * 1024)}
        raise ValidationFailed(message, fields={"file": [message]})
    return upload.read(bulk.MAX_IMPORT_BYTES + 1), upload.name or ""


@router.get("/catalog/export", auth=bearer, response=responses({200: None}),
            openapi_extra={"responses": {"200": {"description": "the file", "content": {
                bulk.FORMATS["csv"]: {"schema": {"type": "string"}},
                bulk.FORMATS["xlsx"]: {"schema": {"type": "string", "format": "binary"}}}}}})
def export_catalog(request, format: Literal["csv", "xlsx"] = "csv"):
    """The shop's products, one row per SKU, in the columns the import reads
    (docs/catalog-import.md): a file that imports back unchanged."""
    shop = shop_for_seller(request.auth, perm="catalog")
    data, content_type, name = bulk.export_file(shop=shop, fmt=format)
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@router.post("/catalog/imports", auth=bearer,
             response=responses({200: CatalogImportCheckOut, 201: CatalogImportDoneOut}))
def import_catalog(request, file: File[UploadedFile], dry_run: Form[bool] = True):
    """Check a CSV or XLSX file (dry run, the default): every row's errors and
    what would be created or updated, nothing written; a file without errors
    gets a token that imports exactly this file. `dry_run=false` checks and
    imports in one step, all or nothing (422 with `rows[<row>].<column>` fields)."""
    shop = shop_for_seller(request.auth, write=True, perm="catalog")
    data, name = _read_upload(file)
    if not dry_run:
        return Status(201, {"summary": bulk.import_file(actor=request.auth, shop=shop, data=data, filename=name)})
    plan, staged = bulk.stage_import(actor=request.auth, shop=shop, data=data, filename=name)
    return Status(200, {
        "ok": plan.ok, "token": staged.token if staged else None,
        "expires_at": staged.created_at + bulk.IMPORT_TTL if staged else None,
        "summary": plan.summary,
        "errors": [e.as_dict() for e in plan.errors],
    })


@router.post("/catalog/imports/{token}/confirm", auth=bearer, response=responses({201: CatalogImportDoneOut}))
def confirm_catalog_import(request, token: str):
    """Import the file checked under `token` (its shop and uploader, within
    30 minutes, once: a second confirmation is a 409 and imports nothing)."""
    shop = shop_for_seller(request.auth, write=True, perm="catalog")
    return Status(201, {"summary": bulk.confirm_import(actor=request.auth, shop=shop, token=token[:64])})


class BulkSkuOut(Schema):
    id: int
    code: str
    product_id: int
    product_title: str
    name: str
    price: str
    currency: str
    stock: int
    is_active: bool


class BulkSkuPage(Schema):
    meta: PageMeta
    results: list[BulkSkuOut]


class BulkSkuFilters(Schema):
    q: str | None = Field(None, max_length=100, description="SKU code, product title or SKU name")
    status: Literal["draft", "published"] | None = None
    page: int = Field(1, ge=1, le=100000)
    page_size: int = Field(50, ge=1, le=100)


class BulkSkuEditItem(Schema):
    sku_id: int = Field(..., ge=1, le=2**53, strict=True)
    price: str | None = Field(None, max_length=30, description="new price; absent: unchanged")
    stock: int | None = Field(None, ge=0, le=10_000_000, strict=True, description="stock on hand; absent: unchanged")
    stock_seen: int | None = Field(None, ge=0, le=10_000_000, strict=True,
                                   description="the stock you last read: refused if it changed meanwhile")


class BulkSkuEditIn(InSchema):
    items: list[BulkSkuEditItem] = Field(..., min_length=1, max_length=bulk.MAX_EDIT_ITEMS)


class BulkSkuEditOut(Schema):
    prices_changed: int
    stocks_changed: int
    products: int


@router.get("/skus", auth=bearer, response=responses({200: BulkSkuPage}))
def list_skus(request, filters: Query[BulkSkuFilters]):
    """The shop's SKUs with price and stock, for bulk edits."""
    shop = shop_for_seller(request.auth, perm="catalog")
    items, meta = paginate(bulk.shop_skus(shop, q=filters.q or "", status=filters.status or ""), filters.page,
                           filters.page_size)
    return Status(200, {"meta": meta, "results": [{
        "id": s.pk, "code": s.code, "product_id": s.product_id, "product_title": s.product.title, "name": s.name,
        "price": money_str(s.price, s.product.currency), "currency": s.product.currency,
        "stock": s.stock.quantity if hasattr(s, "stock") else 0, "is_active": s.is_active} for s in items]})


@router.put("/skus", auth=bearer, response=responses({200: BulkSkuEditOut}))
def edit_skus(request, payload: BulkSkuEditIn):
    """Set many SKUs' prices and stock at once, all or nothing; errors name
    the item (`items[2].price`); another shop's SKU id is a 404."""
    shop = shop_for_seller(request.auth, write=True, perm="catalog")
    items = [item.dict() for item in payload.items]
    return Status(200, bulk.edit_skus(actor=request.auth, shop=shop, items=items))
