"""A read compiled once (core.prepared) gives, for every id, what the ORM itself reads."""

import pytest
from django.db import connection
from django.http import Http404

from shopyard.catalog.models import Sku
from shopyard.catalog.queries import product_rows
from tests import factories as f
from tests.settings_probe import settings_value


def test_each_product_gets_its_own_rows_from_the_kept_sql(shop):
    one = f.make_product(shop, skus=[("10.00", 1)], title="一号")
    two = f.make_product(shop, skus=[("20.00", 0), ("21.00", 5), ("22.00", 2)], title="二号")

    for product in (one, two, one):  # the second read of `one` reuses what `two` compiled
        rows = product_rows(product.pk, with_category=True)
        assert rows.title == product.title and rows.category.slug == product.category.slug
        expected = list(Sku.objects.filter(product=product, is_active=True).order_by("id"))
        assert [(s.pk, s.code, s.price, s.stock.quantity) for s in rows.sku_list] == [
            (s.pk, s.code, s.price, s.stock.quantity) for s in expected]
        assert [[o.value for o in s.option_list] for s in rows.sku_list] == [
            [o.value for o in s.options.all()] for s in expected]
        assert [[o.value for o in a.option_list] for a in rows.attribute_list] == [
            [o.value for o in a.options.all()] for a in product.attributes.all()]
        assert all(s.product is rows for s in rows.sku_list)


def test_pictures_and_attributes_read_in_the_products_row_are_the_orms_in_its_order(shop):
    from shopyard.catalog.models import IMAGE_ORDER, AttributeOption, ProductAttribute, ProductImage

    product, other = f.make_product(shop), f.make_product(shop)
    for position, name in ((2, "c.jpg"), (0, "a.jpg"), (2, "b.jpg"), (1, '引号"\\ é.jpg')):
        ProductImage.objects.create(product=product, image=f"products/{name}", position=position,
                                    thumbnail=f"products/thumbs/{name}" if position == 1 else "")
    ProductImage.objects.create(product=other, image="products/other.jpg", position=0)
    colour = ProductAttribute.objects.create(product=product, name='颜色 "色"', name_en="Colour", position=1)
    bare = ProductAttribute.objects.create(product=product, name="材质", name_en="", position=0)
    for position, value in ((1, "红"), (0, "绿 \\ \u00e9"), (1, "蓝")):
        AttributeOption.objects.create(attribute=colour, value=value, value_en=value.upper(), position=position)

    rows = product_rows(product.pk)
    expected = list(ProductImage.objects.filter(product=product).order_by(*IMAGE_ORDER))
    assert [(i.pk, i.product_id, i.image.name, i.thumbnail.name, i.position) for i in rows.image_list] == [
        (i.pk, i.product_id, i.image.name, i.thumbnail.name, i.position) for i in expected]
    assert [(a.pk, a.name, a.name_en, a.position, [(o.pk, o.value, o.value_en, o.attribute_id) for o in a.option_list])
            for a in rows.attribute_list] == [
        (a.pk, a.name, a.name_en, a.position, [(o.pk, o.value, o.value_en, o.attribute_id) for o in a.options.all()])
        for a in (bare, colour)]
    assert [i.image.name for i in product_rows(other.pk).image_list] == ["products/other.jpg"]
    assert product_rows(f.make_product(shop).pk).image_list == []


def test_a_product_shoppers_may_not_see_is_not_found(shop):
    draft = f.make_product(shop, publish=False)
    with pytest.raises(Http404):
        product_rows(draft.pk)


def test_each_token_finds_its_own_user_and_nothing_else_finds_one(db):
    from shopyard.accounts.services import issue_token, token_for_key

    alice, bob = f.make_user("alice"), f.make_user("bob")
    keys = {alice.pk: issue_token(user=alice), bob.pk: issue_token(user=bob)}
    for user_id in (alice.pk, bob.pk, alice.pk):  # the kept SQL, with each key in its place
        assert token_for_key(keys[user_id]).user.pk == user_id
    raw = keys[alice.pk]
    for wrong in (raw[:-1] + ("a" if raw[-1] != "a" else "b"), "", "x" * 201, raw.upper()):
        assert token_for_key(wrong) is None


def test_an_address_belongs_to_its_owner_only(db):
    from shopyard.accounts.queries import has_address

    alice, bob = f.make_user("alice"), f.make_user("bob")
    hers, his = f.make_address(alice), f.make_address(bob)
    assert has_address(alice, hers.pk) and has_address(bob, his.pk)
    # both variables are ids: swapped or crossed, nothing matches
    assert not has_address(alice, his.pk) and not has_address(bob, hers.pk)
    for bad in (0, -1, 2**63, 2**70, "x", None, his.pk + 1000):
        assert not has_address(alice, bad)


