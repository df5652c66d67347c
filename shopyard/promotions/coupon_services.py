"""Coupon writes: sellers and operators create, publish and stop templates and
issue coupons to chosen shoppers; shoppers claim them; checkout locks one on
its orders; payment and cancellation events settle it.

Race safety (docs/promotions.md, "Coupons"):
- total quantity: `issued` rises only through a conditional UPDATE
  (`issued + n <= total_quantity`), backed by a CHECK constraint;
- per-user limit: the shopper's row is locked while their coupons of the
  template are counted, and (template, user, claim_number) is unique;
- one use per coupon: checkout moves it available → locked with a conditional
  UPDATE, so of two racing checkouts exactly one gets it; the other's whole
  transaction rolls back.
Lock order: template row, then user rows in id order, then user coupon rows.
"""

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count, F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from shopyard.catalog.services import parse_price
from shopyard.core.access import is_operator
from shopyard.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from shopyard.core.events import emit
from shopyard.core.money import format_price
from shopyard.core.statemachine import actor_label, apply_transition
from shopyard.core.validation import check_id

from .coupon_state import (
    TEMPLATE_TRANSITIONS,
    CouponAction,
    CouponStatus,
    TemplateAction,
    TemplateStatus,
    from_state,
)
from .models import CouponTemplate, CouponTemplateStatusChange, UserCoupon
from .rules import parse_count, parse_percent, parse_threshold
from .services import clean_name, parse_moment, scope_targets

MAX_TOTAL = 10_000_000  # more than any campaign hands out; a typo's extra zeros are refused
MAX_PER_USER = 100
MAX_VALID_DAYS = 366
MAX_ISSUE = 1000  # usernames per bulk issue


def _record(template, from_status, to_status, action, actor, note):
    CouponTemplateStatusChange.objects.create(
        template=template, from_status=from_status, to_status=to_status, action=action,
        actor=actor if getattr(actor, "pk", None) else None, actor_label=actor_label(actor), note=note[:200])


def _authorise(actor, shop):
    """A shop's coupons are its members' business (callers resolve `shop` with
    shops.queries.shop_for_seller(write=True)); platform coupons need an operator."""
    if shop is None and not is_operator(actor):
        raise PermissionDenied(_("Only platform operators run platform coupons."))


def _benefit(data, currency, errors) -> dict:
    """The money rule of a template: the one check of what a coupon may take off."""
    benefit = data.get("benefit")
    out = {"benefit": benefit, "threshold": Decimal(0), "amount_off": None, "percent_off": None, "max_off": None}
    if benefit not in CouponTemplate.Benefit.values:
        errors["benefit"] = [_("Choose amount off, percentage off or free shipping.")]
        return out
    if data.get("threshold") not in (None, ""):
        threshold = parse_threshold(data["threshold"], "threshold", errors, currency=currency)
        out["threshold"] = threshold if threshold is not None else Decimal(0)
    if benefit == CouponTemplate.Benefit.AMOUNT:
        off = parse_price(data.get("amount_off"), "amount_off", errors, currency=currency)
        if off is not None and out["threshold"] and off >= out["threshold"]:
            errors["amount_off"] = [_("The amount off must be less than the minimum spend.")]
        out["amount_off"] = off
    elif benefit == CouponTemplate.Benefit.PERCENT:
        out["percent_off"] = parse_percent(data.get("percent_off"), "percent_off", errors)
        if data.get("max_off") not in (None, ""):
            out["max_off"] = parse_price(data["max_off"], "max_off", errors, currency=currency)
    return out


