"""Promotion writes: sellers run their shop's promotions, operators the
platform's (no shop, funded by the platform).

What may change once a promotion is published is one rule (`_check_editable`):
before it starts, anything (nobody has bought at it yet); once it has started,
only its names and its end (moved earlier down to now, or later), because a
buyer who paid at a price must be able to see the same promotion that priced
the order. Stopping early is always allowed.
"""

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from shopyard.catalog.models import Category, Product, Sku
from shopyard.core.access import is_operator
from shopyard.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from shopyard.core.events import emit
from shopyard.core.statemachine import actor_label, apply_transition
from shopyard.core.validation import check_id

from .kinds import Kind, default_stacks_with
from .models import Promotion, PromotionStatusChange
from .rules import check_references, parse
from .state import TRANSITIONS, Action, Status

MAX_NAME = 100
MAX_TARGETS = 500
MAX_DURATION_DAYS = 366


def _record(promotion, from_status, to_status, action, actor, note):
    PromotionStatusChange.objects.create(
        promotion=promotion, from_status=from_status, to_status=to_status, action=action,
        actor=actor if getattr(actor, "pk", None) else None, actor_label=actor_label(actor), note=note[:200])


def parse_moment(value, field, errors):
    """A point in time: a datetime, or ISO 8601 text; without an offset it is read in the site's zone."""
    moment = value if isinstance(value, datetime) else parse_datetime(value.strip()) if isinstance(value, str) else None
    if moment is None:
        errors[field] = [_("Enter a date and time, e.g. 2026-12-12 00:00.")]
        return None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


def clean_name(value, field, errors, *, required):
    """A promotion's, coupon's or campaign's name: text, at most MAX_NAME characters, no NUL."""
    text = value.strip() if isinstance(value, str) else ""
    if value is not None and not isinstance(value, str):
        errors[field] = [_("Enter text.")]
    elif required and not text:
        errors[field] = [_("This field is required.")]
    elif len(text) > MAX_NAME:
        errors[field] = [_("Use at most %(n)s characters.") % {"n": MAX_NAME}]
    elif "\x00" in text:
        errors[field] = [_("Remove the NUL character.")]
    return text


def _window(starts_at, ends_at, errors):
    if starts_at and ends_at:
        if ends_at <= starts_at:
            errors["ends_at"] = [_("The end must be after the start.")]
        elif (ends_at - starts_at).days > MAX_DURATION_DAYS:
            errors["ends_at"] = [_("A promotion runs at most %(n)s days.") % {"n": MAX_DURATION_DAYS}]


def _stacks_with(value, kind, errors):
    if value is None:
        return sorted(default_stacks_with(kind))
    if not isinstance(value, list) or any(v not in Kind.values for v in value):
        errors["stacks_with"] = [_("Choose kinds of promotion from the list.")]
        return None
    return sorted(set(value))


def scope_targets(shop, scope, target_ids, errors):
    """The scope's rows, each one the shop's own (a foreign or unknown id is refused, by its position)."""
    if scope == Promotion.Scope.ALL:
        return []
    if not isinstance(target_ids, list) or not target_ids:
        errors["target_ids"] = [_("Choose at least one.")]
        return None
    if len(target_ids) > MAX_TARGETS:
        errors["target_ids"] = [_("Choose at most %(n)s.") % {"n": MAX_TARGETS}]
        return None
    ids = []
    for i, raw in enumerate(target_ids):
        try:
            ids.append(check_id(raw, f"target_ids[{i}]"))
        except ValidationFailed as exc:
            errors.update(exc.fields)
    if errors:
        return None
    if scope == Promotion.Scope.CATEGORIES:
        found = Category.objects.filter(pk__in=ids)
    elif scope == Promotion.Scope.PRODUCTS:
        found = Product.objects.filter(pk__in=ids)
        found = found.filter(shop=shop) if shop else found
    else:
        found = Sku.objects.filter(pk__in=ids)
        found = found.filter(product__shop=shop) if shop else found
    found = {row.pk: row for row in found}
    for i, pk in enumerate(ids):
        if pk not in found:
            errors[f"target_ids[{i}]"] = [_("Not found in your shop.")]
    return None if errors else [found[pk] for pk in dict.fromkeys(ids)]


