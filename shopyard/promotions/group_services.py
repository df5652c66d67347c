"""Group buying (拼团) writes: sellers run campaigns; shoppers' groups open,
fill and fail here. Buying itself (placing the order at the group price) is
checkout's (checkout/group_buy.py), which calls `open_group_row` and, through
the offer's claim, `record_member`.

Rules, each with one home in this module:
- who may join (`check_joinable`): the group is open, not expired, its leader
  has paid, fewer than N members have paid, and the shopper is not in it yet
  with a live order;
- a member counts when their order is paid (`on_order_paid`, subscribed to
  `order.paid`): under the group's row lock, so a group never has more than N
  paid members; a payment that comes too late (group full, failed or expired)
  closes that order, which payments refunds in full;
- the N-th paid member makes the group succeed: the orders' holds are released
  (the seller may ship) and members still unpaid are cancelled;
- a group past its expiry that is not full fails (`fail_expired_groups`, a
  periodic job), as do a campaign's open groups when it is stopped: paid orders
  are closed (payments refunds each once, one refund per payment and order),
  unpaid ones cancelled.

Lock order: a group row before its members' orders (and so before their
stock); checkout locks the group before it takes stock (checkout/group_buy.py).
"""

import logging
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from shopyard.catalog.models import Sku
from shopyard.catalog.services import parse_price
from shopyard.core.errors import Conflict, NotFound, ValidationFailed
from shopyard.core.events import emit
from shopyard.core.money import format_price
from shopyard.core.statemachine import actor_label, apply_transition
from shopyard.core.validation import check_id, check_quantity
from shopyard.orders import services as orders
from shopyard.orders.models import Order
from shopyard.orders.state import Action as OrderAction
from shopyard.orders.state import Hold
from shopyard.orders.state import allowed_actions as order_actions

from .group_state import GROUP_TRANSITIONS, GroupAction, GroupStatus, is_joinable_status
from .models import (
    Group,
    GroupBuy,
    GroupBuyItem,
    GroupBuyStatusChange,
    GroupMember,
    GroupStatusChange,
)
from .rules import parse_count
from .services import clean_name, parse_moment
from .state import TRANSITIONS, Action, Status

log = logging.getLogger("shopyard.promotions")

MAX_ITEMS = 100
MAX_GROUP_SIZE = 100
MAX_TIME_LIMIT_HOURS = 72
MAX_DURATION_DAYS = 366
SHARE_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"  # no 0/o, 1/l: codes are read aloud and retyped
SHARE_CODE_LENGTH = 10


# --- campaigns ---------------------------------------------------------------------------

def _record_campaign(campaign, from_status, to_status, action, actor, note):
    GroupBuyStatusChange.objects.create(
        campaign=campaign, from_status=from_status, to_status=to_status, action=action,
        actor=actor if getattr(actor, "pk", None) else None, actor_label=actor_label(actor), note=note[:200])


def _record_group(group, from_status, to_status, action, actor, note):
    GroupStatusChange.objects.create(
        group=group, from_status=from_status, to_status=to_status, action=action,
        actor=actor if getattr(actor, "pk", None) else None, actor_label=actor_label(actor), note=note[:200])


