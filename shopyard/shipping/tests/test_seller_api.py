"""The seller's freight-template API: what a good template saves, and each kind of
bad input refused field by field with nothing written."""

import pytest

from shopyard.catalog.models import Product
from shopyard.shipping.models import FreeShippingRule, FreightRegionRule, FreightTemplate
from tests import factories as f

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("shop")]  # the seller owns 星河数码

GOOD = {
    "name": "标准快递", "basis": "piece", "first_units": "1", "first_fee": "10.00",
    "additional_units": "1", "additional_fee": "5.00",
    "region_rules": [{"provinces": ["650000", "150000"], "first_units": "1", "first_fee": "20.00",
                      "additional_units": "1", "additional_fee": "10.00"}],
    "undeliverable": ["540000"],
    "free_rules": [{"kind": "amount", "threshold": "99.00", "provinces": []}],
}


def _counts():
    return (FreightTemplate.objects.count(), FreightRegionRule.objects.count(), FreeShippingRule.objects.count())


def test_seller_creates_reads_and_assigns_a_template(api, seller_token, product):
    created = api.post("/seller/freight-templates", GOOD, token=seller_token)

    assert created.status_code == 201, created.content
    body = created.json()
    assert body == {
        "id": body["id"], "name": "标准快递", "basis": "piece", "currency": "CNY",
        "first_units": "1", "first_fee": "10.00", "additional_units": "1", "additional_fee": "5.00",
        "region_rules": [{"provinces": ["650000", "150000"], "first_units": "1", "first_fee": "20.00",
                          "additional_units": "1", "additional_fee": "10.00"}],
        "undeliverable": ["540000"], "free_rules": [{"kind": "amount", "threshold": "99.00", "provinces": []}],
        "product_count": 0,
    }
    assigned = api.post("/seller/freight-templates/assign", {"template_id": body["id"], "product_ids": [product.pk]},
                        token=seller_token)
    assert assigned.status_code == 200 and assigned.json() == {"updated": 1}
    assert Product.objects.get(pk=product.pk).freight_template_id == body["id"]
    listed = api.get("/seller/freight-templates", token=seller_token).json()
    assert [(t["name"], t["product_count"]) for t in listed] == [("标准快递", 1)]

    back = api.post("/seller/freight-templates/assign", {"template_id": None, "product_ids": [product.pk]},
                    token=seller_token)
    assert back.status_code == 200
    assert Product.objects.get(pk=product.pk).freight_template_id is None


def test_update_replaces_rules_and_delete_returns_products_to_the_flat_fee(api, seller_token, shop, product):
    template = f.make_freight_template(shop, region_rules=GOOD["region_rules"], products=[product])

    changed = api.put(f"/seller/freight-templates/{template.pk}", {**GOOD, "name": "新名字", "region_rules": []},
                      token=seller_token)
    assert changed.status_code == 200, changed.content
    assert changed.json()["name"] == "新名字" and changed.json()["region_rules"] == []
    assert FreightRegionRule.objects.count() == 0

    deleted = api.c.delete(f"/api/v1/seller/freight-templates/{template.pk}", **f.auth(seller_token))
    assert deleted.status_code == 204
    assert not FreightTemplate.objects.exists()
    assert Product.objects.get(pk=product.pk).freight_template_id is None


