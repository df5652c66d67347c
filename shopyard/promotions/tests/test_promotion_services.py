"""Writing promotions: what sellers and operators may create, the bad input each
gets a field message for (nothing written), and what may change once a
promotion has started."""

from datetime import timedelta

import pytest
from django.utils import timezone

from shopyard.core.errors import (
    Conflict,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from shopyard.promotions.kinds import Kind
from shopyard.promotions.models import Promotion
from shopyard.promotions.services import (
    create_promotion,
    publish_promotion,
    stop_promotion,
    update_promotion,
)
from tests import factories as f

pytestmark = pytest.mark.django_db


def window(start_minutes=-1, hours=24):
    now = timezone.now()
    return {"starts_at": now + timedelta(minutes=start_minutes), "ends_at": now + timedelta(hours=hours)}


def create(shop, seller, **overrides):
    data = {"kind": Kind.TIME_DISCOUNT, "name": "限时", "rules": {"percent_off": "10"}, **window(), **overrides}
    return create_promotion(actor=seller, shop=shop, **data)


@pytest.mark.parametrize(("overrides", "field"), [
    ({"rules": {"percent_off": "0"}}, "rules.percent_off"),
    ({"rules": {"percent_off": "100.01"}}, "rules.percent_off"),
    ({"rules": {"percent_off": "-5"}}, "rules.percent_off"),
    ({"rules": {"percent_off": "abc"}}, "rules.percent_off"),
    ({"rules": {"percent_off": 12.5}}, "rules.percent_off"),  # a float is refused, never rounded
    ({"rules": {"percent_off": "10", "price": "5"}}, "rules"),
    ({"rules": {"price": "0"}}, "rules.price"),
    ({"rules": {"price": "1.001"}}, "rules.price"),
    ({"rules": "20%"}, "rules"),
    ({"kind": "free_money"}, "kind"),
    ({"kind": Kind.CROSS_SHOP_TIERS}, "kind"),  # the platform's kind, not a shop's
    ({"name": ""}, "name"),
    ({"name": "x" * 101}, "name"),
    ({"starts_at": "tomorrow"}, "starts_at"),
    ({**window(start_minutes=60, hours=0)}, "ends_at"),  # end before start
    ({"ends_at": timezone.now() - timedelta(minutes=1), "starts_at": timezone.now() - timedelta(hours=1)}, "ends_at"),
    ({"scope": "everything"}, "scope"),
    ({"scope": "products", "target_ids": []}, "target_ids"),
    ({"scope": "products", "target_ids": ["x"]}, "target_ids[0]"),
    ({"stacks_with": ["cash_back"]}, "stacks_with"),
])
def test_bad_promotions_are_refused_with_a_field_message_and_nothing_written(shop, seller, overrides, field):
    with pytest.raises((ValidationFailed,)) as refused:
        create(shop, seller, **overrides)
    assert field in refused.value.fields
    assert Promotion.objects.count() == 0


@pytest.mark.parametrize(("rules", "field"), [
    ({"tiers": []}, "rules.tiers"),
    ({"tiers": [{"threshold": "-1", "amount_off": "5"}]}, "rules.tiers[0].threshold"),
    ({"tiers": [{"threshold": "100", "amount_off": "100"}]}, "rules.tiers[0].amount_off"),
    ({"tiers": [{"threshold": "100", "amount_off": "-5"}]}, "rules.tiers[0].amount_off"),
    ({"tiers": [{"threshold": "100", "percent_off": "120"}]}, "rules.tiers[0].percent_off"),
    ({"tiers": [{"threshold": "200", "amount_off": "20"}, {"threshold": "100", "amount_off": "5"}]}, "rules.tiers"),
    ({"tiers": [{"threshold": "200", "amount_off": "20"}, {"threshold": "400", "amount_off": "30"}], "repeat": True},
     "rules.repeat"),
    ({"tiers": [{"threshold": "200", "amount_off": "20"}], "repeat": "yes"}, "rules.repeat"),
    ({"tiers": [{"threshold": "200", "amount_off": "20"}], "repeat": True, "cap": "-1"}, "rules.cap"),
    ({"tiers": [{"threshold": "100", "amount_off": "5"}] * 11}, "rules.tiers"),
])
def test_bad_spend_tiers_are_refused(shop, seller, rules, field):
    with pytest.raises(ValidationFailed) as refused:
        create(shop, seller, kind=Kind.SPEND_TIERS, rules=rules)
    assert field in refused.value.fields
    assert Promotion.objects.count() == 0


def test_another_shops_products_cannot_be_in_my_promotion(shop, seller, other_shop):
    theirs = f.make_product(other_shop)
    mine = f.make_product(shop)
    with pytest.raises(ValidationFailed) as refused:
        create(shop, seller, scope="products", target_ids=[mine.pk, theirs.pk])
    assert refused.value.fields == {"target_ids[1]": ["Not found in your shop."]}
    with pytest.raises(ValidationFailed):
        create(shop, seller, scope="skus", target_ids=[theirs.skus.get().pk])
    assert Promotion.objects.count() == 0


def test_only_operators_run_platform_campaigns(shopper):
    with pytest.raises(PermissionDenied):
        create_promotion(actor=shopper, shop=None, kind=Kind.CROSS_SHOP_TIERS, name="跨店",
                         rules={"tiers": [{"threshold": "300", "amount_off": "30"}]}, **window())
    operator = f.make_user(is_staff=True)
    created = create_promotion(actor=operator, shop=None, kind=Kind.CROSS_SHOP_TIERS, name="跨店",
                               rules={"tiers": [{"threshold": "300", "amount_off": "30"}]}, **window())
    assert created.shop is None and created.status == Promotion.Status.DRAFT


def test_a_started_promotion_keeps_what_buyers_got(shop, seller):
    promotion = create(shop, seller)
    publish_promotion(actor=seller, shop=shop, promotion_id=promotion.pk)
    for change in ({"rules": {"percent_off": "50"}}, {"starts_at": timezone.now()}, {"scope": "products"},
                   {"stacks_with": []}):
        with pytest.raises(Conflict) as refused:
            update_promotion(actor=seller, shop=shop, promotion_id=promotion.pk, **change)
        assert refused.value.code == "promotion_started"
    promotion.refresh_from_db()
    assert promotion.rules == {"percent_off": "10"} and promotion.scope == "all"
    # names and the end may change; the end never to the past
    later = timezone.now() + timedelta(days=3)
    update_promotion(actor=seller, shop=shop, promotion_id=promotion.pk, name="延长", ends_at=later)
    promotion.refresh_from_db()
    assert promotion.name == "延长" and promotion.ends_at == later
    with pytest.raises(ValidationFailed) as refused:
        update_promotion(actor=seller, shop=shop, promotion_id=promotion.pk,
                         ends_at=timezone.now() - timedelta(minutes=1))
    assert "ends_at" in refused.value.fields


def test_a_published_promotion_that_has_not_started_can_still_change(shop, seller):
    promotion = create(shop, seller, **window(start_minutes=60))
    publish_promotion(actor=seller, shop=shop, promotion_id=promotion.pk)
    update_promotion(actor=seller, shop=shop, promotion_id=promotion.pk, rules={"percent_off": "15"})
    promotion.refresh_from_db()
    assert promotion.rules == {"percent_off": "15"}


def test_stopped_promotions_cannot_change_or_restart(shop, seller):
    promotion = create(shop, seller)
    stop_promotion(actor=seller, shop=shop, promotion_id=promotion.pk)
    with pytest.raises(Conflict):
        update_promotion(actor=seller, shop=shop, promotion_id=promotion.pk, name="again")
    with pytest.raises(InvalidTransition):
        publish_promotion(actor=seller, shop=shop, promotion_id=promotion.pk)
    assert [h.to_status for h in promotion.history.all()] == ["draft", "stopped"]


def test_a_foreign_promotion_id_is_not_found(shop, seller, other_shop):
    theirs = create(other_shop, other_shop.members.first().user)
    for act in (publish_promotion, stop_promotion):
        with pytest.raises(NotFound):
            act(actor=seller, shop=shop, promotion_id=theirs.pk)
    with pytest.raises(NotFound):
        update_promotion(actor=seller, shop=shop, promotion_id=theirs.pk, name="mine now")
    theirs.refresh_from_db()
    assert theirs.status == "draft" and theirs.name == "限时"
