"""Bulk catalogue: CSV/XLSX import with a dry run that lists every row's
errors, all-or-nothing writes, export that imports back unchanged, the staged
confirmation (once, for its own shop), and bulk price and stock edits."""

import csv
import io
from decimal import Decimal

import openpyxl
import pytest

from shopyard.catalog import bulk
from shopyard.catalog.models import Brand, CatalogImport, Category, Product, Sku
from shopyard.catalog.services import refresh_price_range
from shopyard.core.errors import Conflict, NotFound, ValidationFailed
from shopyard.inventory import services as inventory_services
from shopyard.inventory.models import StockLevel, StockMovement
from tests import factories as f

HEADER = "product_key,title,title_en,category,brand,description,status,sku_code,options,price,stock,weight\n"


@pytest.fixture
def phones(db):
    root = Category.objects.create(name="数码", name_en="Digital", slug="digital")
    return Category.objects.create(name="手机", name_en="Phones", slug="phones", parent=root)


@pytest.fixture
def brand(db):
    return Brand.objects.create(name="星河", name_en="Galaxy")


def csv_bytes(text: str, *, bom=True) -> bytes:
    return (("\ufeff" if bom else "") + text).encode("utf-8")


GOOD = HEADER + (
    "T1,星河手机,Galaxy phone,phones,星河,<p>好手机</p>,published,GX-1-R-128,颜色=红;容量=128G,1999.00,10,0.2\n"
    "T1,星河手机,Galaxy phone,phones,星河,<p>好手机</p>,published,GX-1-R-256,颜色=红;容量=256G,2299,5,0.2\n"
    "T1,,,,,,,GX-1-B-128,颜色=黑;容量=128G,1999.5,0,\n"
    "T2,手机壳,Phone case,数码/手机,,,draft,CASE-1,,29.90,100,\n"
)


def snapshot():
    """What the catalogue holds: products, SKUs with options, stock."""
    return (
        sorted(Product.objects.values_list("pk", "title", "status", "min_price", "max_price")),
        sorted((s.code, s.price, s.name, s.is_active, s.weight) for s in Sku.objects.all()),
        sorted(StockLevel.objects.values_list("sku_id", "quantity")),
        StockMovement.objects.count(),
    )


def errors_of(plan):
    return [(e.row, e.column, str(e.message)) for e in plan.errors]


# --- import ------------------------------------------------------------------------


def test_dry_run_reports_what_would_happen_and_writes_nothing(shop, phones, brand):
    before = snapshot()

    plan, staged = bulk.stage_import(actor=shop.members.get().user, shop=shop, data=csv_bytes(GOOD),
                                     filename="goods.csv")

    assert plan.errors == []
    assert plan.summary == {"rows": 4, "products_created": 2, "products_updated": 0, "skus_created": 4,
                            "skus_updated": 0}
    assert staged.status == CatalogImport.Status.PENDING and staged.summary == plan.summary
    assert snapshot() == before


def test_import_creates_products_skus_options_and_stock(shop, seller, phones, brand):
    summary = bulk.import_file(actor=seller, shop=shop, data=csv_bytes(GOOD), filename="goods.csv")

    assert summary["products_created"] == 2 and summary["skus_created"] == 4
    phone = Product.objects.get(shop=shop, title="星河手机")
    assert (phone.title_en, phone.category, phone.brand, phone.status) == ("Galaxy phone", phones, brand, "published")
    assert phone.published_at is not None and phone.slug == "xing-he-shou-ji"
    assert (phone.min_price, phone.max_price) == (Decimal("1999.00"), Decimal("2299.00"))
    assert [a.name for a in phone.attributes.all()] == ["颜色", "容量"]
    skus = {s.code: s for s in phone.skus.all()}
    assert skus["GX-1-R-256"].name == "红 / 256G" and skus["GX-1-R-256"].stock.quantity == 5
    assert skus["GX-1-R-128"].weight == Decimal("0.200")
    assert skus["GX-1-B-128"].weight is None and skus["GX-1-B-128"].price == Decimal("1999.50")
    assert sorted(o.value for o in skus["GX-1-B-128"].options.all()) == ["128G", "黑"]
    case = Product.objects.get(shop=shop, title="手机壳")
    assert (case.status, case.category, case.brand) == ("draft", phones, None)
    assert case.skus.get().stock.quantity == 100
    # stock went through inventory's ledger
    assert StockMovement.objects.filter(sku__product__shop=shop, reason="adjust").count() == 3


