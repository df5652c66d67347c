"""Shop staff: the owner adds people by username or e-mail, changes roles and
removes them; roles limit what members may do (pages and API); the shop always
keeps an owner. The full endpoint-by-role matrix is tests/test_tenant_matrix.py."""

import pytest
from django.urls import reverse

from shopyard.core.errors import NotFound, PermissionDenied, ValidationFailed
from shopyard.core.events import OutboxEvent
from shopyard.shops import staff
from shopyard.shops.models import ShopMember
from tests import factories as f

pytestmark = pytest.mark.django_db


def _staff(shop):
    return sorted(ShopMember.objects.filter(shop=shop).values_list("user__username", "role"))


def test_owner_invites_by_username_and_email_changes_role_and_removes(shop, seller):
    f.make_user("xiaoli")
    f.make_user("kefu", email="KeFu@Example.com")
    staff.invite_member(actor=seller, shop=shop, login="xiaoli", role="product_editor")
    agent = staff.invite_member(actor=seller, shop=shop, login="kefu@example.com", role="cs_agent")
    assert _staff(shop) == [("kefu", "cs_agent"), ("seller", "owner"), ("xiaoli", "product_editor")]

    staff.change_role(actor=seller, shop=shop, member_id=agent.pk, role="order_clerk")
    staff.remove_member(actor=seller, shop=shop, member_id=ShopMember.objects.get(user__username="xiaoli").pk)
    assert _staff(shop) == [("kefu", "order_clerk"), ("seller", "owner")]
    assert [e.name for e in OutboxEvent.objects.filter(name__startswith="shop_member.").order_by("pk")] == [
        "shop_member.added", "shop_member.added", "shop_member.updated", "shop_member.removed"]


@pytest.mark.parametrize("login, message", [
    ("nobody", "No account has this username or e-mail address."),
    ("nobody@example.com", "No account has this username or e-mail address."),
    ("", "Enter a username or an e-mail address."),
    ("seller", "This account is already on the shop's staff."),
])
def test_invite_errors_are_field_errors_and_add_nobody(shop, seller, login, message):
    before = _staff(shop)
    with pytest.raises(ValidationFailed) as exc:
        staff.invite_member(actor=seller, shop=shop, login=login, role="manager")
    assert exc.value.fields == {"login": [message]}
    assert _staff(shop) == before


def test_unknown_role_is_refused(shop, seller):
    f.make_user("xiaoli")
    with pytest.raises(ValidationFailed) as exc:
        staff.invite_member(actor=seller, shop=shop, login="xiaoli", role="staff")
    assert exc.value.fields == {"role": ["Choose one of the roles."]}
    assert _staff(shop) == [("seller", "owner")]


def test_the_shop_keeps_an_owner(shop, seller):
    me = ShopMember.objects.get(user=seller)
    with pytest.raises(ValidationFailed) as exc:
        staff.remove_member(actor=seller, shop=shop, member_id=me.pk)
    assert exc.value.fields == {"member_id": ["You cannot remove yourself from the shop."]}
    with pytest.raises(ValidationFailed) as exc:
        staff.change_role(actor=seller, shop=shop, member_id=me.pk, role="manager")
    assert exc.value.fields == {"role": ["The shop needs an owner: make someone else owner first."]}
    # with a second owner, the first may step down
    f.make_user("partner")
    staff.invite_member(actor=seller, shop=shop, login="partner", role="owner")
    staff.change_role(actor=seller, shop=shop, member_id=me.pk, role="manager")
    assert _staff(shop) == [("partner", "owner"), ("seller", "manager")]


def test_only_owners_manage_staff_and_foreign_members_are_404(shop, seller, other_shop):
    manager = f.make_user("manager")
    ShopMember.objects.create(shop=shop, user=manager, role="manager")
    f.make_user("xiaoli")
    with pytest.raises(PermissionDenied):
        staff.invite_member(actor=manager, shop=shop, login="xiaoli", role="cs_agent")
    foreign = other_shop.members.get()
    with pytest.raises(NotFound):
        staff.remove_member(actor=seller, shop=shop, member_id=foreign.pk)
    with pytest.raises(NotFound):
        staff.change_role(actor=seller, shop=shop, member_id=foreign.pk, role="cs_agent")
    assert other_shop.members.get().role == "owner"
    assert _staff(shop) == [("manager", "manager"), ("seller", "owner")]