def create_template(*, actor, shop, name, benefit, total_quantity, claim_starts_at, claim_ends_at, name_en="",
                    threshold=None, amount_off=None, percent_off=None, max_off=None, scope="all", target_ids=None,
                    per_user_limit=1, validity="fixed", valid_from=None, valid_until=None, valid_days=None,
                    currency=None) -> CouponTemplate:
    """A draft coupon template of `shop` (None: the platform's, funded by the platform).
    Nobody can claim it until it is published."""
    _authorise(actor, shop)
    errors = {}
    currency = shop.currency if shop else (currency or "CNY")
    name = clean_name(name, "name", errors, required=True)
    name_en = clean_name(name_en, "name_en", errors, required=False)
    money = _benefit({"benefit": benefit, "threshold": threshold, "amount_off": amount_off,
                      "percent_off": percent_off, "max_off": max_off}, currency, errors)
    total = parse_count(total_quantity, "total_quantity", errors, low=1, high=MAX_TOTAL)
    per_user = parse_count(per_user_limit, "per_user_limit", errors, low=1, high=MAX_PER_USER)
    opens = parse_moment(claim_starts_at, "claim_starts_at", errors)
    closes = parse_moment(claim_ends_at, "claim_ends_at", errors)
    now = timezone.now()
    if opens and closes and closes <= opens:
        errors["claim_ends_at"] = [_("The end must be after the start.")]
    elif closes and closes <= now:
        errors["claim_ends_at"] = [_("The end must be in the future.")]
    dates = {"valid_from": None, "valid_until": None, "valid_days": None}
    if validity == CouponTemplate.Validity.FIXED:
        dates["valid_from"] = parse_moment(valid_from, "valid_from", errors)
        dates["valid_until"] = parse_moment(valid_until, "valid_until", errors)
        if dates["valid_from"] and dates["valid_until"]:
            if dates["valid_until"] <= dates["valid_from"]:
                errors["valid_until"] = [_("The end must be after the start.")]
            elif (dates["valid_until"] - dates["valid_from"]).days > MAX_VALID_DAYS:
                errors["valid_until"] = [_("A coupon is valid for at most %(n)s days.") % {"n": MAX_VALID_DAYS}]
            elif dates["valid_until"] <= now:
                errors["valid_until"] = [_("The end must be in the future.")]
            elif closes and closes > dates["valid_until"]:
                errors["claim_ends_at"] = [_("Claiming must close by the time the coupons expire.")]
    elif validity == CouponTemplate.Validity.DAYS:
        dates["valid_days"] = parse_count(valid_days, "valid_days", errors, low=1, high=MAX_VALID_DAYS)
    else:
        errors["validity"] = [_("Choose fixed dates or a number of days after claiming.")]
    if scope not in CouponTemplate.Scope.values:
        errors["scope"] = [_("Choose a scope.")]
    targets = scope_targets(shop, scope, target_ids, errors) if "scope" not in errors else None
    if errors:
        raise ValidationFailed(fields=errors)
    with transaction.atomic():
        template = CouponTemplate.objects.create(
            shop=shop, name=name, name_en=name_en, currency=currency, total_quantity=total, per_user_limit=per_user,
            validity=validity, claim_starts_at=opens, claim_ends_at=closes, scope=scope, created_by=actor,
            **money, **dates)
        if scope == CouponTemplate.Scope.CATEGORIES:
            template.categories.set(targets)
        elif scope == CouponTemplate.Scope.PRODUCTS:
            template.products.set(targets)
        _record(template, "", TemplateStatus.DRAFT, "create", actor, "")
        emit("coupon_template.created", template_id=template.pk, shop_id=template.shop_id)
    return template


def _lookup(*, shop, template_id, lock=False) -> CouponTemplate:
    qs = CouponTemplate.objects.filter(shop=shop) if shop else CouponTemplate.objects.filter(shop__isnull=True)
    if lock:
        qs = qs.select_for_update()
    template = qs.filter(pk=check_id(template_id, "template_id")).first()
    if template is None:
        raise NotFound(_("Coupon not found."))
    return template


def shop_template(*, shop, template_id) -> CouponTemplate:
    """A template of `shop` (None: of the platform); another shop's id is a 404."""
    return _lookup(shop=shop, template_id=template_id)


def _act(*, actor, shop, template_id, action, stamp, event):
    _authorise(actor, shop)
    with transaction.atomic():
        template = _lookup(shop=shop, template_id=template_id, lock=True)
        if action == TemplateAction.PUBLISH and template.claim_ends_at <= timezone.now():
            raise ValidationFailed(fields={"claim_ends_at": [_("Claiming has already closed; this coupon cannot be published.")]})
        apply_transition(template, action, transitions=TEMPLATE_TRANSITIONS, record=_record, actor=actor,
                         **{stamp: timezone.now()})
        emit(event, template_id=template.pk, shop_id=template.shop_id)
    return template


