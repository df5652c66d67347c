"""Shop staff: the owner adds people by username or e-mail, changes their role and
removes them. Only a role with the "staff" area (the owner) may do this, and a
shop always keeps at least one owner: nobody removes themself, and the last
owner can be neither removed nor given another role.

Callers resolve `shop` with the caller's own membership (console.access or
shops.queries.shop_for_seller(perm="staff")); the services check the actor's
role again, so no other path can skip it.
"""

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from shopyard.core.errors import NotFound, PermissionDenied, ValidationFailed
from shopyard.core.events import emit
from shopyard.core.validation import check_id

from .models import ShopMember
from .queries import role_forbidden_message
from .roles import Area, Role, allows

MAX_LOGIN_LENGTH = 254


def _require_staff_manager(actor, shop) -> ShopMember:
    membership = ShopMember.objects.filter(shop=shop, user_id=getattr(actor, "pk", None) or 0).first()
    if membership is None or not allows(membership.role, Area.STAFF):
        raise PermissionDenied(role_forbidden_message(), code="role_forbidden")
    return membership


def _check_role(role) -> str:
    if role not in Role.values:
        raise ValidationFailed(fields={"role": [_("Choose one of the roles.")]})
    return role


def _find_user(login):
    login = login.strip() if isinstance(login, str) else ""
    if not login:
        raise ValidationFailed(fields={"login": [_("Enter a username or an e-mail address.")]})
    if len(login) > MAX_LOGIN_LENGTH or "\x00" in login:
        raise ValidationFailed(fields={"login": [_("No account has this username or e-mail address.")]})
    users = get_user_model().objects.filter(is_active=True)
    user = users.filter(username=login).first()
    if user is None and "@" in login:
        matches = list(users.filter(email__iexact=login)[:2])
        user = matches[0] if len(matches) == 1 else None
    if user is None:
        raise ValidationFailed(fields={"login": [_("No account has this username or e-mail address.")]})
    return user


def _member(shop, member_id, *, lock=True) -> ShopMember:
    member_id = check_id(getattr(member_id, "pk", member_id), "member_id")
    qs = ShopMember.objects.select_for_update() if lock else ShopMember.objects
    member = qs.select_related("user").filter(shop=shop, pk=member_id).first()
    if member is None:
        raise NotFound(_("Staff member not found."))
    return member


def _owners(shop) -> int:
    # lock every owner row: two owners removing each other at once cannot leave none
    return len(list(ShopMember.objects.select_for_update().filter(shop=shop, role=Role.OWNER).values_list("pk", flat=True)))


def invite_member(*, actor, shop, login, role) -> ShopMember:
    """Add the account named `login` (username, or an e-mail address only one account has) with `role`."""
    _require_staff_manager(actor, shop)
    role = _check_role(role)
    user = _find_user(login)
    with transaction.atomic():
        if ShopMember.objects.filter(shop=shop, user=user).exists():
            raise ValidationFailed(fields={"login": [_("This account is already on the shop's staff.")]})
        try:
            with transaction.atomic():
                member = ShopMember.objects.create(shop=shop, user=user, role=role)
        except IntegrityError:  # added by a concurrent request
            raise ValidationFailed(fields={"login": [_("This account is already on the shop's staff.")]}) from None
        emit("shop_member.added", shop_id=shop.pk, user_id=user.pk, role=role, actor_id=actor.pk)
    return member


def change_role(*, actor, shop, member_id, role) -> ShopMember:
    """Give a member another role; the last owner keeps theirs."""
    _require_staff_manager(actor, shop)
    with transaction.atomic():
        member = _member(shop, member_id)  # a foreign member is a 404 before the role is read
        role = _check_role(role)
        if member.role == role:
            return member
        if member.role == Role.OWNER and _owners(shop) <= 1:
            raise ValidationFailed(fields={"role": [_("The shop needs an owner: make someone else owner first.")]})
        previous, member.role = member.role, role
        member.save(update_fields=["role"])
        emit("shop_member.updated", shop_id=shop.pk, user_id=member.user_id, role=role, previous=previous,
             actor_id=actor.pk)
    return member


def remove_member(*, actor, shop, member_id) -> None:
    """Take a member off the staff (not yourself, not the last owner)."""
    _require_staff_manager(actor, shop)
    with transaction.atomic():
        member = _member(shop, member_id)
        if member.user_id == actor.pk:
            raise ValidationFailed(fields={"member_id": [_("You cannot remove yourself from the shop.")]})
        if member.role == Role.OWNER and _owners(shop) <= 1:
            raise ValidationFailed(fields={"member_id": [_("The shop needs an owner: it cannot lose its last one.")]})
        user_id = member.user_id
        member.delete()
        emit("shop_member.removed", shop_id=shop.pk, user_id=user_id, actor_id=actor.pk)
