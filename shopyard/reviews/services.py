"""Every write to reviews: the buyer reviews a line of a completed order and
follows it up once; the seller replies once to each; operators hide and show
reviews with a reason. Each service runs in one transaction, emits one event
(`review.created`, `review_follow_up.written`, `review.replied`, `review.hidden`,
`review.shown`) and recomputes the product's and the shop's ratings.

Decisions (docs/reviews.md):
- logistics and service are scored per line, with the product's stars: a
  review is whole on its own, and the shop rating averages them over the
  shop's visible reviews;
- the follow-up (追评) is appended once and never edits the review; the seller
  replies once to the review and once to the follow-up;
- gifts (满赠 lines) are not reviewed.

Lock order: the product's rating row, then the shop's rating row, then the
review. Locking the rating rows first serialises writers on one product, so the
aggregate each recomputes counts every committed review (on PostgreSQL too).
The "once" rules are conditional UPDATEs, so two racing requests cannot both
write a follow-up or a reply; the review's line is unique, so a line is
reviewed once.
"""

import uuid
from datetime import timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from shopyard.core.access import is_operator
from shopyard.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from shopyard.core.events import emit
from shopyard.core.images import check_upload, delete_written, make_thumbnail
from shopyard.core.statemachine import actor_label, apply_transition
from shopyard.core.validation import check_id, parse_int

from . import queries
from .models import ProductRating, Review, ReviewPhoto, ReviewStatusChange, ShopRating
from .state import EVENTS, PUBLIC, REVIEWABLE_ORDER_STATUSES, TRANSITIONS, Action

MAX_TEXT = 500
MAX_REPLY = 500
MAX_REASON = 200
MAX_PHOTOS = 6
THUMB_SIZE = (240, 240)


# --- input ---------------------------------------------------------------------


def check_stars(value, field) -> int:
    """A score from 1 to 5: a whole number (an int, or a form's string of digits)."""
    stars = parse_int(value, min_value=1, max_value=5)
    if stars is None:
        raise ValidationFailed(fields={field: [_("Choose from 1 to 5 stars.")]})
    return stars


def clean_text(value, field, *, max_length, required=False) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if value is not None and not isinstance(value, str):
        raise ValidationFailed(fields={field: [_("Enter text.")]})
    if required and not text:
        raise ValidationFailed(fields={field: [_("Write something.")]})
    if len(text) > max_length:
        raise ValidationFailed(fields={field: [_("Use at most %(n)s characters.") % {"n": max_length}]})
    if any(ord(c) < 32 and c not in "\n\r\t" for c in text):
        raise ValidationFailed(fields={field: [_("Remove the control characters.")]})
    return text


def check_photos(photos, field="photos", *, already=0) -> list:
    """Each upload's bytes and extension, every one decoded before anything is stored."""
    photos = [p for p in (photos or []) if p is not None]
    if len(photos) + already > MAX_PHOTOS:
        raise ValidationFailed(fields={field: [_("Add at most %(n)s photos.") % {"n": MAX_PHOTOS}]})
    return [check_upload(photo, field=field) for photo in photos]


def _store_photos(review, checked, *, part, written) -> int:
    for position, (data, ext) in enumerate(checked, 1):
        thumbnail = make_thumbnail(data, THUMB_SIZE, field="photos")
        photo = ReviewPhoto(review=review, part=part, position=position)
        photo.image.save(f"{uuid.uuid4().hex}.{ext}", ContentFile(data), save=False)
        written.append(photo.image)
        photo.thumbnail.save(f"{uuid.uuid4().hex}.jpg", thumbnail, save=False)
        written.append(photo.thumbnail)
        photo.save()
    return len(checked)


# --- ratings -------------------------------------------------------------------


def _lock_ratings(product_id, shop_id):
    """Lock the product's, then the shop's rating row (created on first use)."""
    ProductRating.objects.get_or_create(product_id=product_id)
    ShopRating.objects.get_or_create(shop_id=shop_id)
    ProductRating.objects.select_for_update().get(product_id=product_id)
    ShopRating.objects.select_for_update().get(shop_id=shop_id)