def _items(shop, raw, errors):
    """[(sku, group price)] from [{sku_id, group_price}]: each SKU the shop's own, once, and
    its group price a valid amount below the SKU's list price."""
    if not isinstance(raw, list) or not raw:
        errors["items"] = [_("Add at least one SKU with its group price.")]
        return None
    if len(raw) > MAX_ITEMS:
        errors["items"] = [_("Choose at most %(n)s.") % {"n": MAX_ITEMS}]
        return None
    wanted = []
    for i, item in enumerate(raw):
        field = f"items[{i}]"
        if not isinstance(item, dict):
            errors[field] = [_("Give a SKU id and a group price.")]
            continue
        try:
            sku_id = check_id(item.get("sku_id"), f"{field}.sku_id")
        except ValidationFailed as exc:
            errors.update(exc.fields)
            continue
        price = parse_price(item.get("group_price"), f"{field}.group_price", errors, currency=shop.currency)
        wanted.append((i, sku_id, price))
    found = {s.pk: s for s in Sku.objects.filter(pk__in=[w[1] for w in wanted], product__shop=shop)}
    seen, out = set(), []
    for i, sku_id, price in wanted:
        sku = found.get(sku_id)
        if sku is None:
            errors[f"items[{i}].sku_id"] = [_("Not found in your shop.")]
        elif sku_id in seen:
            errors[f"items[{i}].sku_id"] = [_("This SKU is listed twice.")]
        elif price is not None and price >= sku.price:
            errors[f"items[{i}].group_price"] = [
                _("The group price must be below the list price (%(price)s).")
                % {"price": format_price(sku.price, shop.currency)}]
        seen.add(sku_id)
        if sku is not None and price is not None:
            out.append((sku, price))
    return None if errors else out


def create_campaign(*, actor, shop, name, name_en="", group_size, time_limit_hours=24, max_quantity=1,
                    starts_at, ends_at, items) -> GroupBuy:
    """A draft campaign of `shop` (callers resolve it with shops.queries.shop_for_seller(write=True)).
    Nothing sells at the group price until it is published."""
    errors = {}
    name = clean_name(name, "name", errors, required=True)
    name_en = clean_name(name_en, "name_en", errors, required=False)
    size = parse_count(group_size, "group_size", errors, low=2, high=MAX_GROUP_SIZE)
    hours = parse_count(time_limit_hours, "time_limit_hours", errors, low=1, high=MAX_TIME_LIMIT_HOURS)
    most = parse_count(max_quantity, "max_quantity", errors, low=1, high=settings.MAX_UNITS_PER_SKU)
    starts = parse_moment(starts_at, "starts_at", errors)
    ends = parse_moment(ends_at, "ends_at", errors)
    if starts and ends:
        if ends <= starts:
            errors["ends_at"] = [_("The end must be after the start.")]
        elif (ends - starts).days > MAX_DURATION_DAYS:
            errors["ends_at"] = [_("A promotion runs at most %(n)s days.") % {"n": MAX_DURATION_DAYS}]
        elif ends <= timezone.now():
            errors["ends_at"] = [_("The end must be in the future.")]
    chosen = _items(shop, items, errors)
    if errors:
        raise ValidationFailed(fields=errors)
    with transaction.atomic():
        campaign = GroupBuy.objects.create(
            shop=shop, name=name, name_en=name_en, group_size=size, time_limit_hours=hours, max_quantity=most,
            starts_at=starts, ends_at=ends, currency=shop.currency, created_by=actor)
        GroupBuyItem.objects.bulk_create([GroupBuyItem(campaign=campaign, sku=sku, group_price=price)
                                          for sku, price in chosen])
        _record_campaign(campaign, "", Status.DRAFT, "create", actor, "")
        emit("group_buy.created", campaign_id=campaign.pk, shop_id=shop.pk)
    return campaign


def _campaign(*, shop, campaign_id, lock=False) -> GroupBuy:
    qs = GroupBuy.objects.filter(shop=shop)
    if lock:
        qs = qs.select_for_update()
    campaign = qs.filter(pk=check_id(campaign_id, "campaign_id")).first()
    if campaign is None:
        raise NotFound(_("Campaign not found."))
    return campaign


def shop_campaign(*, shop, campaign_id) -> GroupBuy:
    """A campaign of `shop`; another shop's id is a 404."""
    return _campaign(shop=shop, campaign_id=campaign_id)


