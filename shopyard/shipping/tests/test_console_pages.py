"""The seller console's freight-template pages, driven as a seller would: create
and edit a template with province multi-selects, see bad input beside its field
with nothing written, assign templates in bulk and in the product editor."""

import pytest
from django.urls import reverse

from shopyard.catalog.models import Product
from shopyard.shipping.models import FreightRegionRule, FreightTemplate
from tests import factories as f

pytestmark = pytest.mark.django_db

FORM = {
    "name": "标准快递", "basis": "piece", "first_units": "1", "first_fee": "10", "additional_units": "1",
    "additional_fee": "5",
    "region-0-provinces": ["650000", "150000"], "region-0-first_units": "1", "region-0-first_fee": "20",
    "region-0-additional_units": "1", "region-0-additional_fee": "10",
    "undeliverable": ["540000"],
    "free-0-kind": "amount", "free-0-threshold": "99",
}


@pytest.fixture
def console(client, seller, shop):
    client.force_login(seller)
    return client


def test_seller_creates_a_template_with_regional_and_free_rules(console, shop):
    page = console.get(reverse("console:freight_template_create")).content.decode()
    assert 'name="region-0-provinces" multiple' in page and '<option value="540000">西藏自治区</option>' in page

    response = console.post(reverse("console:freight_template_create"), FORM)

    assert response.status_code == 302
    template = FreightTemplate.objects.get(shop=shop)
    assert (template.name, template.first_fee, template.additional_fee, template.undeliverable) == (
        "标准快递", 10, 5, ["540000"])
    [region] = template.region_rules.all()
    assert (region.provinces, region.first_fee, region.additional_fee) == (["650000", "150000"], 20, 10)
    [free] = template.free_rules.all()
    assert (free.kind, free.threshold, free.provinces) == ("amount", 99, [])
    listing = console.get(reverse("console:freight_templates")).content.decode()
    assert "标准快递" in listing


def test_bad_form_shows_each_error_beside_its_field_and_saves_nothing(console):
    bad = {**FORM, "first_fee": "-3", "additional_units": "0", "region-1-provinces": ["650000"],
           "region-1-first_units": "1", "region-1-first_fee": "1", "region-1-additional_units": "1",
           "region-1-additional_fee": "1"}

    response = console.post(reverse("console:freight_template_create"), bad)

    assert response.status_code == 422
    form = response.context["form"]
    assert form.errors == {"first_fee": ["Enter a number such as 10 or 2.5 (no minus sign)."],
                           "additional_units": ["Enter a number greater than zero."]}
    assert form.region_rows[1].errors == {"provinces": ["新疆维吾尔自治区 is already in another rule."]}
    assert "Nothing was saved" in response.content.decode()
    assert FreightTemplate.objects.count() == 0 and FreightRegionRule.objects.count() == 0


def test_edit_page_shows_the_template_and_saves_changes(console, shop):
    template = f.make_freight_template(shop, undeliverable=["540000"])
    url = reverse("console:freight_template_edit", args=[template.pk])

    page = console.get(url).content.decode()
    response = console.post(url, {**FORM, "name": "顺丰", "first_fee": "12.5"})

    assert '<option value="540000" selected>西藏自治区</option>' in page
    assert response.status_code == 302
    template.refresh_from_db()
    assert (template.name, str(template.first_fee)) == ("顺丰", "12.5000")


def test_another_shops_template_is_404(console, other_shop):
    foreign = f.make_freight_template(other_shop)

    assert console.get(reverse("console:freight_template_edit", args=[foreign.pk])).status_code == 404
    assert console.post(reverse("console:freight_template_delete", args=[foreign.pk])).status_code == 404
    assert FreightTemplate.objects.filter(pk=foreign.pk).exists()


def test_bulk_assign_sets_the_ticked_products_only(console, shop):
    first, second, third = (f.make_product(shop) for _i in range(3))
    template = f.make_freight_template(shop)

    response = console.post(reverse("console:freight_assign"),
                            {"template_id": str(template.pk), "product_ids": [str(first.pk), str(third.pk)]})

    assert response.status_code == 302
    assert {p.pk: p.freight_template_id for p in Product.objects.all()} == {
        first.pk: template.pk, second.pk: None, third.pk: template.pk}


def test_bulk_assign_with_a_foreign_template_changes_nothing(console, shop, other_shop):
    mine = f.make_product(shop)
    foreign = f.make_freight_template(other_shop)

    response = console.post(reverse("console:freight_assign"),
                            {"template_id": str(foreign.pk), "product_ids": [str(mine.pk)]})

    assert response.status_code == 422
    assert "Choose one of your shop&#x27;s freight templates." in response.content.decode()
    assert Product.objects.get(pk=mine.pk).freight_template_id is None


def _editor_post(product, **extra):
    sku = product.skus.get()
    return {"action": "save", "category_id": str(product.category_id), "brand_id": "", "title": product.title,
            "title_en": product.title_en, "description": "描述", "description_en": "", "code_base": "P",
            "sku_rows": "1", "sku-0-code": sku.code, "sku-0-price": f"{sku.price:.2f}", "sku-0-stock": "10",
            "sku-0-stock_seen": "10", "sku-0-active": "1", **extra}


def test_product_editor_sets_the_template_or_refuses_a_foreign_one(console, shop, other_shop):
    product = f.make_product(shop, stock=10)
    mine = f.make_freight_template(shop)
    foreign = f.make_freight_template(other_shop, name="别家")
    url = reverse("console:product_edit", args=[product.pk])

    page = console.get(url).content.decode()
    saved = console.post(url, _editor_post(product, freight_template_id=str(mine.pk)))
    refused = console.post(url, _editor_post(product, title="改了标题", freight_template_id=str(foreign.pk)))

    assert f'<option value="{mine.pk}">标准快递</option>' in page and "别家" not in page
    assert saved.status_code == 302
    assert refused.status_code == 422
    assert refused.context["state"].errors["freight_template_id"] == ["Choose one of your shop's freight templates."]
    title = product.title
    product.refresh_from_db()
    assert (product.freight_template_id, product.title) == (mine.pk, title)  # the title change rolled back too


def test_product_editor_saves_the_sku_weight_and_refuses_a_bad_one(console, shop):
    product = f.make_product(shop, stock=10)
    url = reverse("console:product_edit", args=[product.pk])

    saved = console.post(url, _editor_post(product, **{"sku-0-weight": "0.85"}))
    refused = console.post(url, _editor_post(product, **{"sku-0-weight": "-1"}))

    assert saved.status_code == 302
    assert refused.status_code == 422
    assert refused.context["state"].rows[0].errors == {"weight": ["Enter a number from 0 to 100000."]}
    assert str(product.skus.get().weight) == "0.850"
    assert 'name="sku-0-weight" value="0.85"' in console.get(url).content.decode()