def test_own_address_reads_the_owners_row_only(db):
    from shopyard.accounts.queries import own_address

    alice, bob = f.make_user("alice"), f.make_user("bob")
    hers, his = f.make_address(alice), f.make_address(bob, detail="人民路 1 号")
    for user, address in ((alice, hers), (bob, his), (alice, hers)):
        row = own_address(user, address.pk)
        assert (row.pk, row.user_id, row.detail) == (address.pk, user.pk, address.detail)
    assert own_address(alice, his.pk) is None and own_address(bob, hers.pk) is None
    for bad in (0, -1, 2**63, 2**70, "x", None, str(hers.pk) + "0"):
        assert own_address(alice, bad) is None


def test_a_buyable_sku_comes_with_its_product_shop_and_stock_and_a_hidden_one_is_none(shop, other_shop):
    from shopyard.catalog.queries import buyable_sku_row
    from shopyard.shops.models import Shop

    one = f.make_product(shop, stock=3, title="一号").skus.get()
    two = f.make_product(other_shop, stock=7, title="二号").skus.get()
    for sku in (one, two, one):  # the kept SQL, each id in its place
        row = buyable_sku_row(sku.pk)
        assert (row.pk, row.product.title, row.product.shop.pk, row.stock.quantity) == (
            sku.pk, sku.product.title, sku.product.shop_id, sku.stock.quantity)
    draft = f.make_product(shop, publish=False).skus.get()
    assert buyable_sku_row(draft.pk) is None
    Sku.objects.filter(pk=one.pk).update(is_active=False)
    assert buyable_sku_row(one.pk) is None
    Shop.objects.filter(pk=other_shop.pk).update(status=Shop.Status.SUSPENDED)
    assert buyable_sku_row(two.pk) is None
    assert buyable_sku_row(two.pk + 10_000) is None


def test_each_recipient_gets_their_own_channels_and_language_alone_or_together(db):
    from shopyard.notifications.kinds import Channel, Kind
    from shopyard.notifications.models import Preference, Profile
    from shopyard.notifications.queries import recipients

    alice, bob, gone = f.make_user("alice"), f.make_user("bob"), f.make_user("gone", is_active=False)
    Preference.objects.create(user=alice, kind=Kind.ORDER_PLACED, channel=Channel.EMAIL, enabled=False)
    Preference.objects.create(user=alice, kind=Kind.ORDER_PLACED, channel=Channel.SMS, enabled=True)
    Preference.objects.create(user=bob, kind=Kind.ORDER_PAID, channel=Channel.INBOX, enabled=False)
    Profile.objects.update_or_create(user=bob, defaults={"language": "en"})

    def read(ids, kind):
        return [(user.pk, channels, language) for user, channels, language in recipients(ids, kind)]

    placed_alice = (alice.pk, {Channel.INBOX, Channel.SMS}, "zh-hans")
    placed_bob = (bob.pk, {Channel.INBOX, Channel.EMAIL}, "en")
    # one user at a time (the statement kept per kind), then together: the same answers
    assert read([alice.pk], Kind.ORDER_PLACED) == [placed_alice]
    assert read([bob.pk], Kind.ORDER_PLACED) == [placed_bob]
    assert read([bob.pk], Kind.ORDER_PAID) == [(bob.pk, {Channel.EMAIL}, "en")]
    assert read([alice.pk], Kind.ORDER_PLACED) == [placed_alice]
    assert read([bob.pk, alice.pk, None, alice.pk], Kind.ORDER_PLACED) == [placed_alice, placed_bob]
    assert read([gone.pk], Kind.ORDER_PLACED) == [] and read([None], Kind.ORDER_PLACED) == []


def test_a_moment_variable_reads_each_moment_as_the_queryset_does(shop, other_shop):
    from datetime import timedelta

    from django.utils import timezone

    from shopyard.promotions.queries import current_and_coming, current_and_coming_rows

    now = timezone.now()
    ends = now + timedelta(hours=1)
    mine = f.make_promotion(shop, "spend_tiers", {"tiers": [{"threshold": "100", "amount_off": "10"}]}, ends_at=ends)
    theirs = f.make_promotion(other_shop, "spend_tiers", {"tiers": [{"threshold": "50", "amount_off": "5"}]})
    platform = f.make_promotion(None, "cross_shop_tiers", {"tiers": [{"threshold": "300", "amount_off": "30"}]},
                                ends_at=ends + timedelta(hours=1))
    tick = timedelta(microseconds=1)
    # each moment and shop in its place, alternately: a promotion is current until its end, not at it
    for shop_id, moment, expected in ((shop.pk, ends - tick, {mine, platform}), (shop.pk, ends, {platform}),
                                      (other_shop.pk, now, {theirs, platform}), (shop.pk, now, {mine, platform}),
                                      (shop.pk, ends + timedelta(hours=1), set())):
        kept = current_and_coming_rows(shop_ids=[shop_id], now=moment)
        assert {p.pk for p in kept} == {p.pk for p in expected}
        assert {p.pk for p in kept} == set(current_and_coming(shop_ids=[shop_id], now=moment).values_list("pk", flat=True))