SHOP_KINDS = [Kind.TIME_DISCOUNT, Kind.SPEND_TIERS, Kind.MULTI_BUY, Kind.BUNDLE_PRICE, Kind.GIFT, Kind.ADD_ON]
PLATFORM_KINDS = [Kind.TIME_DISCOUNT, Kind.CROSS_SHOP_TIERS]


def kinds_for(shop) -> list:
    """The kinds a shop may run, or the platform (shop None): spend-and-save across shops
    (跨店满减) is the platform's, within one shop the shop's."""
    return PLATFORM_KINDS if shop is None else SHOP_KINDS


def _authorise(actor, shop):
    """A shop's promotions are its members' business (callers resolve `shop` with
    shops.queries.shop_for_seller(write=True)); the platform's need an operator."""
    if shop is None and not is_operator(actor):
        raise PermissionDenied(_("Only platform operators run platform campaigns."))


def create_promotion(*, actor, shop, kind, name, name_en="", starts_at, ends_at, rules, scope="all",
                     target_ids=None, stacks_with=None, currency=None) -> Promotion:
    """A draft promotion of `shop` (None: the platform). Nothing prices at it until it is published."""
    _authorise(actor, shop)
    errors = {}
    if kind not in [k.value for k in kinds_for(shop)]:
        raise ValidationFailed(fields={"kind": [_("Choose a kind of promotion.")]})
    name = clean_name(name, "name", errors, required=True)
    name_en = clean_name(name_en, "name_en", errors, required=False)
    starts = parse_moment(starts_at, "starts_at", errors)
    ends = parse_moment(ends_at, "ends_at", errors)
    _window(starts, ends, errors)
    if ends and ends <= timezone.now():
        errors["ends_at"] = [_("The end must be in the future.")]
    currency = shop.currency if shop else (currency or "CNY")
    rule = None
    try:
        rule = parse(kind, rules, currency=currency)
    except ValidationFailed as exc:
        errors.update(exc.fields)
    if scope not in Promotion.Scope.values:
        errors["scope"] = [_("Choose a scope.")]
    stacks = _stacks_with(stacks_with, kind, errors)
    targets = scope_targets(shop, scope, target_ids, errors) if "scope" not in errors else None
    if rule is not None and not errors:
        check_references(kind, rule, shop=shop, scope=scope, targets=targets, errors=errors)
    if errors:
        raise ValidationFailed(fields=errors)
    with transaction.atomic():
        promotion = Promotion.objects.create(
            shop=shop, kind=kind, name=name, name_en=name_en, starts_at=starts, ends_at=ends, rules=rules,
            scope=scope, stacks_with=stacks, created_by=actor, currency=currency)
        _set_targets(promotion, targets)
        _record(promotion, "", Status.DRAFT, "create", actor, "")
        emit("promotion.created", promotion_id=promotion.pk, shop_id=promotion.shop_id)
    return promotion


def _set_targets(promotion, targets):
    promotion.categories.clear()
    promotion.products.clear()
    promotion.skus.clear()
    relation = {Promotion.Scope.CATEGORIES: promotion.categories, Promotion.Scope.PRODUCTS: promotion.products,
                Promotion.Scope.SKUS: promotion.skus}.get(promotion.scope)
    if relation is not None and targets:
        relation.set(targets)


def _current_targets(promotion) -> list:
    relation = {Promotion.Scope.CATEGORIES: promotion.categories, Promotion.Scope.PRODUCTS: promotion.products,
                Promotion.Scope.SKUS: promotion.skus}.get(promotion.scope)
    return list(relation.all()) if relation is not None else []


def _lookup(*, shop, promotion_id, lock=False) -> Promotion:
    qs = Promotion.objects.filter(shop=shop) if shop else Promotion.objects.filter(shop__isnull=True)
    if lock:
        qs = qs.select_for_update()
    promotion = qs.filter(pk=check_id(promotion_id, "promotion_id")).first()
    if promotion is None:
        raise NotFound(_("Promotion not found."))
    return promotion


def shop_promotion(*, shop, promotion_id) -> Promotion:
    """A promotion of `shop` (None: of the platform); another shop's id is a 404."""
    return _lookup(shop=shop, promotion_id=promotion_id)


def started(promotion, now=None) -> bool:
    """Whether buyers may already have been priced by it (published and past its start)."""
    return promotion.status != Status.DRAFT and promotion.starts_at <= (now or timezone.now())


UNCHANGED = object()