def publish_template(*, actor, shop, template_id) -> CouponTemplate:
    return _act(actor=actor, shop=shop, template_id=template_id, action=TemplateAction.PUBLISH,
                stamp="published_at", event="coupon_template.published")


def stop_template(*, actor, shop, template_id) -> CouponTemplate:
    """No more claims or issues; coupons already held stay usable until they expire."""
    return _act(actor=actor, shop=shop, template_id=template_id, action=TemplateAction.STOP,
                stamp="stopped_at", event="coupon_template.stopped")


# --- holding coupons ---------------------------------------------------------------------


def validity_for(template, claimed_at) -> tuple:
    if template.validity == CouponTemplate.Validity.DAYS:
        return claimed_at, claimed_at + timedelta(days=template.valid_days)
    return template.valid_from, template.valid_until


def _take_from_stock(template_id, n, now, *, window=True) -> bool:
    """Raise the issued counter by `n` if the template is active (and, for claims, inside its
    claim window) and has `n` left: the one conditional UPDATE that keeps the total."""
    qs = CouponTemplate.objects.filter(pk=template_id, status=TemplateStatus.ACTIVE,
                                       issued__lte=F("total_quantity") - n)
    if window:
        qs = qs.filter(claim_starts_at__lte=now, claim_ends_at__gt=now)
    qs = qs.exclude(validity=CouponTemplate.Validity.FIXED, valid_until__lte=now)
    return qs.update(issued=F("issued") + n) == 1


def why_not_claimable(template, now) -> str:
    """Why a template hands out nothing now (for the error a shopper reads)."""
    if template.status == TemplateStatus.STOPPED:
        return _("This coupon is no longer being handed out.")
    if template.status != TemplateStatus.ACTIVE:
        return _("This coupon is not available yet.")
    if template.validity == CouponTemplate.Validity.FIXED and template.valid_until <= now:
        return _("This coupon has expired.")
    if now < template.claim_starts_at:
        return _("Claiming opens at %(when)s.") % {"when": f"{timezone.localtime(template.claim_starts_at):%Y-%m-%d %H:%M}"}
    if now >= template.claim_ends_at:
        return _("Claiming has closed.")
    return _("All coupons have been claimed.")


def _new_coupon(template, user, number, now, source) -> UserCoupon:
    start, end = validity_for(template, now)
    return UserCoupon(template=template, user=user, claim_number=number, source=source, claimed_at=now,
                      valid_from=start, valid_until=end)


def claim_coupon(*, actor, template_id) -> UserCoupon:
    """The shopper claims one coupon of a published template: refused when it is stopped,
    outside its claim window, all claimed, or the shopper already holds their limit."""
    template_id = check_id(template_id, "template_id")
    template = CouponTemplate.objects.filter(pk=template_id).exclude(status=TemplateStatus.DRAFT).first()
    if template is None:
        raise NotFound(_("Coupon not found."))
    now = timezone.now()
    with transaction.atomic():
        if not _take_from_stock(template.pk, 1, now):
            template.refresh_from_db()
            message = why_not_claimable(template, now)
            raise Conflict(message, fields={"template_id": [message]}, code="coupon_unavailable")
        # the shopper's row lock serialises their own concurrent claims, so the count holds
        get_user_model().objects.select_for_update().filter(pk=actor.pk).first()
        held = UserCoupon.objects.filter(template=template, user=actor).count()
        if held >= template.per_user_limit:
            message = _("You already hold the most coupons of this kind allowed (%(n)s).") % {"n": template.per_user_limit}
            raise Conflict(message, fields={"template_id": [message]}, code="coupon_limit_reached")
        coupon = _new_coupon(template, actor, held + 1, now, UserCoupon.Source.CLAIMED)
        coupon.save()
        emit("coupon.claimed", coupon_id=coupon.pk, template_id=template.pk, user_id=actor.pk)
    return coupon


@dataclass
class IssueReport:
    issued: list = field(default_factory=list)  # (username, UserCoupon)
    skipped: list = field(default_factory=list)  # (username, reason)


