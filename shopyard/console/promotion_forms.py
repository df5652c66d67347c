"""The promotion editor's form state: parsed from POST, built from a promotion,
and turned into what promotions.services.create_promotion/update_promotion
take. The form fits the kind (a tiers editor for 满减, percent or fixed price
for a limited-time discount, the gift SKU picker, ...); the rules it builds are
plain text values that promotions.rules checks, so the form holds no rule.

Plain HTML, no JavaScript needed: "add a tier" is a server round trip."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.utils import timezone
from django.utils.translation import gettext as _

from shopyard.core.errors import ValidationFailed
from shopyard.core.validation import parse_int
from shopyard.promotions.kinds import Kind, default_stacks_with
from shopyard.promotions.rules import MAX_TIERS, parse

INPUT_FORMAT = "%Y-%m-%dT%H:%M"  # <input type="datetime-local">
TIER_ROWS = 3  # tier rows a new spend-and-save form shows


@dataclass
class TierRow:
    threshold: str = ""
    type: str = "amount"  # amount | percent
    value: str = ""
    errors: list = field(default_factory=list)  # the service's messages for this row

    @property
    def is_blank(self) -> bool:
        return not (self.threshold or self.value)


@dataclass
class PromotionForm:
    kind: str
    name: str = ""
    name_en: str = ""
    starts_at: str = ""
    ends_at: str = ""
    scope: str = "all"
    target_ids: list = field(default_factory=list)  # as typed (text)
    exclusive: bool = False
    # the kind's own fields, as typed
    values: dict = field(default_factory=dict)
    tiers: list = field(default_factory=list)

    def value(self, name, default=""):
        return self.values.get(name, default)

    @property
    def target_set(self) -> set:
        return set(self.target_ids)


KIND_FIELDS = {
    Kind.TIME_DISCOUNT: ("mode", "percent_off", "price"),
    Kind.SPEND_TIERS: ("repeat", "cap"),
    Kind.CROSS_SHOP_TIERS: ("repeat", "cap"),
    Kind.MULTI_BUY: ("mode", "count", "percent_off"),
    Kind.BUNDLE_PRICE: ("count", "price"),
    Kind.GIFT: ("mode", "threshold", "min_quantity", "gift_sku_id", "gift_quantity"),
    Kind.ADD_ON: ("threshold", "sku_id", "price", "limit"),
}
DEFAULT_MODE = {Kind.TIME_DISCOUNT: "percent_off", Kind.MULTI_BUY: "nth", Kind.GIFT: "threshold"}


def _text(post, name) -> str:
    value = post.get(name, "")
    return value.strip() if isinstance(value, str) else ""


def _local(moment) -> str:
    return timezone.localtime(moment).strftime(INPUT_FORMAT) if moment else ""


def blank(kind) -> PromotionForm:
    now = timezone.localtime().replace(second=0, microsecond=0)
    form = PromotionForm(kind=kind, starts_at=now.strftime(INPUT_FORMAT),
                         ends_at=(now + timedelta(days=7)).strftime(INPUT_FORMAT))
    form.values = {"mode": DEFAULT_MODE.get(kind, ""), "gift_quantity": "1", "limit": "1"}
    if kind in (Kind.SPEND_TIERS, Kind.CROSS_SHOP_TIERS):
        form.tiers = [TierRow() for _i in range(TIER_ROWS)]
    return form


def from_post(kind, post) -> PromotionForm:
    form = PromotionForm(
        kind=kind, name=_text(post, "name"), name_en=_text(post, "name_en"), starts_at=_text(post, "starts_at"),
        ends_at=_text(post, "ends_at"), scope=_text(post, "scope") or "all",
        target_ids=[v.strip() for v in post.getlist(f"target_{_text(post, 'scope')}") if v.strip()][:500],
        exclusive=post.get("exclusive") == "1",
        values={name: _text(post, name) for name in KIND_FIELDS.get(kind, ())},
    )
    if kind in (Kind.SPEND_TIERS, Kind.CROSS_SHOP_TIERS):
        rows = parse_int(post.get("tier_rows"), min_value=0, max_value=MAX_TIERS) or 0
        form.tiers = [TierRow(threshold=_text(post, f"tier-{i}-threshold"),
                              type="percent" if post.get(f"tier-{i}-type") == "percent" else "amount",
                              value=_text(post, f"tier-{i}-value")) for i in range(rows)]
        form.values["repeat"] = "1" if post.get("repeat") == "1" else ""
    return form


def add_tier(form: PromotionForm) -> None:
    if len(form.tiers) < MAX_TIERS:
        form.tiers.append(TierRow())


def from_promotion(promotion) -> PromotionForm:
    """The form as the stored promotion fills it (rules read back into the kind's fields)."""
    kind, rules = promotion.kind, promotion.rules or {}
    form = PromotionForm(kind=kind, name=promotion.name, name_en=promotion.name_en,
                         starts_at=_local(promotion.starts_at), ends_at=_local(promotion.ends_at),
                         scope=promotion.scope, target_ids=[str(pk) for pk in _target_ids(promotion)],
                         exclusive=not promotion.stacks_with)
    values = {"gift_quantity": "1", "limit": "1"}  # the rules' defaults when left out
    values.update({k: str(v) for k, v in rules.items() if not isinstance(v, list | dict | bool)})
    if kind == Kind.TIME_DISCOUNT:
        values["mode"] = "price" if "price" in rules else "percent_off"
    elif kind == Kind.MULTI_BUY:
        values["mode"] = "nth" if "nth" in rules else "min_quantity"
        values["count"] = str(rules.get("nth") or rules.get("min_quantity") or "")
    elif kind == Kind.GIFT:
        values["mode"] = "threshold" if "threshold" in rules else "min_quantity"
    elif kind in (Kind.SPEND_TIERS, Kind.CROSS_SHOP_TIERS):
        values["repeat"] = "1" if rules.get("repeat") else ""
        values["cap"] = str(rules.get("cap") or "")
        form.tiers = [TierRow(threshold=str(t.get("threshold", "")),
                              type="percent" if "percent_off" in t else "amount",
                              value=str(t.get("percent_off", t.get("amount_off", ""))))
                      for t in rules.get("tiers", []) if isinstance(t, dict)]
    form.values = values
    return form


def _target_ids(promotion) -> list:
    relation = {"categories": promotion.categories, "products": promotion.products, "skus": promotion.skus}
    return [row.pk for row in relation[promotion.scope].all()] if promotion.scope in relation else []


def rules_of(form: PromotionForm) -> dict:
    """The rules object the form describes (values as typed; promotions.rules checks them)."""
    v, kind = form.values, form.kind
    if kind == Kind.TIME_DISCOUNT:
        mode = "price" if v.get("mode") == "price" else "percent_off"
        return {mode: v.get(mode, "")}
    if kind in (Kind.SPEND_TIERS, Kind.CROSS_SHOP_TIERS):
        tiers = [{"threshold": t.threshold, ("percent_off" if t.type == "percent" else "amount_off"): t.value}
                 for t in form.tiers if not t.is_blank]
        rules = {"tiers": tiers}
        if v.get("repeat"):
            rules["repeat"] = True
            if v.get("cap"):
                rules["cap"] = v["cap"]
        return rules
    if kind == Kind.MULTI_BUY:
        mode = "min_quantity" if v.get("mode") == "min_quantity" else "nth"
        return {mode: v.get("count", ""), "percent_off": v.get("percent_off", "")}
    if kind == Kind.BUNDLE_PRICE:
        return {"count": v.get("count", ""), "price": v.get("price", "")}
    if kind == Kind.GIFT:
        mode = "min_quantity" if v.get("mode") == "min_quantity" else "threshold"
        return {mode: v.get(mode, ""), "gift_sku_id": v.get("gift_sku_id", ""),
                "gift_quantity": v.get("gift_quantity", "") or "1"}
    if kind == Kind.ADD_ON:
        return {"threshold": v.get("threshold", ""), "sku_id": v.get("sku_id", ""), "price": v.get("price", ""),
                "limit": v.get("limit", "") or "1"}
    return {}


def _moment(text, field, errors):
    try:
        moment = datetime.strptime(text, INPUT_FORMAT)
    except ValueError:
        errors[field] = [_("Enter a date and time, e.g. 2026-12-12 00:00.")]
        return None
    return timezone.make_aware(moment)


def to_payload(form: PromotionForm) -> dict:
    """The keyword arguments of create_promotion (less actor, shop and kind); raises
    ValidationFailed for dates the browser sent in a shape it should not have."""
    errors = {}
    starts = _moment(form.starts_at, "starts_at", errors)
    ends = _moment(form.ends_at, "ends_at", errors)
    if errors:
        raise ValidationFailed(fields=errors)
    return {"name": form.name, "name_en": form.name_en, "starts_at": starts, "ends_at": ends,
            "rules": rules_of(form), "scope": form.scope,
            "target_ids": form.target_ids if form.scope != "all" else None,
            "stacks_with": [] if form.exclusive else sorted(default_stacks_with(form.kind))}


def changes(promotion, payload: dict) -> dict:
    """What the form changes on a stored promotion: update_promotion refuses any change to a
    started promotion but its names and end, so fields the seller left alone are not sent."""
    out = {}
    for name in ("name", "name_en"):
        if payload[name] != getattr(promotion, name):
            out[name] = payload[name]
    for name in ("starts_at", "ends_at"):
        current = getattr(promotion, name).replace(second=0, microsecond=0)
        if payload[name] != current:
            out[name] = payload[name]
    if not _same_rules(promotion, payload["rules"]):
        out["rules"] = payload["rules"]
    current_targets = {str(pk) for pk in _target_ids(promotion)}
    if payload["scope"] != promotion.scope or set(payload["target_ids"] or []) != current_targets:
        out["scope"] = payload["scope"]
        out["target_ids"] = payload["target_ids"]
    # the form only says "combines with nothing" or not; a list set through the API stays
    if bool(payload["stacks_with"]) != bool(promotion.stacks_with):
        out["stacks_with"] = payload["stacks_with"]
    return out


def _same_rules(promotion, rules) -> bool:
    try:
        return parse(promotion.kind, rules, currency=promotion.currency) == parse(
            promotion.kind, promotion.rules, currency=promotion.currency)
    except ValidationFailed:
        return False


def attach_tier_errors(form: PromotionForm, errors: dict) -> None:
    """Put the service's `rules.tiers[i]...` messages on row i (rows as sent, blank ones skipped)."""
    filled = [row for row in form.tiers if not row.is_blank]
    for i, row in enumerate(filled):
        prefix = f"rules.tiers[{i}]"
        row.errors = [str(m) for key, msgs in errors.items() if key == prefix or key.startswith(prefix + ".")
                      for m in msgs]