def test_the_last_touch_is_each_buyers_own_newest_inside_the_window_at_each_moment(db):
    from datetime import timedelta

    from django.utils import timezone

    from shopyard.channels.models import ChannelTouch
    from shopyard.channels.services import ATTRIBUTION_WINDOW, last_touch

    alice, bob = f.make_user("alice"), f.make_user("bob")
    now = timezone.now()

    def touch(user, source, ago):
        return ChannelTouch.objects.create(visitor="v" * 32, user=user, source=source, landing_path="/",
                                           created_at=now - ago)

    old = touch(alice, "wechat", timedelta(days=3))
    new = touch(alice, "weibo", timedelta(hours=1))
    his = touch(bob, "douyin", timedelta(minutes=5))
    touch(None, "anonymous", timedelta(minutes=1))
    hour, second = timedelta(hours=1), timedelta(seconds=1)
    for user_id, at, expected in ((alice.pk, now, new), (bob.pk, now, his), (alice.pk, now - hour - second, old),
                                  (alice.pk, now - timedelta(days=3) + ATTRIBUTION_WINDOW, new),
                                  (alice.pk, now - timedelta(days=3) + ATTRIBUTION_WINDOW + hour, new),
                                  (bob.pk, now - hour, None), (alice.pk, now + ATTRIBUTION_WINDOW, None)):
        found = last_touch(user_id=user_id, at=at)
        assert (found.pk if found else None) == (expected.pk if expected else None), (user_id, at - now)
    # an order without a buyer is nobody's: the newest anonymous touch is not it
    assert last_touch(user_id=None, at=now) is None


def test_a_read_that_does_not_hold_its_variable_is_refused(db):
    from shopyard.accounts.models import Address
    from shopyard.core.prepared import PreparedRead

    read = PreparedRead(Address, lambda pk, user_id: Address.objects.filter(pk=pk), kinds=("id", "id"))
    with pytest.raises(ValueError, match="every variable"):
        read.rows(1, 2)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's")
def test_postgresql_keeps_a_read_prepared_once_it_repeats(shop):
    products = [f.make_product(shop, skus=[("10.00", 1)]) for _ in range(6)]
    for product in products:  # the same SELECTs with six ids, on this connection
        assert product_rows(product.pk).pk == product.pk
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [row[0] for row in cursor.fetchall()]
    assert any('FROM "catalog_sku"' in sql for sql in prepared), prepared


@pytest.mark.parametrize(("value", "expected"), [(None, True), ("1", True), ("0", False)])
def test_server_side_binding_is_on_unless_turned_off(value, expected):
    options = settings_value("s.DATABASES['default']['OPTIONS']", unset=("DB_SERVER_SIDE_BINDING",), set_env={
        "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none", **({"DB_SERVER_SIDE_BINDING": value} if value else {})})
    assert options.get("server_side_binding", False) is expected
    assert (options.get("prepare_threshold") == 5) is expected


def test_a_read_by_a_list_of_ids_gives_each_list_what_the_queryset_gives(db):
    """core.prepared.PreparedReads: one compiled read per count of ids, with a moment beside
    them; lists of every length, in any order, and longer than the kept reads go."""
    from datetime import timedelta

    from django.utils import timezone

    from shopyard.accounts.models import User
    from shopyard.core.prepared import PreparedReads

    now = timezone.now()
    users = [f.make_user(f"u{i}") for i in range(7)]
    for i, user in enumerate(users):  # joined an hour apart, the newest first
        User.objects.filter(pk=user.pk).update(date_joined=now - timedelta(hours=i))

    def build(ids, since):
        return User.objects.filter(pk__in=ids, date_joined__gte=since).order_by("pk")

    reads = PreparedReads(User, build, kinds=("moment",), most=4)
    names = PreparedReads(User, lambda ids, since: build(ids, since).values_list("username", "pk"),
                          kinds=("moment",), most=4)
    ids = [u.pk for u in users]
    for chosen, since in ((ids[:1], now - timedelta(days=1)), (ids[3:1:-1], now - timedelta(days=1)),
                          (ids[:4], now - timedelta(hours=2, minutes=30)), (ids[::-1], now - timedelta(hours=4)),
                          (ids[1:4], now - timedelta(minutes=1)), ([ids[5], 10**9], now - timedelta(days=1)),
                          (ids[:4], now + timedelta(seconds=1)), (ids, now - timedelta(days=1))):
        expected = list(build(chosen, since))
        assert [u.pk for u in reads.objects(chosen, since)] == [u.pk for u in expected], (chosen, since)
        assert [u.username for u in reads.objects(chosen, since)] == [u.username for u in expected]
        assert names.rows(chosen, since) == [(u.username, u.pk) for u in expected]
    assert reads.objects([], now) == [] and names.rows([], now) == []
