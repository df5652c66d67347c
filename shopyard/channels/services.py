"""Every write of the channels app: campaign links, touches, attributions.

Touches are written by the middleware after the response (one INSERT, whose
shop is resolved inside that statement); attributions by the `order.placed`
subscriber. Last-touch model: an order is attributed to the newest touch of its
buyer at most ATTRIBUTION_WINDOW before the order was placed.
"""

import logging
import secrets
import string
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.db.models import Exists, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from shopyard.catalog.models import Product
from shopyard.catalog.queries import visible_products
from shopyard.core.errors import ValidationFailed
from shopyard.core.events import emit
from shopyard.core.prepared import PreparedRead, PreparedReads
from shopyard.core.validation import parse_id
from shopyard.shops.models import Shop

from . import tags
from .models import (
    CAMPAIGN_MAX,
    MEDIUM_MAX,
    SOURCE_MAX,
    CampaignLink,
    ChannelTouch,
    OrderAttribution,
)

log = logging.getLogger("shopyard.channels")

ATTRIBUTION_WINDOW = timedelta(days=7)
TOUCH_RETENTION = timedelta(days=400)  # a year of reports, and the window before it
CODE_LENGTH = 8
CODE_ALPHABET = string.ascii_letters + string.digits
NAME_MAX = 100
LINKS_PER_SHOP_MAX = 1000
CHANNEL_CHARS = set(string.ascii_letters + string.digits + "._-")


# --- campaign links ------------------------------------------------------------------


def _new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _n in range(CODE_LENGTH))


def clean_link(data: dict, *, shop) -> dict:
    """Field errors for a campaign link, or its cleaned values. The channel and
    medium are short ASCII words (they go in URLs and reports); the campaign is
    free text."""
    errors = {}
    name = tags.clean_value(data.get("name"), NAME_MAX + 1)
    if not name:
        errors["name"] = [_("Give the link a name.")]
    elif len(name) > NAME_MAX:
        errors["name"] = [_("Use at most %(n)s characters.") % {"n": NAME_MAX}]
    values = {}
    for field, limit, required in (("source", SOURCE_MAX, True), ("medium", MEDIUM_MAX, False)):
        value = str(data.get(field) or "").strip()
        if required and not value:
            errors[field] = [_("This field is required.")]
        elif len(value) > limit or not set(value) <= CHANNEL_CHARS:
            errors[field] = [_("Use at most %(n)s letters, digits, dots, dashes or underscores.") % {"n": limit}]
        values[field] = value.lower()
    campaign = tags.clean_value(data.get("campaign"), CAMPAIGN_MAX + 1)
    if not campaign:
        errors["campaign"] = [_("This field is required.")]
    elif len(campaign) > CAMPAIGN_MAX:
        errors["campaign"] = [_("Use at most %(n)s characters.") % {"n": CAMPAIGN_MAX}]
    target = data.get("target")
    product = None
    if target == CampaignLink.Target.PRODUCT:
        product_id = parse_id(data.get("product_id"))
        # the shop's own product that shoppers can see: a link to a draft would land on a 404
        product = visible_products().filter(shop=shop, pk=product_id).first() if product_id else None
        if product is None:
            errors["product_id"] = [_("Choose one of your published products.")]
    elif target != CampaignLink.Target.SHOP:
        errors["target"] = [_("Choose a product or the shop.")]
    if errors:
        raise ValidationFailed(fields=errors)
    return {"name": name, **values, "campaign": campaign, "target": target, "product": product}


@transaction.atomic
def create_campaign_link(*, actor, shop, data: dict) -> CampaignLink:
    cleaned = clean_link(data, shop=shop)
    if CampaignLink.objects.filter(shop=shop).count() >= LINKS_PER_SHOP_MAX:
        raise ValidationFailed(fields={"name": [_("A shop may have at most %(n)s links.") % {"n": LINKS_PER_SHOP_MAX}]})
    for _attempt in range(5):
        try:
            with transaction.atomic():
                link = CampaignLink.objects.create(shop=shop, created_by=actor, code=_new_code(), **cleaned)
            break
        except IntegrityError:  # a code already taken (1 in 62^8): draw again
            continue
    else:  # pragma: no cover - five collisions in a row
        raise ValidationFailed(fields={"name": [_("Could not make a short code; try again.")]})
    emit("campaign_link.created", link_id=link.pk, shop_id=shop.pk, code=link.code, actor_id=actor.pk)
    return link


# --- touches --------------------------------------------------------------------------