def test_staff_pages(client, shop, seller):
    f.make_user("kefu", email="kefu@example.com")
    client.force_login(seller)
    assert client.post(reverse("console:staff"), {"login": "kefu@example.com", "role": "cs_agent"}).status_code == 302
    page = client.get(reverse("console:staff")).content.decode()
    assert "kefu" in page and "Customer-service agent" in page
    bad = client.post(reverse("console:staff"), {"login": "ghost", "role": "cs_agent"})
    assert bad.status_code == 422 and "No account has this username or e-mail address." in bad.content.decode()
    member = ShopMember.objects.get(user__username="kefu")
    client.post(reverse("console:staff_role", args=[member.pk]), {"role": "order_clerk"})
    assert ShopMember.objects.get(pk=member.pk).role == "order_clerk"
    client.post(reverse("console:staff_remove", args=[member.pk]))
    assert _staff(shop) == [("seller", "owner")]


def test_a_role_sees_only_its_console_areas(client, shop, seller):
    clerk = f.make_user("clerk")
    ShopMember.objects.create(shop=shop, user=clerk, role="order_clerk")
    client.force_login(clerk)
    page = client.get(reverse("console:dashboard")).content.decode()
    assert f'href="{reverse("console:orders")}"' in page and f'href="{reverse("console:products")}"' not in page
    assert reverse("console:staff") not in page
    refused = client.get(reverse("console:products"))
    assert refused.status_code == 403 and 'id="role-forbidden"' in refused.content.decode()


def test_staff_api(client, shop, seller):
    f.make_user("kefu", email="kefu@example.com")
    owner = f.auth(f.token_for(seller))
    created = client.post("/api/v1/seller/staff", {"login": "kefu", "role": "cs_agent"},
                          content_type="application/json", **owner)
    assert created.status_code == 201 and created.json()["role"] == "cs_agent"
    member_id = created.json()["id"]
    duplicate = client.post("/api/v1/seller/staff", {"login": "kefu@example.com", "role": "manager"},
                            content_type="application/json", **owner)
    assert duplicate.status_code == 422
    assert duplicate.json()["fields"] == {"login": ["This account is already on the shop's staff."]}
    agent = f.auth(f.token_for(ShopMember.objects.get(pk=member_id).user))
    assert client.get("/api/v1/seller/staff", **agent).status_code == 403
    assert client.get("/api/v1/seller/products", **agent).status_code == 403
    assert client.get("/api/v1/seller/conversations", **agent).status_code == 200
    changed = client.put(f"/api/v1/seller/staff/{member_id}", {"role": "manager"}, content_type="application/json",
                         **owner)
    assert changed.json()["role"] == "manager"
    assert [m["username"] for m in client.get("/api/v1/seller/staff", **owner).json()] == ["seller", "kefu"]
    assert client.delete(f"/api/v1/seller/staff/{member_id}", **owner).status_code == 204
    assert _staff(shop) == [("seller", "owner")]


def test_demo_marketplace_data_has_staff_of_every_role_and_applications_for_review(media):
    from shopyard.demo.marketplace_data import load_marketplace
    from shopyard.shops.models import ShopApplication

    operator = f.make_user("demo-operator", is_staff=True)
    galaxy = f.make_shop("星河数码")
    galaxy.slug = "galaxy-digital"
    galaxy.save(update_fields=["slug"])
    assert load_marketplace(operator=operator) == 6
    assert sorted(ShopMember.objects.filter(shop=galaxy).values_list("role", flat=True)) == [
        "cs_agent", "manager", "order_clerk", "product_editor"]
    assert sorted(ShopApplication.objects.values_list("shop_name", "status")) == [
        ("Brightway Outdoor", "needs_more_info"), ("山间茶舍", "submitted")]
    assert load_marketplace(operator=operator) == 0  # loads once