def update_promotion(*, actor, shop, promotion_id, **changes) -> Promotion:
    """Change a promotion. A draft, or a published one that has not started, takes any
    change; a started one only new names and a new end, never before now (_check_editable)."""
    _authorise(actor, shop)
    allowed = {"name", "name_en", "starts_at", "ends_at", "rules", "scope", "target_ids", "stacks_with"}
    unknown = sorted(set(changes) - allowed)
    if unknown:
        raise ValidationFailed(fields={k: [_("This field cannot be changed.")] for k in unknown})
    with transaction.atomic():
        promotion = _lookup(shop=shop, promotion_id=promotion_id, lock=True)
        if promotion.status == Status.STOPPED:
            raise Conflict(_("This promotion has ended; it cannot be changed."),
                           fields={"status": [_("A stopped promotion cannot be changed.")]})
        now = timezone.now()
        if started(promotion, now):
            frozen = sorted(set(changes) - {"name", "name_en", "ends_at"})
            if frozen:
                message = _("This promotion has started: only its names and its end can change, "
                            "so buyers keep the prices they were given.")
                raise Conflict(message, fields={k: [message] for k in frozen}, code="promotion_started")
        errors = {}
        if "name" in changes:
            promotion.name = clean_name(changes["name"], "name", errors, required=True)
        if "name_en" in changes:
            promotion.name_en = clean_name(changes["name_en"], "name_en", errors, required=False)
        if "starts_at" in changes:
            promotion.starts_at = parse_moment(changes["starts_at"], "starts_at", errors) or promotion.starts_at
        if "ends_at" in changes:
            ends = parse_moment(changes["ends_at"], "ends_at", errors)
            if ends and ends <= now:
                errors["ends_at"] = [_("The end must be in the future; stop the promotion to end it now.")]
            promotion.ends_at = ends or promotion.ends_at
        _window(promotion.starts_at, promotion.ends_at, errors)
        rule = None
        if "rules" in changes:
            try:
                rule = parse(promotion.kind, changes["rules"], currency=promotion.currency)
                promotion.rules = changes["rules"]
            except ValidationFailed as exc:
                errors.update(exc.fields)
        if "stacks_with" in changes:
            promotion.stacks_with = _stacks_with(changes["stacks_with"], promotion.kind, errors)
        targets = UNCHANGED
        if "scope" in changes or "target_ids" in changes:
            scope = changes.get("scope", promotion.scope)
            if scope not in Promotion.Scope.values:
                errors["scope"] = [_("Choose a scope.")]
            else:
                promotion.scope = scope
                targets = scope_targets(shop, scope, changes.get("target_ids"), errors)
        if not errors and (rule is not None or targets is not UNCHANGED):
            check_references(promotion.kind, rule or parse(promotion.kind, promotion.rules, currency=promotion.currency),
                             shop=shop, scope=promotion.scope,
                             targets=_current_targets(promotion) if targets is UNCHANGED else targets, errors=errors)
        if errors:
            raise ValidationFailed(fields=errors)
        promotion.save()
        if targets is not UNCHANGED:
            _set_targets(promotion, targets)
        emit("promotion.changed", promotion_id=promotion.pk, shop_id=promotion.shop_id)
    return promotion


def _act(*, actor, shop, promotion_id, action, event):
    _authorise(actor, shop)
    with transaction.atomic():
        promotion = _lookup(shop=shop, promotion_id=promotion_id, lock=True)
        stamp = {Action.PUBLISH: "published_at", Action.STOP: "stopped_at"}[action]
        if action == Action.PUBLISH and promotion.ends_at <= timezone.now():
            raise ValidationFailed(fields={"ends_at": [_("This promotion has already ended; move its end first.")]})
        apply_transition(promotion, action, transitions=TRANSITIONS, record=_record, actor=actor,
                         **{stamp: timezone.now()})
        emit(event, promotion_id=promotion.pk, shop_id=promotion.shop_id)
    return promotion


def publish_promotion(*, actor, shop, promotion_id) -> Promotion:
    return _act(actor=actor, shop=shop, promotion_id=promotion_id, action=Action.PUBLISH, event="promotion.published")


def stop_promotion(*, actor, shop, promotion_id) -> Promotion:
    return _act(actor=actor, shop=shop, promotion_id=promotion_id, action=Action.STOP, event="promotion.stopped")