def record_touch(*, tag: tags.Tag, visitor: str, user_id=None, landing_path: str = "", product_id=None,
                 shop_slug=None, now=None) -> ChannelTouch:
    """One INSERT: the shop (of the short link, else of the landing product or shop
    page) is looked up inside the statement."""
    candidates = []
    if tag.link_code:
        candidates.append(Subquery(CampaignLink.objects.filter(code=tag.link_code).values("shop_id")[:1]))
    if product_id is not None:
        candidates.append(Subquery(Product.objects.filter(pk=product_id).values("shop_id")[:1]))
    if shop_slug is not None:
        candidates.append(Subquery(Shop.objects.filter(slug=shop_slug[:100]).values("pk")[:1]))
    shop = None
    if len(candidates) == 1:
        shop = candidates[0]
    elif candidates:
        shop = Coalesce(*candidates)
    return ChannelTouch.objects.create(
        visitor=visitor[:32], user_id=user_id, source=tag.source, medium=tag.medium, campaign=tag.campaign,
        link_code=tag.link_code, shop_id=shop, landing_path=landing_path[:200], created_at=now or timezone.now(),
    )


def claim_touches(*, visitor: str, user_id, now=None) -> int:
    """A shopper who logs in takes over the touches their browser made anonymously
    within the window (so an order placed after logging in is attributed)."""
    since = (now or timezone.now()) - ATTRIBUTION_WINDOW
    return ChannelTouch.objects.filter(visitor=visitor[:32], user__isnull=True, created_at__gte=since).update(
        user_id=user_id)


# --- attribution ----------------------------------------------------------------------


def last_touch(*, user_id, at: datetime, order_id: int = 0):
    """The buyer's newest touch in (at - window, at], or None (also without a buyer: no
    one else's anonymous touch is theirs). The touch says whether the order `order_id`
    has its attribution already (`attributed`): read after every order placed, the two
    are one statement compiled once (were two reads)."""
    if user_id is None:
        return None
    rows = _LAST_TOUCH.objects(order_id, user_id, at - ATTRIBUTION_WINDOW, at)
    return rows[0] if rows else None


_LAST_TOUCH = PreparedRead(ChannelTouch, lambda order_id, user_id, after, at: (
    ChannelTouch.objects.filter(user_id=user_id, created_at__gt=after, created_at__lte=at)
    .annotate(attributed=Exists(OrderAttribution.objects.filter(order_id=order_id)))
    .order_by("-created_at", "-id")[:1]), kinds=("id", "id", "moment", "moment"))


@transaction.atomic(savepoint=False)
def attribute_order(*, order_id, shop_id, user_id, placed_at: datetime, total, currency: str):
    """Attribute one order to its buyer's last touch (idempotent: once per order).
    Returns the attribution (made now, or by an earlier delivery of the event), or
    None when no touch is in the window (nothing is attributed then).

    No savepoint of its own: it runs after every order, inside the event
    delivery's savepoint, and a failure here fails that delivery whole anyway."""
    touch = last_touch(user_id=user_id, at=placed_at, order_id=order_id)
    if touch is None:
        return None
    if touch.attributed:  # a redelivered event
        return OrderAttribution.objects.filter(order_id=order_id).order_by("pk").first()
    return OrderAttribution.objects.create(
        order_id=order_id, touch=touch, shop_id=shop_id, source=touch.source, medium=touch.medium,
        campaign=touch.campaign, link_code=touch.link_code, currency=currency, total=total,
        touched_at=touch.created_at, placed_at=placed_at,
    )


def on_order_placed(payload) -> None:
    """`order.placed` subscriber (orders.services.event_payload)."""
    try:
        total = Decimal(str(payload.get("total") or "0"))
    except InvalidOperation:
        total = Decimal("0")
    attribute_order(order_id=payload["order_id"], shop_id=payload["shop_id"], user_id=payload["user_id"],
                    placed_at=_placed_at(payload), total=total, currency=payload.get("currency") or "")


# the buyers among some with a touch in a window: read for every batch of orders placed
_TOUCHED = PreparedReads(ChannelTouch, lambda user_ids, after, until: ChannelTouch.objects.filter(
    user_id__in=user_ids, created_at__gt=after, created_at__lte=until).values_list("user_id").distinct(),
    kinds=("moment", "moment"))


def on_orders_placed(items) -> None:
    """`on_order_placed` for several (payload, event) pairs (a batch of held events,
    core.events.dispatch_many). Most buyers have no touch at all, so one read finds
    the buyers with a touch anywhere in the batch's window, and only their orders are
    attributed, each as alone (`last_touch` keeps the rule)."""
    payloads = [payload for payload, _event in items if payload.get("user_id")]
    if not payloads:
        return
    moments = [_placed_at(payload) for payload in payloads]
    touched = {user_id for (user_id,) in _TOUCHED.rows(
        sorted({payload["user_id"] for payload in payloads}), min(moments) - ATTRIBUTION_WINDOW, max(moments))}
    for payload in payloads:
        if payload["user_id"] in touched:
            on_order_placed(payload)


def _placed_at(payload) -> datetime:
    return datetime.fromisoformat(payload["placed_at"]) if payload.get("placed_at") else timezone.now()


def purge_old_touches(now=None) -> int:
    """Periodic: drop touches older than TOUCH_RETENTION (attributions keep their
    copy of the tag). Returns how many went."""
    cutoff = (now or timezone.now()) - TOUCH_RETENTION
    deleted, _by_model = ChannelTouch.objects.filter(created_at__lt=cutoff).delete()
    return deleted