def refresh_ratings(*, product_id, shop_id) -> None:
    """Recount the product's and the shop's visible reviews into their rating rows
    (callers hold the locks of _lock_ratings)."""
    public = Review.objects.filter(status__in=PUBLIC)
    stars = {f"star_{n}": Count("pk", filter=Q(rating=n)) for n in range(1, 6)}
    product = public.filter(product_id=product_id).aggregate(
        count=Count("pk"), stars_total=Sum("rating"), **stars,
        with_photos=Count("pk", filter=Q(photo_count__gt=0)),
        with_follow_up=Count("pk", filter=Q(followed_up_at__isnull=False)))
    ProductRating.objects.filter(product_id=product_id).update(
        updated_at=timezone.now(), **{k: v or 0 for k, v in product.items()})
    shop = public.filter(shop_id=shop_id).aggregate(
        count=Count("pk"), stars_total=Sum("rating"), logistics_total=Sum("logistics"),
        service_total=Sum("service"), good=Count("pk", filter=Q(rating__gte=4)))
    ShopRating.objects.filter(shop_id=shop_id).update(updated_at=timezone.now(), **{k: v or 0 for k, v in shop.items()})


# --- buyer ---------------------------------------------------------------------


def _check_reviewable(line, now):
    order = line.order
    if order.status not in REVIEWABLE_ORDER_STATUSES:
        raise Conflict(_("Only completed orders can be reviewed."), fields={"order": [_("Not completed yet.")]})
    if order.completed_at and now > order.completed_at + timedelta(days=settings.REVIEW_WINDOW_DAYS):
        raise Conflict(_("The time to review this order is over."),
                       fields={"order": [_("Reviews are written within %(n)s days of completion.")
                                         % {"n": settings.REVIEW_WINDOW_DAYS}]})
    if line.is_gift:
        raise Conflict(_("Gifts are not reviewed."), fields={"line_id": [_("This line is a gift.")]})
    if queries.line_is_reviewed(line):
        raise Conflict(_("You have already reviewed this item."), fields={"line_id": [_("Already reviewed.")]})


def create_review(*, actor, order_id, line_id, rating, logistics, service, text="", photos=(), anonymous=False,
                  now=None) -> Review:
    """Review one line of the actor's completed order (404 for another buyer's
    order or line, 409 when the order is not completed, the window is over or
    the line is reviewed already; 422 for a bad score, text or photo)."""
    now = now or timezone.now()
    line = queries.buyer_line(actor, order_id=order_id, line_id=line_id)
    if line is None:
        raise NotFound(_("Order line not found."))
    _check_reviewable(line, now)
    scores = {"rating": check_stars(rating, "rating"), "logistics": check_stars(logistics, "logistics"),
              "service": check_stars(service, "service")}
    text = clean_text(text, "text", max_length=MAX_TEXT)
    checked = check_photos(photos)
    product_id = queries.product_of_line(line)
    if product_id is None:
        raise Conflict(_("This product no longer exists."), fields={"line_id": [_("The product is gone.")]})
    written = []
    try:
        with transaction.atomic():
            _lock_ratings(product_id, line.order.shop_id)
            try:
                with transaction.atomic():
                    review = Review.objects.create(
                        line=line, order=line.order, user=actor, shop_id=line.order.shop_id, product_id=product_id,
                        sku_name=line.sku_name, sku_name_en=line.sku_name_en, text=text, anonymous=bool(anonymous),
                        **scores)
            except IntegrityError:
                raise Conflict(_("You have already reviewed this item."),
                               fields={"line_id": [_("Already reviewed.")]}) from None
            if checked:
                review.photo_count = _store_photos(review, checked, part=ReviewPhoto.Part.REVIEW, written=written)
                review.save(update_fields=["photo_count"])
            refresh_ratings(product_id=product_id, shop_id=review.shop_id)
            emit("review.created", review_id=review.pk, product_id=product_id, shop_id=review.shop_id,
                 order_id=line.order_id, user_id=actor.pk, rating=review.rating)
    except BaseException:
        delete_written(written)
        raise
    return review


def add_follow_up(*, actor, review_id, text, photos=(), now=None) -> Review:
    """Append the one follow-up (追评) to the actor's review (404 for another's; 409
    for a second one or after FOLLOW_UP_WINDOW_DAYS)."""
    now = now or timezone.now()
    review = queries.buyer_review(actor, review_id)
    if review is None:
        raise NotFound(_("Review not found."))
    if review.followed_up_at is not None:
        raise Conflict(_("You have already added a follow-up."), fields={"follow_up": [_("Already followed up.")]})
    if not queries.can_follow_up(review, now=now):
        raise Conflict(_("The time to follow up this review is over."),
                       fields={"follow_up": [_("Follow-ups are added within %(n)s days of completion.")
                                             % {"n": settings.FOLLOW_UP_WINDOW_DAYS}]})
    text = clean_text(text, "follow_up", max_length=MAX_TEXT, required=True)
    checked = check_photos(photos)
    written = []
    try:
        with transaction.atomic():
            _lock_ratings(review.product_id, review.shop_id)
            changed = Review.objects.filter(pk=review.pk, followed_up_at__isnull=True).update(
                follow_up=text, followed_up_at=now)
            if not changed:
                raise Conflict(_("You have already added a follow-up."),
                               fields={"follow_up": [_("Already followed up.")]})
            review.refresh_from_db()
            if checked:
                review.photo_count += _store_photos(review, checked, part=ReviewPhoto.Part.FOLLOW_UP, written=written)
                review.save(update_fields=["photo_count"])
            refresh_ratings(product_id=review.product_id, shop_id=review.shop_id)
            emit("review_follow_up.written", review_id=review.pk, product_id=review.product_id, shop_id=review.shop_id,
                 user_id=actor.pk)
    except BaseException:
        delete_written(written)
        raise
    return review


