"""Reads of the message centre, preferences and webhooks, scoped to the caller."""

from django.conf import settings

from shopyard.shops.models import ShopMember

from .kinds import DEFAULTS, Channel, Kind
from .models import Message, Preference, Profile, WebhookDelivery, WebhookEndpoint


def shop_member_ids(shop_id) -> list[int]:
    if not shop_id:
        return []
    return list(ShopMember.objects.filter(shop_id=shop_id).values_list("user_id", flat=True))


def language_of(user_id) -> str:
    return (Profile.objects.filter(user_id=user_id).values_list("language", flat=True).first()
            or settings.LANGUAGE_CODE)


def enabled_channels(user_id, kind) -> set[str]:
    """The channels `user_id` receives `kind` on: the default, with their choices over it."""
    channels = set(DEFAULTS[Kind(kind)])
    for channel, enabled in Preference.objects.filter(user_id=user_id, kind=kind).values_list("channel", "enabled"):
        (channels.add if enabled else channels.discard)(channel)
    return channels


def preferences(user) -> dict:
    """{"language": ..., "choices": {kind: [channel, ...]}} for every kind."""
    choices = {kind: set(DEFAULTS[kind]) for kind in Kind}
    for kind, channel, enabled in Preference.objects.filter(user=user).values_list("kind", "channel", "enabled"):
        (choices[Kind(kind)].add if enabled else choices[Kind(kind)].discard)(channel)
    return {
        "language": language_of(user.pk),
        "choices": {str(kind): [c for c in Channel.values if c in chosen] for kind, chosen in choices.items()},
    }


def messages_for(user, *, shop_id=None, unread_only=False):
    qs = Message.objects.filter(user=user)
    if shop_id is not None:
        qs = qs.filter(shop_id=shop_id)
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    return qs.order_by("-id")


def unread_count(user, *, shop_id=None) -> int:
    """One indexed count (message_unread)."""
    if not getattr(user, "is_authenticated", False):
        return 0
    return messages_for(user, shop_id=shop_id, unread_only=True).count()


def endpoints_for(shop):
    """A shop's endpoints; `shop=None` is the platform's."""
    return WebhookEndpoint.objects.filter(shop=shop).order_by("id")


def deliveries_for(endpoint, limit=50):
    return WebhookDelivery.objects.filter(endpoint=endpoint).prefetch_related("attempt_log").order_by("-id")[:limit]