def test_import_updates_the_shops_own_skus_by_code(shop, seller, phones):
    product = f.make_product(shop, price="10.00", stock=3, title="旧名")
    code = product.skus.get().code
    data = csv_bytes(HEADER + f"K,新名,New name,phones,,,draft,{code},,12.50,7,\n")

    summary = bulk.import_file(actor=seller, shop=shop, data=data)

    assert summary == {"rows": 1, "products_created": 0, "products_updated": 1, "skus_created": 0,
                       "skus_updated": 1}
    product.refresh_from_db()
    sku = product.skus.get()
    assert (product.title, product.status, product.category, product.min_price) == ("新名", "draft", phones,
                                                                                  Decimal("12.50"))
    assert (sku.price, sku.stock.quantity) == (Decimal("12.50"), 7)


def test_every_error_kind_is_reported_with_row_and_column(shop, seller, phones, other_sku):
    bad = HEADER + (
        "A,商品A,,phones,,,published,A-1,,abc,5,\n"               # 2: price not a number
        "A2,商品A,,phones,,,published,A-2,,-3,5,\n"                # 3: negative price
        "A3,商品A,,phones,,,published,A-3,,100000001,5,\n"         # 4: huge price
        "B,商品B,,no-such-cat,,,draft,B-1,,9.90,-1,\n"            # 5: unknown category, negative stock
        "B2,商品B,,no-such-cat,,,draft,B-2,,9.90,99999999999,\n"   # 6: huge stock
        f"C,商品C,,phones,,,draft,{other_sku.code},,9.90,1,\n"     # 7: another shop's SKU code
        "D,商品D,,phones,无此品牌,,sold,A-1,,9.999,1.5,x\n"      # 8: brand, status, duplicate code, decimals, stock, weight
        "E,,,phones,,,draft,E-1,颜色红,9.90,1,\n"                 # 9: title missing, options malformed
    )

    plan = bulk.check_file(shop=shop, data=csv_bytes(bad))

    assert errors_of(plan) == [
        (2, "price", "Enter a valid amount."),
        (3, "price", "Enter a valid amount."),
        (4, "price", "Enter an amount from 0 to 100,000,000."),
        (5, "category", "Unknown category “no-such-cat”: give its slug or its path, such as 数码/手机."),
        (5, "stock", "Stock must be a whole number from 0 to 10000000."),
        (6, "category", "Unknown category “no-such-cat”: give its slug or its path, such as 数码/手机."),
        (6, "stock", "Stock must be a whole number from 0 to 10000000."),
        (7, "sku_code", f"The SKU code {other_sku.code} is already used."),
        (8, "brand", "Unknown brand “无此品牌”."),
        (8, "status", "The status must be draft or published."),
        (8, "sku_code", "SKU code A-1 is already on row 2."),
        (8, "price", "Use at most two decimal places."),
        (8, "stock", "Stock must be a whole number from 0 to 10000000."),
        (8, "weight", "Enter a number from 0 to 100000."),
        (9, "title", "This field is required."),
        (9, "options", "Write options as name=value pairs separated by ; (for example 颜色=红;尺码=L)."),
    ]
    assert plan.groups == []


def test_one_bad_row_imports_nothing(shop, seller, phones, brand):
    before = snapshot()
    data = csv_bytes(GOOD + "T3,好商品,,phones,,,draft,OK-9,,9.90,abc,\n")

    with pytest.raises(ValidationFailed) as refused:
        bulk.import_file(actor=seller, shop=shop, data=data)

    assert refused.value.fields == {"rows[6].stock": ["Stock must be a whole number from 0 to 10000000."]}
    assert [(e.row, e.column) for e in refused.value.errors] == [(6, "stock")]
    assert snapshot() == before