# --- seller --------------------------------------------------------------------


def _reply(*, actor, shop, review_id, text, follow_up: bool, now=None) -> Review:
    now = now or timezone.now()
    review = queries.shop_review(shop, review_id)
    if review is None:
        raise NotFound(_("Review not found."))
    field = "follow_up_reply" if follow_up else "reply"
    stamp = f"{field.replace('reply', 'replied')}_at"
    if follow_up and review.followed_up_at is None:
        raise Conflict(_("There is no follow-up to reply to."), fields={field: [_("No follow-up yet.")]})
    if getattr(review, stamp) is not None:
        raise Conflict(_("The shop has already replied."), fields={field: [_("Already replied.")]})
    text = clean_text(text, field, max_length=MAX_REPLY, required=True)
    with transaction.atomic():
        changed = Review.objects.filter(pk=review.pk, shop=shop, **{f"{stamp}__isnull": True}).update(
            **{field: text, stamp: now})
        if not changed:
            raise Conflict(_("The shop has already replied."), fields={field: [_("Already replied.")]})
        emit("review.replied", review_id=review.pk, shop_id=shop.pk, user_id=review.user_id,
             actor_id=getattr(actor, "pk", None), part="follow_up" if follow_up else "review")
    review.refresh_from_db()
    return review


def reply(*, actor, shop, review_id, text, now=None) -> Review:
    """The shop's one reply to a review of its own (404 for another shop's; 409 for a second)."""
    return _reply(actor=actor, shop=shop, review_id=review_id, text=text, follow_up=False, now=now)


def reply_to_follow_up(*, actor, shop, review_id, text, now=None) -> Review:
    """The shop's one reply to the review's follow-up (409 before the follow-up, or a second time)."""
    return _reply(actor=actor, shop=shop, review_id=review_id, text=text, follow_up=True, now=now)


# --- operators -----------------------------------------------------------------


def _record(review, from_status, to_status, action, actor, note):
    ReviewStatusChange.objects.create(
        review=review, from_status=from_status, to_status=to_status, action=action,
        actor=actor if getattr(actor, "pk", None) else None, actor_label=actor_label(actor), reason=note)


def _moderate(*, actor, review_id, reason, action) -> Review:
    if not is_operator(actor):
        raise PermissionDenied(_("Only platform operators may hide or show reviews."))
    reason = clean_text(reason, "reason", max_length=MAX_REASON, required=True)
    review_id = check_id(getattr(review_id, "pk", review_id), "review_id")
    found = Review.objects.filter(pk=review_id).values("product_id", "shop_id").first()
    if found is None:
        raise NotFound(_("Review not found."))
    with transaction.atomic():
        _lock_ratings(found["product_id"], found["shop_id"])
        review = Review.objects.select_for_update().get(pk=review_id)
        apply_transition(review, action, transitions=TRANSITIONS, record=_record, actor=actor, note=reason,
                         hidden_reason=reason if action == Action.HIDE else "")
        refresh_ratings(product_id=review.product_id, shop_id=review.shop_id)
        emit(EVENTS[action], review_id=review.pk, product_id=review.product_id, shop_id=review.shop_id,
             actor_id=actor.pk, reason=reason)
    return review


def hide_review(*, actor, review_id, reason) -> Review:
    """Hide a visible review (409 when hidden already); only operators (403)."""
    return _moderate(actor=actor, review_id=review_id, reason=reason, action=Action.HIDE)


def show_review(*, actor, review_id, reason) -> Review:
    """Show a hidden review again (409 when it is visible); only operators (403)."""
    return _moderate(actor=actor, review_id=review_id, reason=reason, action=Action.SHOW)