def issue_coupons(*, actor, shop, template_id, usernames) -> IssueReport:
    """Give one coupon of a published template to each named shopper (no claim window needed).
    Unknown names, shoppers at the per-user limit and those beyond what is left of the
    total are reported with the reason; the rest get one, all in one transaction."""
    _authorise(actor, shop)
    if not isinstance(usernames, list) or not usernames or not all(isinstance(u, str) for u in usernames):
        raise ValidationFailed(fields={"usernames": [_("Give a list of usernames.")]})
    names = list(dict.fromkeys(u.strip() for u in usernames if u.strip()))
    if not names:
        raise ValidationFailed(fields={"usernames": [_("Give a list of usernames.")]})
    if len(names) > MAX_ISSUE:
        raise ValidationFailed(fields={"usernames": [_("At most %(n)s usernames at a time.") % {"n": MAX_ISSUE}]})
    report = IssueReport()
    now = timezone.now()
    with transaction.atomic():
        template = _lookup(shop=shop, template_id=template_id, lock=True)
        if template.status != TemplateStatus.ACTIVE or (
                template.validity == CouponTemplate.Validity.FIXED and template.valid_until <= now):
            message = why_not_claimable(template, now)
            raise Conflict(message, fields={"template_id": [message]}, code="coupon_unavailable")
        users = {u.username: u for u in get_user_model().objects.select_for_update()
                 .filter(username__in=names, is_active=True).order_by("pk")}
        held = dict(UserCoupon.objects.filter(template=template, user__in=users.values())
                    .values("user_id").annotate(n=Count("id"))
                    .values_list("user_id", "n"))
        left = template.remaining
        chosen = []
        for name in names:
            user = users.get(name)
            if user is None:
                report.skipped.append((name, _("No such user.")))
            elif held.get(user.pk, 0) >= template.per_user_limit:
                report.skipped.append((name, _("Already holds the most coupons of this kind allowed.")))
            elif len(chosen) >= left:
                report.skipped.append((name, _("No coupons left of the total quantity.")))
            else:
                chosen.append(user)
        if chosen and not _take_from_stock(template.pk, len(chosen), now, window=False):
            raise Conflict(_("No coupons left of the total quantity."), code="coupon_unavailable")
        coupons = UserCoupon.objects.bulk_create(
            [_new_coupon(template, user, held.get(user.pk, 0) + 1, now, UserCoupon.Source.ISSUED) for user in chosen])
        report.issued = [(user.username, coupon) for user, coupon in zip(chosen, coupons, strict=True)]
        emit("coupon.issued", template_id=template.pk, user_ids=[u.pk for u in chosen], actor_id=actor.pk)
    return report


# --- using coupons -----------------------------------------------------------------------


def lock_for_checkout(*, actor, coupon_id, orders, checkout_id) -> None:
    """Checkout takes the coupon for `orders` (inside place_order's transaction): one
    conditional UPDATE available → locked, so of two racing checkouts only one wins;
    the loser raises Conflict and its whole checkout rolls back."""
    now = timezone.now()
    taken = UserCoupon.objects.filter(
        pk=coupon_id, user=actor, status=from_state(CouponAction.LOCK), valid_from__lte=now, valid_until__gt=now,
    ).update(status=CouponStatus.LOCKED, checkout_id=checkout_id, locked_at=now)
    if taken != 1:
        message = _("This coupon was just used on another order. Choose another coupon or none.")
        raise Conflict(message, fields={"coupons": [message]}, code="coupon_used")
    UserCoupon.orders.through.objects.bulk_create(
        [UserCoupon.orders.through(usercoupon_id=coupon_id, order_id=o.pk) for o in orders])


def on_order_paid(payload) -> None:
    """A paid order uses its coupons for good (locked → used; a replay changes nothing)."""
    ids = list(UserCoupon.orders.through.objects.filter(order_id=payload["order_id"])
               .values_list("usercoupon_id", flat=True))
    if ids:
        UserCoupon.objects.filter(pk__in=ids, status=from_state(CouponAction.CONFIRM)).update(
            status=CouponStatus.USED, used_at=timezone.now())