def test_a_failure_while_writing_rolls_back_every_row(shop, seller, phones, brand, monkeypatch):
    before = snapshot()

    def boom(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(inventory_services, "set_stock_many", boom)
    with pytest.raises(RuntimeError):
        bulk.import_file(actor=seller, shop=shop, data=csv_bytes(GOOD))

    assert snapshot() == before


def test_another_shops_sku_code_is_never_updated(shop, seller, phones, other_sku):
    other_before = (other_sku.price, other_sku.product.title, other_sku.stock.quantity)
    data = csv_bytes(HEADER + f"X,抢来的,,phones,,,draft,{other_sku.code},,1.00,999,\n")

    with pytest.raises(ValidationFailed) as refused:
        bulk.import_file(actor=seller, shop=shop, data=data)

    assert refused.value.fields == {"rows[2].sku_code": [f"The SKU code {other_sku.code} is already used."]}
    other_sku.refresh_from_db()
    assert (other_sku.price, other_sku.product.title, other_sku.stock.quantity) == other_before
    assert not Product.objects.filter(shop=shop).exists()


def test_group_rules_product_columns_agree_attributes_match_one_key_per_product(shop, seller, phones):
    product = f.make_product(shop, skus=[("10.00", 1), ("12.00", 2)])
    a, b = product.skus.order_by("id")
    lone = f.make_product(shop)
    bad = HEADER + (
        "P,商品,,phones,,,draft,N-1,颜色=红,9.90,1,\n"
        "P,另一个名字,,phones,,,draft,N-2,尺码=L,9.90,1,\n"       # 3: title differs, other attribute
        "P,商品,,phones,,,draft,N-3,颜色=红,9.90,1,\n"           # 4: same options as row 2
        f"Q,改名,,phones,,,draft,{a.code},尺码=S0,10,1,\n"
        f"R,改名,,phones,,,draft,{b.code},尺码=S1,10,1,\n"       # 6: the product already has key Q
        f"S,混合,,phones,,,draft,{lone.skus.get().code},,10,1,\n"
        f"S,混合,,phones,,,draft,N-4,,10,1,\n"
    )

    plan = bulk.check_file(shop=shop, data=csv_bytes(bad))

    assert errors_of(plan) == [
        (3, "title", "Differs from row 2 of the same product key."),
        (3, "options", "Give the same attributes as row 2: 颜色."),
        (4, "options", "Row 2 has the same options."),
        (6, "product_key", "This product's SKUs already have the product key Q on row 5: one product, one key."),
        (8, "options", "Row 7 has the same options."),  # a product without attributes has one SKU
    ]


def test_file_level_errors(shop, phones, settings):
    def refused(data, filename="x.csv"):
        with pytest.raises(ValidationFailed) as exc:
            bulk.check_file(shop=shop, data=data, filename=filename)
        return exc.value.fields["file"]

    assert refused(b"") == ["The file is empty."]
    assert refused(csv_bytes("product_key,title,prce\n")) == [
        "Unknown columns: prce. The columns are: " + ", ".join(bulk.COLUMNS) + "."]
    assert refused(csv_bytes("product_key,title,category,sku_code,price\n")) == [
        "The file needs the columns: stock."]
    assert refused(csv_bytes(HEADER)) == ["The file has no rows below its header."]
    assert refused(b"\xff\xfe\x00a\x00b") == ["The file is not UTF-8 text (save the CSV as UTF-8)."]
    assert refused(b"product_key\x00,title") == ["The file is not a CSV text file."]
    assert refused(b"PK\x03\x04 not a zip", "x.xlsx") == ["The file is not a valid Excel workbook (.xlsx)."]
    assert refused(b"x", "old.xls") == ["Save the file as CSV or as an Excel workbook (.xlsx)."]
    many = HEADER + "".join(f"K{i},t,,phones,,,draft,C{i},,1,1,\n" for i in range(bulk.MAX_IMPORT_ROWS + 1))
    assert refused(csv_bytes(many)) == [
        f"A file has at most {bulk.MAX_IMPORT_ROWS} rows; split it into several files."]
    assert refused(b"x" * (bulk.MAX_IMPORT_BYTES + 1)) == ["The file is larger than 20 MB."]


def test_gbk_csv_without_bom_and_chinese_headers_are_accepted(shop, seller, phones):
    text = "商品编号,商品名称,类目,SKU编码,规格,价格,库存\nK,保温杯,数码/手机,CUP-1,颜色=白,39,8\n"

    summary = bulk.import_file(actor=seller, shop=shop, data=text.encode("gbk"))

    assert summary["skus_created"] == 1
    assert Sku.objects.get(code="CUP-1").name == "白"


# --- export and round trip ----------------------------------------------------------


def test_export_imports_back_unchanged_csv_and_xlsx(shop, seller, phones, brand):
    bulk.import_file(actor=seller, shop=shop, data=csv_bytes(GOOD))
    Product.objects.filter(title="手机壳").update(title="=HYPERLINK(\"x\")", description="-1+2")
    Sku.objects.filter(code="GX-1-R-256").update(volume=Decimal("0.000001"), is_active=False)
    refresh_price_range(Product.objects.get(title="星河手机"))
    before = snapshot()

    for fmt in ("csv", "xlsx"):
        data, content_type, name = bulk.export_file(shop=shop, fmt=fmt)
        assert name.endswith(f".{fmt}")
        plan = bulk.check_file(shop=shop, data=data, filename=name)
        assert plan.errors == []
        assert plan.summary == {"rows": 4, "products_created": 0, "products_updated": 2, "skus_created": 0,
                                "skus_updated": 4}
        bulk.import_file(actor=seller, shop=shop, data=data, filename=name)
        assert snapshot() == before
    assert Product.objects.get(shop=shop, status="draft").title == "=HYPERLINK(\"x\")"


def test_export_quotes_formulas_and_writes_excel_friendly_csv(shop, seller, phones):
    f.make_product(shop, title="=cmd|' /C calc'!A0", price="5.00")

    data, content_type, _name = bulk.export_file(shop=shop, fmt="csv")

    assert data.startswith("\ufeff".encode()) and content_type == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == list(bulk.COLUMNS)
    assert rows[1][1] == "'=cmd|' /C calc'!A0" and rows[1][10] == "5.00"
    xlsx, _t, _n = bulk.export_file(shop=shop, fmt="xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx)).worksheets[0]
    assert sheet.cell(row=2, column=2).value == "'=cmd|' /C calc'!A0"
    assert sheet.cell(row=2, column=2).data_type == "s"


def test_export_lists_only_the_shops_own_products(shop, other_sku, product):
    data, _t, _n = bulk.export_file(shop=shop, fmt="csv")

    codes = [r[8] for r in csv.reader(io.StringIO(data.decode("utf-8-sig")))][1:]
    assert codes == [product.skus.get().code]


# --- staged confirmation ---------------------------------------------------------------


def test_confirm_imports_exactly_the_checked_file_once(shop, seller, phones, brand):
    _plan, staged = bulk.stage_import(actor=seller, shop=shop, data=csv_bytes(GOOD), filename="g.csv")

    summary = bulk.confirm_import(actor=seller, shop=shop, token=staged.token)

    assert summary["skus_created"] == 4
    after = snapshot()
    with pytest.raises(Conflict) as replay:
        bulk.confirm_import(actor=seller, shop=shop, token=staged.token)
    assert replay.value.code == "import_already_applied"
    assert snapshot() == after


def test_a_token_works_only_for_its_shop_and_uploader_and_not_after_expiry(shop, seller, phones, other_shop,
                                                                         brand):
    _plan, staged = bulk.stage_import(actor=seller, shop=shop, data=csv_bytes(GOOD))
    stranger = other_shop.members.get().user
    colleague = f.make_user()
    before = snapshot()

    with pytest.raises(NotFound):
        bulk.confirm_import(actor=stranger, shop=other_shop, token=staged.token)
    with pytest.raises(NotFound):
        bulk.confirm_import(actor=colleague, shop=shop, token=staged.token)
    CatalogImport.objects.filter(pk=staged.pk).update(created_at=staged.created_at - bulk.IMPORT_TTL)
    with pytest.raises(NotFound):
        bulk.confirm_import(actor=seller, shop=shop, token=staged.token)
    assert snapshot() == before


def test_a_file_with_errors_gets_no_token(shop, seller, phones):
    plan, staged = bulk.stage_import(actor=seller, shop=shop, data=csv_bytes(HEADER + "K,t,,nope,,,,C1,,1,1,\n"))

    assert staged is None and [e.column for e in plan.errors] == ["category"]
    assert not CatalogImport.objects.exists()


# --- bulk price and stock edit ------------------------------------------------------------


def test_bulk_edit_sets_prices_and_stock_all_or_nothing(shop, seller):
    product = f.make_product(shop, skus=[("10.00", 1), ("12.00", 2)])
    a, b = product.skus.order_by("id")

    result = bulk.edit_skus(actor=seller, shop=shop, items=[
        {"sku_id": a.pk, "price": "8.80", "stock": "5", "stock_seen": "1"},
        {"sku_id": b.pk, "stock": 0}])

    assert result == {"prices_changed": 1, "stocks_changed": 2, "products": 1}
    product.refresh_from_db()
    assert (product.min_price, product.max_price) == (Decimal("8.80"), Decimal("12.00"))
    assert sorted(StockLevel.objects.filter(sku__product=product).values_list("quantity", flat=True)) == [0, 5]

    before = snapshot()
    with pytest.raises(ValidationFailed) as refused:
        bulk.edit_skus(actor=seller, shop=shop, items=[
            {"sku_id": a.pk, "price": "7.00"}, {"sku_id": b.pk, "price": "0", "stock": "-1"}])
    assert refused.value.fields == {"items[1].price": ["The price must be at least ¥0.01."],
                                    "items[1].stock": ["Stock must be a whole number from 0 to 10000000."]}
    assert snapshot() == before


def test_bulk_edit_refuses_stock_that_changed_meanwhile_and_foreign_skus(shop, seller, other_sku):
    sku = f.make_product(shop, stock=4).skus.get()
    before = snapshot()

    with pytest.raises(ValidationFailed) as refused:
        bulk.edit_skus(actor=seller, shop=shop, items=[{"sku_id": sku.pk, "stock": "10", "stock_seen": "6"}])
    assert refused.value.fields == {"items[0].stock": [
        "Stock changed while you were editing: 4 on hand now; enter the new figure again."]}
    with pytest.raises(NotFound):
        bulk.edit_skus(actor=seller, shop=shop, items=[{"sku_id": sku.pk, "price": "1.00"},
                                                       {"sku_id": other_sku.pk, "price": "1.00"}])
    assert snapshot() == before


# --- size -------------------------------------------------------------------------------


def test_a_2000_row_import_writes_every_row(shop, seller, phones):
    lines = [HEADER]
    for p in range(500):
        for s, size in enumerate(("S", "M", "L", "XL")):
            lines.append(f"P{p},T恤{p},Tee {p},phones,,,published,TEE-{p}-{size},尺码={size},{59 + s}.90,{p % 7},\n")

    summary = bulk.import_file(actor=seller, shop=shop, data=csv_bytes("".join(lines)))

    assert summary == {"rows": 2000, "products_created": 500, "products_updated": 0, "skus_created": 2000,
                       "skus_updated": 0}
    assert Sku.objects.filter(product__shop=shop).count() == 2000
    tee = Product.objects.get(shop=shop, title="T恤42")
    assert (tee.min_price, tee.max_price, tee.status) == (Decimal("59.90"), Decimal("62.90"), "published")
    assert sorted(tee.skus.values_list("stock__quantity", flat=True)) == [0, 0, 0, 0]
    assert Sku.objects.get(code="TEE-43-L").stock.quantity == 1


# --- API ----------------------------------------------------------------------------------


def _upload(api, token, data, name="goods.csv", **form):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return api.c.post("/api/v1/seller/catalog/imports", {"file": SimpleUploadedFile(name, data), **form},
                      **f.auth(token))


def test_api_dry_run_confirm_and_replay(api, shop, seller_token, phones, brand):
    before = snapshot()

    checked = _upload(api, seller_token, csv_bytes(GOOD))

    assert checked.status_code == 200
    body = checked.json()
    assert body["ok"] is True and body["errors"] == [] and body["summary"]["skus_created"] == 4
    assert snapshot() == before
    done = api.post(f"/seller/catalog/imports/{body['token']}/confirm", token=seller_token)
    assert done.status_code == 201 and done.json()["summary"]["products_created"] == 2
    after = snapshot()
    replay = api.post(f"/seller/catalog/imports/{body['token']}/confirm", token=seller_token)
    assert replay.status_code == 409 and replay.json()["code"] == "import_already_applied"
    assert snapshot() == after


def test_api_dry_run_lists_row_errors_and_one_step_import_refuses_them(api, shop, seller_token, phones):
    data = csv_bytes(HEADER + "K,t,,phones,,,draft,C1,,1.001,1,\nK2,t2,,phones,,,draft,C2,,2,x,\n")
    before = snapshot()

    checked = _upload(api, seller_token, data)
    direct = _upload(api, seller_token, data, dry_run="false")

    assert checked.status_code == 200
    assert checked.json()["ok"] is False and checked.json()["token"] is None
    assert checked.json()["errors"] == [
        {"row": 2, "column": "price", "message": "Use at most two decimal places."},
        {"row": 3, "column": "stock", "message": "Stock must be a whole number from 0 to 10000000."}]
    assert direct.status_code == 422
    assert direct.json()["fields"] == {"rows[2].price": ["Use at most two decimal places."],
                                       "rows[3].stock": ["Stock must be a whole number from 0 to 10000000."]}
    assert snapshot() == before


def test_api_one_step_import_and_export(api, shop, seller_token, phones, brand):
    done = _upload(api, seller_token, csv_bytes(GOOD), dry_run="false")
    assert done.status_code == 201 and done.json()["summary"]["skus_created"] == 4

    exported = api.get("/seller/catalog/export?format=xlsx", token=seller_token)

    assert exported.status_code == 200
    assert exported["Content-Type"] == bulk.FORMATS["xlsx"]
    assert 'filename="products-' in exported["Content-Disposition"]
    again = _upload(api, seller_token, exported.content, name="back.xlsx")
    assert again.json()["summary"] == {"rows": 4, "products_created": 0, "products_updated": 2,
                                       "skus_created": 0, "skus_updated": 4}
    assert api.get("/seller/catalog/export?format=pdf", token=seller_token).status_code == 422


def test_api_confirm_of_another_shops_token_is_404(api, shop, seller, phones, other_shop, brand):
    _plan, staged = bulk.stage_import(actor=seller, shop=shop, data=csv_bytes(GOOD))
    stranger = f.token_for(other_shop.members.get().user)
    before = snapshot()

    response = api.post(f"/seller/catalog/imports/{staged.token}/confirm", token=stranger)

    assert response.status_code == 404
    assert snapshot() == before


def test_api_bulk_edit_lists_and_edits_skus(api, shop, seller_token, other_sku):
    product = f.make_product(shop, skus=[("10.00", 1), ("12.00", 2)])
    a, b = product.skus.order_by("id")

    listed = api.get("/seller/skus?q=" + a.code, token=seller_token).json()
    edited = api.put("/seller/skus", {"items": [{"sku_id": a.pk, "price": "9.50", "stock": 3, "stock_seen": 1},
                                                {"sku_id": b.pk, "stock": 20}]}, token=seller_token)

    assert [r["code"] for r in listed["results"]] == [a.code]
    assert listed["results"][0]["price"] == "10.00" and listed["results"][0]["stock"] == 1
    assert edited.status_code == 200
    assert edited.json() == {"prices_changed": 1, "stocks_changed": 2, "products": 1}
    assert [s.stock.quantity for s in product.skus.order_by("id")] == [3, 20]
    before = snapshot()
    bad = api.put("/seller/skus", {"items": [{"sku_id": a.pk, "price": "1.234"}]}, token=seller_token)
    foreign = api.put("/seller/skus", {"items": [{"sku_id": other_sku.pk, "price": "1.00"}]}, token=seller_token)
    negative = api.put("/seller/skus", {"items": [{"sku_id": a.pk, "stock": -1}]}, token=seller_token)
    assert (bad.status_code, bad.json()["fields"]) == (422, {"items[0].price": ["Use at most two decimal places."]})
    assert foreign.status_code == 404
    assert negative.status_code == 422 and list(negative.json()["fields"]) == ["items[0].stock"]
    assert snapshot() == before


# --- console ---------------------------------------------------------------------------------


def test_console_import_check_then_confirm_once(seller_client, shop, phones, brand):
    from django.core.files.uploadedfile import SimpleUploadedFile

    page = seller_client.get("/console/products/import/")
    assert page.status_code == 200 and b"Check the file" in page.content

    checked = seller_client.post("/console/products/import/",
                                 {"file": SimpleUploadedFile("goods.csv", csv_bytes(GOOD))})

    assert checked.status_code == 200
    assert "create 2 products and update 0; create 4 SKUs and update 0" in checked.content.decode()
    assert not Product.objects.filter(shop=shop).exists()
    token = CatalogImport.objects.get(shop=shop).token
    assert f'name="token" value="{token}"'.encode() in checked.content
    done = seller_client.post("/console/products/import/confirm/", {"token": token})
    assert done.status_code == 302 and done["Location"] == "/console/products/"
    assert Sku.objects.filter(product__shop=shop).count() == 4
    after = snapshot()
    replay = seller_client.post("/console/products/import/confirm/", {"token": token})
    assert replay.status_code == 409 and b"This file was already imported." in replay.content
    assert snapshot() == after


def test_console_import_shows_the_error_table_and_writes_nothing(seller_client, shop, phones):
    from django.core.files.uploadedfile import SimpleUploadedFile

    data = csv_bytes(HEADER + "K,t,,phones,,,draft,C1,,1.001,1,\nK2,t2,,nowhere,,,draft,C2,,2,3,\n")
    response = seller_client.post("/console/products/import/", {"file": SimpleUploadedFile("bad.csv", data)})
    empty = seller_client.post("/console/products/import/", {})
    junk = seller_client.post("/console/products/import/", {"file": SimpleUploadedFile("a.xlsx", b"PK\x03\x04")})

    assert response.status_code == 422
    html = response.content.decode()
    assert "The file has 2 errors in its 2 rows; nothing was imported." in html
    assert "Use at most two decimal places." in html and "Unknown category “nowhere”" in html
    assert 'name="token"' not in html
    assert empty.status_code == 422 and b"Choose a CSV or XLSX file." in empty.content
    assert junk.status_code == 422 and b"The file is not a valid Excel workbook (.xlsx)." in junk.content
    assert not Product.objects.filter(shop=shop).exists() and not CatalogImport.objects.exists()


def test_console_export_downloads_the_shops_file(seller_client, shop, product):
    response = seller_client.get("/console/products/export/?format=csv")

    assert response.status_code == 200 and response["Content-Type"] == "text/csv; charset=utf-8"
    assert product.skus.get().code in response.content.decode("utf-8-sig")
    assert seller_client.get("/console/products/export/?format=exe").status_code == 404


def test_console_bulk_edit_saves_all_or_shows_row_errors(seller_client, shop, django_assert_max_num_queries):
    product = f.make_product(shop, skus=[("10.00", 1), ("12.00", 2)])
    a, b = product.skus.order_by("id")
    for _ in range(5):
        f.make_product(shop)
    with django_assert_max_num_queries(12):
        page = seller_client.get("/console/products/skus/")
    assert page.status_code == 200 and f'name="price-{a.pk}" value="10.00"'.encode() in page.content

    form = {"ids": [a.pk, b.pk], f"price-{a.pk}": "9.90", f"stock-{a.pk}": "6", f"stock_seen-{a.pk}": "1",
            f"price-{b.pk}": "abc", f"stock-{b.pk}": "2", f"stock_seen-{b.pk}": "2"}
    before = snapshot()
    refused = seller_client.post("/console/products/skus/", form)

    assert refused.status_code == 422
    html = refused.content.decode()
    assert "Nothing was saved" in html and "Enter a valid amount." in html
    assert f'name="price-{b.pk}" value="abc"' in html and f'name="stock-{a.pk}" value="6"' in html
    assert snapshot() == before
    form[f"price-{b.pk}"] = "11.00"
    saved = seller_client.post("/console/products/skus/", form)
    assert saved.status_code == 302
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.price, a.stock.quantity, b.price, b.stock.quantity) == (Decimal("9.90"), 6, Decimal("11.00"), 2)


def test_console_bulk_edit_of_no_rows_says_so_instead_of_failing(seller_client, shop, product):
    before = snapshot()

    response = seller_client.post("/console/products/skus/", {})

    assert response.status_code == 422
    assert "Nothing was saved" in response.content.decode() and "Change at least one SKU." in response.content.decode()
    assert snapshot() == before


def test_console_bulk_edit_of_another_shops_sku_is_404(seller_client, shop, other_sku):
    before = snapshot()

    response = seller_client.post("/console/products/skus/", {"ids": [other_sku.pk], f"price-{other_sku.pk}": "1"})

    assert response.status_code == 404
    assert snapshot() == before


def test_an_import_feeds_the_search_index_after_commit(shop, seller, phones, brand,
                                                       django_capture_on_commit_callbacks):
    from shopyard.search.models import SearchDocument

    with django_capture_on_commit_callbacks(execute=True):
        bulk.import_file(actor=seller, shop=shop, data=csv_bytes(GOOD))

    docs = {d.title: d for d in SearchDocument.objects.filter(shop_id=shop.pk)}
    assert sorted(docs) == ["手机壳", "星河手机"]
    assert docs["星河手机"].is_visible and docs["星河手机"].min_price == Decimal("1999.00")
    assert not docs["手机壳"].is_visible  # a draft


def test_new_skus_of_a_product_with_attributes_need_their_options(shop, seller, phones):
    product = f.make_product(shop, skus=[("10.00", 1)])
    code = product.skus.get().code
    text = f"product_key,title,category,sku_code,price,stock\nK,t,phones,{code},10,1\nK,t,phones,NEW-1,10,1\n"

    plan = bulk.check_file(shop=shop, data=csv_bytes(text))

    assert errors_of(plan) == [(3, "sku_code", "Give the options of the new SKUs: this product varies on 尺码.")]


@pytest.mark.django_db(transaction=True)
def test_confirmations_racing_in_threads_import_the_file_once(shop, seller, phones, brand):
    import threading

    from django.db import connection

    _plan, staged = bulk.stage_import(actor=seller, shop=shop, data=csv_bytes(GOOD))
    barrier = threading.Barrier(4)
    outcomes = []

    def confirm():
        try:
            barrier.wait(timeout=30)
            outcomes.append(("ok", bulk.confirm_import(actor=seller, shop=shop, token=staged.token)["skus_created"]))
        except Conflict as exc:
            outcomes.append(("conflict", exc.code))
        except Exception as exc:  # anything else is a bug: keep it for the assert message
            outcomes.append(("error", repr(exc)))
        finally:
            connection.close()

    threads = [threading.Thread(target=confirm) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)

    assert sorted(outcomes) == [("conflict", "import_already_applied")] * 3 + [("ok", 4)]
    assert Sku.objects.filter(product__shop=shop).count() == 4
    assert Product.objects.filter(shop=shop).count() == 2
    assert StockMovement.objects.filter(sku__product__shop=shop).count() == 3