@pytest.mark.parametrize(("change", "fields"), [
    ({"first_fee": "-1"}, {"first_fee": ["Enter a number such as 10 or 2.5 (no minus sign)."]}),
    ({"first_units": "0"}, {"first_units": ["Enter a number greater than zero."]}),
    ({"additional_units": "0"}, {"additional_units": ["Enter a number greater than zero."]}),
    ({"first_units": "1.5"}, {"first_units": ["Enter a whole number."]}),
    ({"first_fee": "10.005"}, {"first_fee": ["Use at most 2 decimal places."]}),
    ({"name": " "}, {"name": ["This field is required."]}),
    ({"undeliverable": ["999999"]}, {"undeliverable": ["Unknown province code: 999999."]}),
    ({"undeliverable": ["330100"]}, {"undeliverable": ["Unknown province code: 330100."]}),  # a city, not a province
    ({"region_rules": [{**GOOD["region_rules"][0], "additional_fee": "-2"}]},
     {"region_rules[0].additional_fee": ["Enter a number such as 10 or 2.5 (no minus sign)."]}),
    ({"region_rules": [{**GOOD["region_rules"][0], "provinces": []}]},
     {"region_rules[0].provinces": ["Choose at least one province."]}),
    ({"region_rules": [GOOD["region_rules"][0], {**GOOD["region_rules"][0], "provinces": ["440000", "650000"]}]},
     {"region_rules[1].provinces": ["新疆维吾尔自治区 is already in another rule."]}),
    ({"region_rules": [{**GOOD["region_rules"][0], "provinces": ["540000"]}]},
     {"region_rules[0].provinces": ["西藏自治区 is already in another rule."]}),
    ({"free_rules": [{"kind": "quantity", "threshold": "2.5"}]}, {"free_rules[0].threshold": ["Enter a whole number."]}),
    ({"free_rules": [{"kind": "amount", "threshold": "0"}]},
     {"free_rules[0].threshold": ["Enter a number greater than zero."]}),
    ({"free_rules": [{"kind": "amount", "threshold": "99", "provinces": ["12"]}]},
     {"free_rules[0].provinces": ["Unknown province code: 12."]}),
])
def test_bad_template_is_refused_field_by_field_and_nothing_is_written(api, seller_token, change, fields):
    response = api.post("/seller/freight-templates", {**GOOD, **change}, token=seller_token)

    assert response.status_code == 422, response.content
    assert response.json()["fields"] == fields
    assert _counts() == (0, 0, 0)


def test_several_bad_fields_are_reported_together(api, seller_token):
    response = api.post("/seller/freight-templates", {**GOOD, "first_fee": "-1", "additional_units": "0",
                                                      "undeliverable": ["000000"]}, token=seller_token)

    assert response.status_code == 422
    assert set(response.json()["fields"]) == {"first_fee", "additional_units", "undeliverable"}
    assert _counts() == (0, 0, 0)


def test_a_bad_update_leaves_the_template_as_it_was(api, seller_token, shop):
    template = f.make_freight_template(shop, region_rules=GOOD["region_rules"])

    response = api.put(f"/seller/freight-templates/{template.pk}", {**GOOD, "first_units": "0", "name": "改"},
                       token=seller_token)

    assert response.status_code == 422
    template.refresh_from_db()
    assert (template.name, template.first_units) == ("标准快递", 1)
    assert FreightRegionRule.objects.filter(template=template).count() == 1


def test_another_shops_template_is_not_found_and_cannot_be_assigned(api, seller_token, shop, product, other_shop):
    foreign = f.make_freight_template(other_shop, name="别人的")

    assert api.get(f"/seller/freight-templates/{foreign.pk}", token=seller_token).status_code == 404
    assert api.put(f"/seller/freight-templates/{foreign.pk}", GOOD, token=seller_token).status_code == 404
    assigned = api.post("/seller/freight-templates/assign", {"template_id": foreign.pk, "product_ids": [product.pk]},
                        token=seller_token)
    assert assigned.status_code == 422
    assert assigned.json()["fields"] == {"template_id": ["Choose one of your shop's freight templates."]}
    assert Product.objects.get(pk=product.pk).freight_template_id is None
    assert FreightTemplate.objects.get(pk=foreign.pk).name == "别人的"


def test_another_shops_product_cannot_be_given_a_template(api, seller_token, shop, product, other_sku):
    template = f.make_freight_template(shop)

    response = api.post("/seller/freight-templates/assign",
                        {"template_id": template.pk, "product_ids": [product.pk, other_sku.product_id]},
                        token=seller_token)

    assert response.status_code == 422
    assert response.json()["fields"] == {"product_ids": [f"Not a product of your shop: {other_sku.product_id}."]}
    assert Product.objects.filter(freight_template__isnull=False).count() == 0


def test_duplicate_name_in_one_shop_is_refused(api, seller_token, shop):
    f.make_freight_template(shop)

    response = api.post("/seller/freight-templates", GOOD, token=seller_token)

    assert response.status_code == 422
    assert response.json()["fields"] == {"name": ["Another template of this shop has this name."]}
    assert FreightTemplate.objects.count() == 1


def test_a_shopper_without_a_shop_is_refused(api, shopper_token):
    assert api.get("/seller/freight-templates", token=shopper_token).status_code == 403
    assert api.post("/seller/freight-templates", GOOD, token=shopper_token).status_code == 403
    assert FreightTemplate.objects.count() == 0
