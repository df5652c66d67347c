"""Reads of group buying shared by pages and the API: what a product page
offers, what a group page shows, a shopper's groups, a shop's campaigns."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Q
from django.utils import timezone

from shopyard.core.prepared import PreparedRead

from .group_state import GroupStatus, is_joinable_status
from .models import Group, GroupBuy, GroupBuyItem, GroupMember
from .state import Status


def live_items(*, sku_ids, now=None) -> dict:
    """{sku_id: GroupBuyItem} of campaigns live now for these SKUs (one query); when two
    live campaigns list a SKU, the lower group price."""
    now = now or timezone.now()
    items = (GroupBuyItem.objects.select_related("campaign", "campaign__shop")
             .filter(sku_id__in=list(sku_ids), campaign__status=Status.PUBLISHED, campaign__starts_at__lte=now,
                     campaign__ends_at__gt=now)
             .order_by("group_price", "id"))
    found = {}
    for item in items:
        found.setdefault(item.sku_id, item)
    return found


def published_campaign(campaign_id):
    """A campaign shoppers may read (published, running or not), or None."""
    return (GroupBuy.objects.select_related("shop").prefetch_related("items__sku__product")
            .filter(pk=campaign_id, status=Status.PUBLISHED).first())


def shop_campaigns(shop):
    return GroupBuy.objects.filter(shop=shop).prefetch_related("items").order_by("-id")


@dataclass
class GroupInfo:
    """What a group page and the API show of a group, read once."""

    group: Group
    size: int
    paid: list  # GroupMember rows that count, in payment order
    now: datetime

    @property
    def places_left(self) -> int:
        return max(0, self.size - len(self.paid))

    @property
    def seconds_left(self) -> int:
        if self.group.status != GroupStatus.OPEN:
            return 0
        return max(0, int((self.group.expires_at - self.now).total_seconds()))

    @property
    def joinable(self) -> bool:
        """Open, in time, with a place left and a paying leader (group_services.check_joinable
        decides for a given shopper)."""
        leader_paid = any(m.user_id == self.group.leader_id for m in self.paid)
        return (is_joinable_status(self.group.status) and self.seconds_left > 0 and self.places_left > 0
                and leader_paid)


def group_info(group, now=None) -> GroupInfo:
    paid = list(group.members.select_related("user").filter(paid_at__isnull=False).order_by("paid_at", "id"))
    return GroupInfo(group=group, size=group.campaign.group_size, paid=paid, now=now or timezone.now())


def member_of(group, user):
    """The user's place in `group` (None for guests and outsiders)."""
    if not getattr(user, "is_authenticated", False):
        return None
    return GroupMember.objects.select_related("order").filter(group=group, user=user).first()


def groups_of(user):
    """The shopper's places in groups, newest first, with the group, its item and campaign,
    and how many have paid (a fixed number of queries)."""
    return (GroupMember.objects.filter(user=user)
            .select_related("group", "group__campaign", "group__item", "group__item__sku", "group__item__sku__product",
                            "order")
            .annotate(paid_members=Count("group__members", filter=Q(group__members__paid_at__isnull=False)))
            .order_by("-joined_at", "-id"))


def open_groups_of_item(item, *, now=None, limit=5):
    """Groups of an item a shopper could join now (the product page lists a few)."""
    now = now or timezone.now()
    return (Group.objects.filter(item=item, status=GroupStatus.OPEN, expires_at__gt=now)
            .select_related("leader").order_by("expires_at")[:limit])



def product_offers(*, product_id, now=None, items=None) -> tuple[dict, object]:
    """For a product page, in one query compiled once (core.prepared): {sku_id: live
    GroupBuyItem} of its active SKUs (as live_items) and when the group offers on them next
    start or end (None: never), so a cached page expires then (storefront.page_cache's ttl).
    `items`, when given, is a function answering `offer_rows` for the product, possibly as read
    at a moment before `now` (the storefront keeps them per catalogue version: publishing or
    stopping a campaign is a catalogue event, and its items never change); what has ended
    since is left out here."""
    now = now or timezone.now()
    live, moments = {}, []
    for item in (items() if items else offer_rows(product_id, now)):
        if item.campaign.ends_at <= now:  # ended since the rows were read
            continue
        starts = item.campaign.starts_at
        moments.append(starts if starts > now else item.campaign.ends_at)
        if starts <= now:
            live.setdefault(item.sku_id, item)
    return live, min(moments, default=None)


def offer_rows(product_id, now) -> list:
    """The group-buy items of the product's active SKUs in published campaigns not ended at
    `now`, with their campaign, lowest group price first: what product_offers reads."""
    return _GROUP_ITEMS_OF_PRODUCT.objects(product_id, now)


def offer_items(product_id, now):
    """offer_rows' queryset. `product_id` may be an OuterRef: the product page asks, in its
    product's own row, whether it has any (storefront.queries), and reads them only when it does."""
    return (GroupBuyItem.objects.select_related("campaign")
            .filter(sku__product_id=product_id, sku__is_active=True, campaign__status=Status.PUBLISHED,
                    campaign__ends_at__gt=now)
            .order_by("group_price", "id"))


_GROUP_ITEMS_OF_PRODUCT = PreparedRead(GroupBuyItem, offer_items, kinds=("id", "moment"))