def on_order_cancelled(payload) -> None:
    """An unpaid order cancelled (by the buyer or the timeout) gives its coupons back once
    every order each coupon is on is cancelled unpaid (a platform coupon spread over two
    shops' orders stays locked while one of them may still be paid). The conditional
    UPDATE from locked, and unlinking the orders, make a replayed event a no-op."""
    from shopyard.orders.models import Order
    from shopyard.orders.state import Status as OrderStatus

    links = UserCoupon.orders.through.objects
    for coupon_id in links.filter(order_id=payload["order_id"]).values_list("usercoupon_id", flat=True):
        with transaction.atomic():
            coupon = UserCoupon.objects.select_for_update().filter(
                pk=coupon_id, status=from_state(CouponAction.RETURN)).first()
            if coupon is None:
                continue
            order_ids = list(links.filter(usercoupon_id=coupon_id).values_list("order_id", flat=True))
            open_orders = Order.objects.filter(pk__in=order_ids).filter(
                ~Q(status=OrderStatus.CANCELLED) | Q(paid_at__isnull=False))
            if open_orders.exists():
                continue
            links.filter(usercoupon_id=coupon_id).delete()
            UserCoupon.objects.filter(pk=coupon_id).update(status=CouponStatus.AVAILABLE, checkout_id=None,
                                                           locked_at=None, returned_count=F("returned_count") + 1)
            emit("coupon.returned", coupon_id=coupon_id, order_ids=order_ids)


def return_coupons_of_refunded_order(*, order_id, actor=None) -> int:
    """An order refunded in full (every line's paid amount returned, after-sales) gives its
    used coupons back, where the coupon's rules allow it: the coupon is still valid, and
    every order it was used on is refunded in full too (a platform coupon spread over two
    shops' orders stays used while one of them keeps its goods). Returns how many came back;
    a second call returns none (the conditional UPDATE from used)."""
    from shopyard.orders.models import Order
    from shopyard.payments.queries import left_to_refund

    now = timezone.now()
    links = UserCoupon.orders.through.objects
    returned = 0
    for coupon_id in links.filter(order_id=order_id).values_list("usercoupon_id", flat=True):
        order_ids = list(links.filter(usercoupon_id=coupon_id).values_list("order_id", flat=True))
        orders = Order.objects.filter(pk__in=order_ids).prefetch_related("lines")
        if any(left > 0 for order in orders for left in left_to_refund(order).values()):
            continue
        with transaction.atomic():
            taken = UserCoupon.objects.filter(
                pk=coupon_id, status=from_state(CouponAction.RETURN_REFUNDED), valid_until__gt=now,
            ).update(status=CouponStatus.AVAILABLE, checkout_id=None, locked_at=None, used_at=None,
                     returned_count=F("returned_count") + 1)
            if taken:
                links.filter(usercoupon_id=coupon_id).delete()
                emit("coupon.returned", coupon_id=coupon_id, order_ids=order_ids)
                returned += 1
    return returned


def describe_benefit(template) -> tuple[str, str]:
    """("满200减20", "¥20 off ¥200"): what the coupon gives, in Chinese and English."""
    currency = template.currency
    if template.benefit == CouponTemplate.Benefit.FREE_SHIPPING:
        if template.threshold:
            spend = format_price(template.threshold, currency)
            return f"满{spend}包邮", f"Free shipping over {spend}"
        return "包邮券", "Free shipping"
    if template.benefit == CouponTemplate.Benefit.AMOUNT:
        off = format_price(template.amount_off, currency)
        if template.threshold:
            spend = format_price(template.threshold, currency)
            return f"满{spend}减{off}", f"{off} off {spend}"
        return f"{off}无门槛", f"{off} off"
    zhe = (Decimal(100) - template.percent_off) / 10
    zh, en = f"{zhe.normalize():f}折", f"{template.percent_off.normalize():f}% off"
    if template.threshold:
        spend = format_price(template.threshold, currency)
        zh, en = f"满{spend}打{zh}", f"{en} over {spend}"
    if template.max_off:
        cap = format_price(template.max_off, currency)
        zh, en = f"{zh}(最多减{cap})", f"{en} (up to {cap})"
    return zh, en
