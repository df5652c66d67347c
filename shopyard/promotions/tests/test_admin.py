"""The operator's page for platform campaigns (Django admin): every write goes
through promotions.services, refusals come back as form messages, and publish /
stop are actions."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from shopyard.promotions.kinds import Kind
from shopyard.promotions.models import Promotion, PromotionStatusChange
from tests import factories as f

pytestmark = pytest.mark.django_db

ADD = "admin:promotions_promotion_add"
LIST = "admin:promotions_promotion_changelist"


@pytest.fixture
def operator_client(client, home_operator):
    client.force_login(home_operator)
    return client


def form_data(**extra):
    start = timezone.localtime() + timedelta(hours=1)
    end = start + timedelta(days=3)
    data = {"kind": "cross_shop_tiers", "name": "双12跨店满减", "name_en": "Double 12", "currency": "CNY",
            "starts_at_0": start.strftime("%Y-%m-%d"), "starts_at_1": start.strftime("%H:%M:%S"),
            "ends_at_0": end.strftime("%Y-%m-%d"), "ends_at_1": end.strftime("%H:%M:%S"),
            "rules": '{"tiers": [{"threshold": "300", "amount_off": "30"}]}', "scope": "all", "target_ids": ""}
    data.update(extra)
    return data


def test_list_shows_campaigns_with_their_phase_and_shop_promotions_for_reference(operator_client, shop):
    f.make_promotion(None, Kind.CROSS_SHOP_TIERS, {"tiers": [{"threshold": "300", "amount_off": "30"}]},
                     name="平台满减")
    f.make_promotion(shop, Kind.TIME_DISCOUNT, {"percent_off": "10"}, name="店铺限时")
    page = operator_client.get(reverse(LIST)).content.decode()
    assert "平台满减" in page and "Live" in page and "¥30.00 off ¥300.00" in page and "Platform" in page
    assert "店铺限时" in page and shop.name in page
    platform_only = operator_client.get(reverse(LIST), {"shop__isempty": "1"}).content.decode()
    assert "平台满减" in platform_only and "店铺限时" not in platform_only
    assert operator_client.get(reverse(ADD)).status_code == 200


def test_operator_adds_a_campaign_through_the_service(operator_client, home_operator):
    category = f.make_category("数码")
    response = operator_client.post(reverse(ADD), form_data(scope="categories", categories=[str(category.pk)]))
    assert response.status_code == 302, response.context["adminform"].form.errors
    promotion = Promotion.objects.get()
    assert (promotion.shop, promotion.kind, promotion.status, promotion.created_by) == (
        None, "cross_shop_tiers", "draft", home_operator)
    assert list(promotion.categories.all()) == [category]
    # the service recorded its creation
    assert PromotionStatusChange.objects.filter(promotion=promotion, action="create").count() == 1


@pytest.mark.parametrize(("extra", "field"), [
    ({"kind": "time_discount", "rules": '{"percent_off": "0"}'}, "rules"),
    ({"rules": '{"tiers": [{"threshold": "-1", "amount_off": "5"}]}'}, "rules"),
    ({"kind": "multi_buy", "rules": '{"nth": 2, "percent_off": "50"}'}, "kind"),
    ({"scope": "skus", "target_ids": "abc"}, "target_ids"),
    ({"ends_at_0": "2020-01-01"}, "ends_at"),
])
def test_bad_campaign_gets_field_messages_and_nothing_is_written(operator_client, extra, field):
    response = operator_client.post(reverse(ADD), form_data(**extra))
    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    assert not Promotion.objects.exists()


def test_started_campaign_keeps_its_rule_but_takes_a_new_name(operator_client, home_operator):
    promotion = f.make_promotion(None, Kind.TIME_DISCOUNT, {"percent_off": "10"}, actor=home_operator, name="限时")
    url = reverse("admin:promotions_promotion_change", args=[promotion.pk])
    start, end = timezone.localtime(promotion.starts_at), timezone.localtime(promotion.ends_at)
    data = form_data(kind="time_discount", name="限时", name_en="", rules='{"percent_off": "30"}',
                     starts_at_0=start.strftime("%Y-%m-%d"), starts_at_1=start.strftime("%H:%M:%S"),
                     ends_at_0=end.strftime("%Y-%m-%d"), ends_at_1=end.strftime("%H:%M:%S"))
    response = operator_client.post(url, data)
    assert response.status_code == 200
    assert ("This promotion has started: only its names and its end can change, so buyers keep the prices they "
            "were given.") in response.context["adminform"].form.non_field_errors()
    promotion.refresh_from_db()
    assert promotion.rules == {"percent_off": "10"}
    data.update(rules='{"percent_off": "10"}', name="限时特惠")
    assert operator_client.post(url, data).status_code == 302
    promotion.refresh_from_db()
    assert promotion.name == "限时特惠"


def test_publish_and_stop_actions(operator_client, home_operator):
    draft = f.make_promotion(None, Kind.TIME_DISCOUNT, {"percent_off": "5"}, actor=home_operator, publish=False)
    operator_client.post(reverse(LIST), {"action": "publish_campaigns", "_selected_action": [draft.pk]})
    draft.refresh_from_db()
    assert draft.status == "published"
    operator_client.post(reverse(LIST), {"action": "stop_campaigns", "_selected_action": [draft.pk]})
    draft.refresh_from_db()
    assert draft.status == "stopped"
    # a stopped campaign cannot be published again: an error message, no change
    response = operator_client.post(reverse(LIST), {"action": "publish_campaigns", "_selected_action": [draft.pk]},
                                    follow=True)
    assert any(m.level_tag == "error" for m in response.context["messages"])
    draft.refresh_from_db()
    assert draft.status == "stopped"


def test_shop_promotion_opens_read_only_and_nothing_changes_or_is_deleted(operator_client, shop):
    theirs = f.make_promotion(shop, Kind.TIME_DISCOUNT, {"percent_off": "10"}, name="店铺限时")
    url = reverse("admin:promotions_promotion_change", args=[theirs.pk])
    page = operator_client.get(url)
    assert page.status_code == 200 and 'name="rules"' not in page.content.decode()
    assert operator_client.post(url, form_data(kind="time_discount", rules='{"percent_off": "90"}')).status_code == 403
    response = operator_client.post(reverse(LIST), {"action": "stop_campaigns", "_selected_action": [theirs.pk]},
                                    follow=True)
    assert any(m.level_tag == "error" for m in response.context["messages"])
    operator_client.post(reverse(LIST), {"action": "delete_selected", "_selected_action": [theirs.pk]})
    theirs.refresh_from_db()
    assert (theirs.status, theirs.rules) == ("published", {"percent_off": "10"})


def test_non_staff_cannot_open_the_page(client, seller):
    client.force_login(seller)
    assert client.get(reverse(LIST)).status_code == 302
