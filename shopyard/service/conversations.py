"""Conversations (客服会话): one thread per (shopper, shop).

The shopper opens it from a product, shop or order page (the product or
order attached as a card); both sides send text, an image and cards. The
shopper side is the conversation's own user; the shop side is any member of
its shop (`shop` from the console or shop_for_seller). Cards name only what
the sender may see: a visible product of the conversation's shop, an order of
the conversation's shopper at that shop; anything else is a 404.

Read receipts are each side's last read message id, which only grows. For
statistics the conversation keeps when it was opened (or reopened), its first
agent reply and when it was closed, with the seconds between."""

import uuid

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from shopyard.accounts.models import User
from shopyard.catalog.queries import visible_products
from shopyard.core.errors import Conflict, NotFound, ValidationFailed
from shopyard.core.events import emit
from shopyard.core.images import check_upload, delete_written
from shopyard.core.statemachine import actor_label, apply_transition
from shopyard.orders.models import Order
from shopyard.shops.queries import active_shops

from .inputs import clean_reason, clean_text, require_operator
from .limits import limited
from .models import (
    TEXT_MAX,
    CannedReply,
    Conversation,
    ConversationMessage,
    ConversationStatusChange,
)
from .state import CONVERSATION_TRANSITIONS, ConversationAction, ConversationStatus

SHOPPER, SHOP = ConversationMessage.Side.SHOPPER, ConversationMessage.Side.SHOP
MAX_CANNED_REPLIES = 100


def _record(conversation, from_status, to_status, action, actor, note=""):
    ConversationStatusChange.objects.create(
        conversation=conversation, from_status=from_status, to_status=to_status, action=action, note=note[:300],
        actor=actor if getattr(actor, "pk", None) else None, actor_label=actor_label(actor))


def transition(conversation, action, *, actor=None, note="", **fields):
    return apply_transition(conversation, action, transitions=CONVERSATION_TRANSITIONS, record=_record, actor=actor,
                            note=note, **fields)


def scoped_conversation(actor, conversation_id, *, shop=None, lock=False):
    """(conversation, side): the shopper's own, or one of `shop`'s; else NotFound."""
    qs = Conversation.objects.select_for_update() if lock else Conversation.objects.all()
    qs, side = (qs.filter(shop=shop), SHOP) if shop is not None else (qs.filter(user=actor), SHOPPER)
    conversation = qs.filter(pk=conversation_id).first()
    if conversation is None:
        raise NotFound(_("Conversation not found."))
    return conversation, side


def _card_product(conversation, product_id):
    product = visible_products().filter(pk=product_id, shop_id=conversation.shop_id).first()
    if product is None:
        raise NotFound(_("Product not found."))
    return product


def _card_order(conversation, order_id):
    order = Order.objects.filter(pk=order_id, user_id=conversation.user_id, shop_id=conversation.shop_id).first()
    if order is None:
        raise NotFound(_("Order not found."))
    return order


def open_conversation(*, actor, shop_id, product_id=None, order_id=None) -> Conversation:
    """The shopper's conversation with an active shop (made the first time);
    a product or order named is attached as a card unless the last card in
    the thread is the same one (opening it twice does not repeat it)."""
    with transaction.atomic():
        shop = active_shops().filter(pk=shop_id).first()
        if shop is None:
            raise NotFound(_("Shop not found."))
        conversation = Conversation.objects.filter(user=actor, shop=shop).first()
        if conversation is None:
            try:
                with transaction.atomic():
                    now = timezone.now()
                    conversation = Conversation.objects.create(user=actor, shop=shop, opened_at=now)
                    _record(conversation, "", ConversationStatus.OPEN, ConversationAction.REOPEN, actor, "opened")
            except IntegrityError:  # opened at the same moment by another request
                conversation = Conversation.objects.get(user=actor, shop=shop)
        product = _card_product(conversation, product_id) if product_id is not None else None
        order = _card_order(conversation, order_id) if order_id is not None else None
        if product is not None or order is not None:
            last = conversation.messages.exclude(product=None, order=None).order_by("-id").first()
            same = last is not None and last.product_id == getattr(product, "pk", None) \
                and last.order_id == getattr(order, "pk", None)
            if not same:
                _send(conversation, actor=actor, side=SHOPPER, body="", product=product, order=order)
    return conversation


@limited
def send_message(*, actor, conversation_id, body="", product_id=None, order_id=None, image=None,
                 shop=None) -> ConversationMessage:
    """A message from the shopper (no `shop`) or the shop (its `shop`): text,
    an image, a product card, an order card, or several of them together."""
    body = clean_text(body, "body", max_length=TEXT_MAX, required=False)
    data = ext = None
    if image is not None:
        data, ext = check_upload(image, field="image", max_bytes=settings.SERVICE_IMAGE_MAX_BYTES)
    if not body and data is None and product_id is None and order_id is None:
        raise ValidationFailed(fields={"body": [_("Write a message, or attach a picture or a card.")]})
    written = []
    try:
        with transaction.atomic():
            conversation, side = scoped_conversation(actor, conversation_id, shop=shop, lock=True)
            product = _card_product(conversation, product_id) if product_id is not None else None
            order = _card_order(conversation, order_id) if order_id is not None else None
            return _send(conversation, actor=actor, side=side, body=body, product=product, order=order,
                         image=(data, ext) if data is not None else None, written=written)
    except BaseException:
        delete_written(written)
        raise