def publish_campaign(*, actor, shop, campaign_id) -> GroupBuy:
    with transaction.atomic():
        campaign = _campaign(shop=shop, campaign_id=campaign_id, lock=True)
        if campaign.ends_at <= timezone.now():
            raise ValidationFailed(fields={"ends_at": [_("This promotion has already ended; move its end first.")]})
        apply_transition(campaign, Action.PUBLISH, transitions=TRANSITIONS, record=_record_campaign, actor=actor,
                         published_at=timezone.now())
        emit("group_buy.published", campaign_id=campaign.pk, shop_id=shop.pk)
    return campaign


def stop_campaign(*, actor, shop, campaign_id) -> GroupBuy:
    """Stop a campaign early: no new groups, and every open group fails (refunds follow)."""
    with transaction.atomic():
        campaign = _campaign(shop=shop, campaign_id=campaign_id, lock=True)
        apply_transition(campaign, Action.STOP, transitions=TRANSITIONS, record=_record_campaign, actor=actor,
                         stopped_at=timezone.now())
        emit("group_buy.stopped", campaign_id=campaign.pk, shop_id=shop.pk)
    open_ids = Group.objects.filter(campaign=campaign, status=GroupStatus.OPEN).values_list("pk", flat=True)
    for group_id in sorted(open_ids):
        fail_group(group_id=group_id, actor=actor, note=_("The seller stopped the campaign."))
    return campaign


def campaign_is_live(campaign, now=None) -> bool:
    """The one rule of when a campaign opens groups: published, and now inside [starts_at, ends_at)."""
    now = now or timezone.now()
    return campaign.status == Status.PUBLISHED and campaign.starts_at <= now < campaign.ends_at


# --- groups ------------------------------------------------------------------------------

def _share_code() -> str:
    return "".join(secrets.choice(SHARE_ALPHABET) for _i in range(SHARE_CODE_LENGTH))


def check_member_quantity(campaign, quantity) -> int:
    quantity = check_quantity(quantity, "quantity")
    if quantity > campaign.max_quantity:
        message = _("At most %(n)s per member in this group buy.") % {"n": campaign.max_quantity}
        raise ValidationFailed(message, fields={"quantity": [message]})
    return quantity


def live_item(item_id, *, now=None) -> GroupBuyItem:
    """A campaign item a shopper may open a group for now (404 when unknown or not live)."""
    item = (GroupBuyItem.objects.select_related("campaign", "campaign__shop", "sku")
            .filter(pk=check_id(item_id, "item_id")).first())
    if item is None or not campaign_is_live(item.campaign, now):
        raise NotFound(_("This group buy is not running."), fields={"item_id": [_("This group buy is not running.")]})
    return item


def open_group_row(*, actor, item_id, quantity, now=None) -> Group:
    """A new open group of a live campaign's item, led by `actor`, inside the caller's
    transaction (checkout places the leader's order in it). It expires after the
    campaign's time limit, and never after the campaign ends."""
    now = now or timezone.now()
    item = live_item(item_id, now=now)
    check_member_quantity(item.campaign, quantity)
    expires = min(now + timedelta(hours=item.campaign.time_limit_hours), item.campaign.ends_at)
    for _attempt in range(5):
        try:
            with transaction.atomic():
                group = Group.objects.create(campaign=item.campaign, item=item, leader=actor, share_code=_share_code(),
                                             expires_at=expires)
            break
        except IntegrityError:  # a share code already taken: draw again
            continue
    else:  # pragma: no cover - 32**10 codes
        raise Conflict(_("Could not open a group; try again."))
    _record_group(group, "", GroupStatus.OPEN, "open", actor, "")
    emit("group.opened", group_id=group.pk, campaign_id=item.campaign_id, user_id=actor.pk)
    group.item, group.campaign = item, item.campaign
    return group


def group_by_code(code, *, lock=False) -> Group:
    """The group a share link names; an unknown or malformed code is a 404."""
    text = code.strip().lower() if isinstance(code, str) else ""
    if len(text) != SHARE_CODE_LENGTH or any(c not in SHARE_ALPHABET for c in text):
        raise NotFound(_("Group not found."))
    qs = Group.objects.select_related("campaign", "campaign__shop", "item", "item__sku")
    if lock:
        qs = qs.select_for_update(of=("self",))
    group = qs.filter(share_code=text).first()
    if group is None:
        raise NotFound(_("Group not found."))
    return group


