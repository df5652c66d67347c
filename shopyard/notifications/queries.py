"""Reads of the message centre, preferences and webhooks, scoped to the caller."""

import functools

from django.conf import settings
from django.db.models import OuterRef, Subquery

from shopyard.accounts.models import User
from shopyard.core.prepared import PreparedReads
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
    return _chosen(kind, Preference.objects.filter(user_id=user_id, kind=kind).values_list("channel", "enabled"))


def _chosen(kind, choices) -> set[str]:
    """The default channels of `kind` with the user's (channel, enabled) choices over it."""
    channels = set(DEFAULTS[Kind(kind)])
    for channel, enabled in choices:
        (channels.add if enabled else channels.discard)(channel)
    return channels


def recipients(user_ids, kind) -> list[tuple]:
    """The active users among `user_ids`, in id order, each as (user, the channels
    they receive `kind` on, their language): what `enabled_channels` and
    `language_of` answer, read with the users in one statement, since it runs
    for every event a user is told of (every order placed). The statement is
    compiled once per kind and count of users (core.prepared.PreparedReads).
    Only RECIPIENT_FIELDS of each user are read."""
    ids = sorted({pk for pk in user_ids if pk})
    if not ids:
        return []
    users = _recipient_reads(kind).objects(ids)
    return [(user, _chosen(kind, [(c, getattr(user, f"notify_{c}")) for c in Channel.values
                                   if getattr(user, f"notify_{c}") is not None]),
             user.notify_language or settings.LANGUAGE_CODE)
            for user in users]


RECIPIENT_FIELDS = ("pk", "email", "phone", "username", "nickname")


def _recipients(kind):
    """Active users, each with their language and their choice per channel for `kind`."""
    mine = {"user_id": OuterRef("pk")}
    choice = {f"notify_{channel}": Subquery(Preference.objects.filter(**mine, kind=kind, channel=channel)
                                            .values("enabled")[:1])
              for channel in Channel.values}
    # the columns a notification uses (its rows, addresses and a template's name for the user);
    # the whole row (password hash, dates, flags) was read after every order for nothing
    return (User.objects.filter(is_active=True).order_by("pk").only(*RECIPIENT_FIELDS)
            .annotate(notify_language=Subquery(Profile.objects.filter(**mine).values("language")[:1]), **choice))


@functools.cache
def _recipient_reads(kind) -> PreparedReads:
    return PreparedReads(User, lambda ids: _recipients(kind).filter(pk__in=ids))


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