def _send(conversation, *, actor, side, body, product=None, order=None, image=None, written=None):
    now = timezone.now()
    message = ConversationMessage(conversation=conversation, sender=actor, side=side, body=body, product=product,
                                  order=order)
    if image is not None:
        data, ext = image
        message.image.save(f"{uuid.uuid4().hex}.{ext}", ContentFile(data), save=False)
        if written is not None:
            written.append(message.image)
    message.save()
    fields = {"last_message_at": now}
    if side == SHOPPER:
        fields["shopper_read_id"] = message.pk
        if conversation.status == ConversationStatus.CLOSED:
            transition(conversation, ConversationAction.REOPEN, actor=actor, opened_at=now, first_response_at=None,
                        first_response_seconds=None, closed_at=None, resolution_seconds=None)
    else:
        fields["shop_read_id"] = message.pk
        if conversation.first_response_at is None and conversation.opened_at is not None:
            fields["first_response_at"] = now
            fields["first_response_seconds"] = max(0, int((now - conversation.opened_at).total_seconds()))
        if conversation.assignee_id is None:
            fields["assignee"] = actor
    for key, value in fields.items():
        setattr(conversation, key, value)
    conversation.save(update_fields=list(fields))
    emit("service_message.sent", conversation_id=conversation.pk, message_id=message.pk, side=side,
         user_id=conversation.user_id, shop_id=conversation.shop_id)
    return message


def mark_read(*, actor, conversation_id, shop=None) -> int:
    """The caller's side has read everything sent so far; returns the last
    message id read. The pointer never moves back."""
    with transaction.atomic():
        conversation, side = scoped_conversation(actor, conversation_id, shop=shop, lock=True)
        last = conversation.messages.aggregate(m=Max("id"))["m"] or 0
        field = "shopper_read_id" if side == SHOPPER else "shop_read_id"
        if last > getattr(conversation, field):
            setattr(conversation, field, last)
            conversation.save(update_fields=[field])
        return getattr(conversation, field)


def assign(*, actor, shop, conversation_id, assignee_id=None) -> Conversation:
    """Give the conversation to a member of the shop (None: back to the unassigned queue)."""
    with transaction.atomic():
        conversation, _side = scoped_conversation(actor, conversation_id, shop=shop, lock=True)
        assignee = None
        if assignee_id is not None:
            assignee = User.objects.filter(pk=assignee_id, shop_memberships__shop=shop).first()
            if assignee is None:
                raise ValidationFailed(fields={"assignee_id": [_("Choose a member of the shop.")]})
        conversation.assignee = assignee
        conversation.save(update_fields=["assignee"])
        emit("conversation.assigned", conversation_id=conversation.pk, shop_id=shop.pk,
             assignee_id=getattr(assignee, "pk", None))
    return conversation


def close(*, actor, shop, conversation_id) -> Conversation:
    """The shop's agent closes the conversation (the resolution time is
    recorded); the shopper writing again reopens it."""
    with transaction.atomic():
        conversation, _side = scoped_conversation(actor, conversation_id, shop=shop, lock=True)
        now = timezone.now()
        seconds = int((now - conversation.opened_at).total_seconds()) if conversation.opened_at else None
        transition(conversation, ConversationAction.CLOSE, actor=actor, closed_at=now,
                    resolution_seconds=max(0, seconds) if seconds is not None else None)
        emit("conversation.closed", conversation_id=conversation.pk, shop_id=shop.pk, user_id=conversation.user_id)
    return conversation


def hide_message(*, actor, message_id, reason) -> ConversationMessage:
    """An operator hides an abusive message from both sides, with a reason."""
    require_operator(actor)
    reason = clean_reason(reason)
    with transaction.atomic():
        message = ConversationMessage.objects.select_for_update().filter(pk=message_id).first()
        if message is None:
            raise NotFound(_("Message not found."))
        if message.hidden_at is not None:
            raise Conflict(_("This message is already hidden."))
        message.hidden_at, message.hidden_reason = timezone.now(), reason
        message.save(update_fields=["hidden_at", "hidden_reason"])
        emit("service_message.moderated", message_id=message.pk, conversation_id=message.conversation_id,
             reason=reason)
    return message


# --- canned replies -------------------------------------------------------------------

def _canned_fields(title, body):
    return (clean_text(title, "title", max_length=60), clean_text(body, "body", max_length=TEXT_MAX))


def create_canned_reply(*, actor, shop, title, body) -> CannedReply:
    title, body = _canned_fields(title, body)
    with transaction.atomic():
        if CannedReply.objects.filter(shop=shop).count() >= MAX_CANNED_REPLIES:
            raise ValidationFailed(fields={"title": [
                _("A shop has at most %(n)s canned replies.") % {"n": MAX_CANNED_REPLIES}]})
        reply = CannedReply.objects.create(shop=shop, title=title, body=body)
    return reply


def update_canned_reply(*, actor, shop, reply_id, title, body) -> CannedReply:
    title, body = _canned_fields(title, body)
    with transaction.atomic():
        reply = CannedReply.objects.select_for_update().filter(shop=shop, pk=reply_id).first()
        if reply is None:
            raise NotFound(_("Canned reply not found."))
        reply.title, reply.body = title, body
        reply.save(update_fields=["title", "body"])
    return reply


def delete_canned_reply(*, actor, shop, reply_id) -> None:
    with transaction.atomic():
        deleted, _rows = CannedReply.objects.filter(shop=shop, pk=reply_id).delete()
        if not deleted:
            raise NotFound(_("Canned reply not found."))