def paid_count(group) -> int:
    return group.members.filter(paid_at__isnull=False).count()


def _live_member(group, user):
    """The user's membership whose order is still alive (awaiting payment or paid), or None."""
    member = GroupMember.objects.select_related("order").filter(group=group, user=user).first()
    if member is None or member.order.status == Order.Status.CANCELLED:
        return None
    return member


def check_joinable(group, *, user, now=None) -> None:
    """Why `user` may not join `group` now, as a clear 409; nothing when they may. The
    leader passes this when their own order is placed (open_group)."""
    now = now or timezone.now()
    if group.status == GroupStatus.SUCCEEDED:
        raise Conflict(_("This group is already full."), code="group_full", fields={"group": [_("This group is already full.")]})
    if not is_joinable_status(group.status):
        raise Conflict(_("This group has failed; it takes no more members."), code="group_failed",
                       fields={"group": [_("This group has failed; it takes no more members.")]})
    if now >= group.expires_at:
        raise Conflict(_("This group has expired."), code="group_expired", fields={"group": [_("This group has expired.")]})
    if _live_member(group, user) is not None:
        raise Conflict(_("You are already in this group."), code="already_joined",
                       fields={"group": [_("You are already in this group.")]})
    if user.pk != group.leader_id:
        if not group.members.filter(user_id=group.leader_id, paid_at__isnull=False).exists():
            message = _("This group opens once its leader has paid.")
            raise Conflict(message, code="group_not_started", fields={"group": [message]})
        if paid_count(group) >= group.campaign.group_size:
            raise Conflict(_("This group is already full."), code="group_full",
                           fields={"group": [_("This group is already full.")]})


def record_member(*, group, actor, order, quantity, now=None) -> GroupMember:
    """Called by the group offer's claim inside place_order's transaction: the shopper's place
    in the group, checked again under the group's lock, and a hold on the order so it is not
    shipped before the group fills. A refusal rolls the whole checkout back."""
    now = now or timezone.now()
    locked = Group.objects.select_for_update().select_related("campaign").get(pk=group.pk)
    check_joinable(locked, user=actor, now=now)
    member = GroupMember.objects.select_for_update().filter(group=locked, user=actor).first()
    if member is not None:  # their earlier order was cancelled unpaid: the place takes the new one
        member.order, member.quantity, member.joined_at, member.paid_at = order, quantity, now, None
        member.save(update_fields=["order", "quantity", "joined_at", "paid_at"])
    else:
        try:
            with transaction.atomic():
                member = GroupMember.objects.create(group=locked, user=actor, order=order, quantity=quantity,
                                                    joined_at=now)
        except IntegrityError:
            raise Conflict(_("You are already in this group."), code="already_joined",
                           fields={"group": [_("You are already in this group.")]}) from None
    orders.hold(order=order, reason=Hold.GROUP_BUY, actor=actor)
    emit("group.joined", group_id=locked.pk, user_id=actor.pk, order_id=order.pk)
    return member


def on_order_paid(payload) -> None:
    """`order.paid`: a group order's payment makes its member count, if there is still a
    place; otherwise the order is closed (and refunded by payments)."""
    count_payment(order_id=payload["order_id"])


def count_payment(*, order_id) -> str:
    """Count a paid member under the group's lock. Returns what happened: "counted",
    "succeeded" (the N-th), "closed" (no place: refunded), or "" (not a group order,
    or already dealt with)."""
    ref = GroupMember.objects.filter(order_id=order_id).values_list("group_id", flat=True).first()
    if ref is None:
        return ""
    with transaction.atomic():
        group = Group.objects.select_for_update().select_related("campaign").get(pk=ref)
        member = GroupMember.objects.select_for_update().filter(group=group, order_id=order_id).first()
        order = Order.objects.get(pk=order_id)
        if member is None or member.paid_at is not None or order.status != Order.Status.PAID:
            return ""
        why = None
        if group.status == GroupStatus.SUCCEEDED or paid_count(group) >= group.campaign.group_size:
            why = _("The group was already full when the payment arrived; the payment is refunded.")
        elif not is_joinable_status(group.status):
            why = _("The group had failed when the payment arrived; the payment is refunded.")
        elif order.paid_at >= group.expires_at:
            why = _("The group had expired when the payment arrived; the payment is refunded.")
        if why:
            orders.close_paid(order=order, note=why)
            emit("group_payment.refused", group_id=group.pk, order_id=order_id)
            return "closed"
        member.paid_at = order.paid_at
        member.save(update_fields=["paid_at"])
        emit("group_member.paid", group_id=group.pk, order_id=order_id, user_id=member.user_id)
        if paid_count(group) < group.campaign.group_size:
            return "counted"
        _succeed(group)
        return "succeeded"


def _succeed(group) -> None:
    """The N-th member paid (group locked by the caller): the orders proceed; members who
    had not paid lose their place (their orders are cancelled)."""
    apply_transition(group, GroupAction.SUCCEED, transitions=GROUP_TRANSITIONS, record=_record_group, actor=None,
                     succeeded_at=timezone.now())
    for member in group.members.select_related("order").order_by("order_id"):
        if member.paid_at is not None:
            orders.release_hold(order=member.order_id, reason=Hold.GROUP_BUY)
        elif OrderAction.EXPIRE in order_actions(member.order.status):
            orders.transition(member.order_id, OrderAction.EXPIRE, actor=None,
                              note=_("The group filled before this order was paid."))
    emit("group.succeeded", group_id=group.pk, campaign_id=group.campaign_id)


def fail_group(*, group_id, actor=None, note="", now=None, only_due=False) -> bool:
    """Fail an open group (its time ran out, or the campaign stopped): paid orders are closed,
    so payments refunds each in full, once; unpaid orders are cancelled. Re-checked under
    the group's lock, so two workers never fail one group twice. Returns whether it failed it."""
    now = now or timezone.now()
    with transaction.atomic():
        group = Group.objects.select_for_update().filter(pk=group_id, status=GroupStatus.OPEN).first()
        if group is None or (only_due and not _due(group, now)):
            return False
        apply_transition(group, GroupAction.FAIL, transitions=GROUP_TRANSITIONS, record=_record_group, actor=actor,
                         note=note, failed_at=now)
        for member in group.members.order_by("order_id"):
            order = Order.objects.select_for_update().get(pk=member.order_id)
            if OrderAction.CLOSE in order_actions(order.status):
                orders.close_paid(order=order, note=note)
            elif OrderAction.EXPIRE in order_actions(order.status):
                orders.transition(order, OrderAction.EXPIRE, actor=None, note=note)
        emit("group.failed", group_id=group.pk, campaign_id=group.campaign_id)
    return True


def _due(group, now) -> bool:
    """An open group must fail: its time ran out, or its campaign was stopped."""
    return group.expires_at <= now or GroupBuy.objects.filter(pk=group.campaign_id, status=Status.STOPPED).exists()


def fail_expired_groups(*, now=None) -> int:
    """Periodic: fail every open group whose time ran out before it filled (and any left open
    by a campaign stopped meanwhile). Idempotent and safe from several workers: each group
    is re-checked under its row lock."""
    now = now or timezone.now()
    due = Q(expires_at__lte=now) | Q(campaign__status=Status.STOPPED)
    ids = list(Group.objects.filter(due, status=GroupStatus.OPEN).order_by("pk").values_list("pk", flat=True)[:500])
    note = _("The group did not fill in time.")
    return sum(1 for pk in ids if fail_group(group_id=pk, note=note, now=now, only_due=True))
