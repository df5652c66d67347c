"""After-sales reads, always scoped to the caller: a buyer's own cases, a shop's cases, or
(operators only) every case. A foreign or malformed id finds nothing (callers 404)."""

from django.db.models import F, Prefetch
from django.utils import timezone

from shopyard.core.access import is_operator
from shopyard.core.errors import ValidationFailed
from shopyard.core.validation import check_id

from .models import Case, CaseEvent, CaseLine, CasePhoto, Reason
from .state import RETURNING_KINDS, Kind, Status


def _id(value):
    try:
        return check_id(value, "case_id")
    except ValidationFailed:
        return None


def _list_qs():
    return Case.objects.select_related("shop", "reason", "order").prefetch_related(
        Prefetch("lines", queryset=CaseLine.objects.select_related("line").order_by("id")))


def _detail_qs():
    return _list_qs().select_related("buyer", "refund").prefetch_related(
        Prefetch("events", queryset=CaseEvent.objects.order_by("id").prefetch_related(
            Prefetch("photos", queryset=CasePhoto.objects.order_by("id")))),
        Prefetch("photos", queryset=CasePhoto.objects.order_by("id")),
    )


def reasons(kind=None) -> list:
    rows = list(Reason.objects.filter(active=True).order_by("position", "id"))
    return [r for r in rows if kind is None or r.allows(kind)]


def buyer_cases(user, *, status=None):
    qs = _list_qs().filter(buyer=user)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-id")


def buyer_case_detail(user, case_id):
    pk = _id(case_id)
    return _detail_qs().filter(buyer=user, pk=pk).first() if pk else None


def shop_cases(shop, *, status=None, kind=None):
    """The shop's queue: the nearest deadline first, cases without one after, newest first."""
    qs = _list_qs().select_related("buyer").filter(shop=shop)
    if status:
        qs = qs.filter(status=status)
    if kind:
        qs = qs.filter(kind=kind)
    return qs.order_by(F("deadline").asc(nulls_last=True), "-id")


def shop_case_detail(shop, case_id):
    pk = _id(case_id)
    return _detail_qs().filter(shop=shop, pk=pk).first() if pk else None


def operator_cases(user, *, status=Status.DISPUTED):
    if not is_operator(user):
        return Case.objects.none()
    qs = _list_qs().select_related("buyer")
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("escalated_at", "id")


def operator_case_detail(user, case_id):
    pk = _id(case_id)
    if not pk or not is_operator(user):
        return None
    return _detail_qs().filter(pk=pk).first()


def cases_in_progress_count(user) -> int:
    """The number on the order centre's 退款售后 tab: the buyer's cases still moving (a
    rejected case waits for the buyer to ask the platform, or not: it does not count)."""
    from .state import open_statuses

    statuses = [s for s in open_statuses() if s != Status.REJECTED]
    return Case.objects.filter(buyer=user, status__in=statuses).count()


def cases_of_order(order) -> list:
    return list(Case.objects.filter(order=order).order_by("-id"))


def order_offers(order, now=None) -> dict:
    """What the order page offers the buyer now: "refund" (申请退款: paid, nothing shipped:
    refund only) or "aftersales" (申请售后: goods shipped), each with the case types the order
    allows (services.kinds_for_order) for which some reason's window is still open. Empty when
    the order allows no case."""
    from .services import kinds_for_order, policy_for, window_closes, window_open

    kinds = kinds_for_order(order)
    if not kinds:
        return {}
    now = now or timezone.now()
    policy = policy_for(order.shop)
    open_reasons = [r for r in reasons() if window_open(window_closes(order, r, policy), now)]
    kinds = [k for k in kinds if any(r.allows(k) for r in open_reasons)]
    if not kinds:
        return {}
    if order.shipped_at is None:
        return {"refund": [k for k in kinds if k == Kind.REFUND_ONLY]}
    return {"aftersales": kinds}


def lines_left(order) -> dict:
    """Per order line id: units no case holds yet (for the apply form)."""
    from .services import in_cases

    lines = list(order.lines.all())
    held = in_cases(lines)
    return {line.pk: max(line.quantity - held[line.pk][0], 0) for line in lines}


def returns_goods(case) -> bool:
    return case.kind in RETURNING_KINDS


def actor_for(event, viewer_role) -> str:
    """Who took a step, as `viewer_role` may see it: the buyer never sees a seller's login
    name but the shop's name, and only operators see an operator's (others: "the platform")."""
    from django.utils.translation import gettext as _

    from shopyard.core.i18n import localized

    from .state import Role

    if event.role == Role.SYSTEM or event.actor_id is None:
        return _("system")
    if viewer_role == Role.BUYER and event.role == Role.SELLER:
        return localized(event.case.shop, "name")
    if viewer_role != Role.OPERATOR and event.role == Role.OPERATOR:
        return _("the platform")
    return event.actor_label


def _timeline_labels() -> dict:
    from django.utils.translation import gettext_lazy as _

    from .state import Action as A

    return {
        "open": _("Case opened"), "photos": _("Photos added"),
        "deadline_failed": _("Deadline passed: the system could not carry out its step"),
        A.APPROVE: _("Approved"), A.AUTO_APPROVE: _("Approved automatically: the shop did not answer in time"),
        A.REJECT: _("Rejected"), A.CANCEL: _("Withdrawn by the buyer"), A.SHIP_RETURN: _("Return shipped"),
        A.EXPIRE_RETURN: _("Closed: the return was not shipped in time"), A.RECEIVE: _("Return received"),
        A.INSPECT: _("Inspected"), A.AUTO_INSPECT: _("Accepted automatically: not inspected in time"),
        A.REFUND: _("Refund started"), A.REFUND_DONE: _("Refunded"), A.CREDIT: _("Paid as store credit"),
        A.SHIP_REPLACEMENT: _("Replacement shipped"), A.SHIP_REPAIRED: _("Repaired and shipped back"),
        A.CONFIRM: _("Received by the buyer"), A.ESCALATE: _("Platform asked to step in"),
        A.DECIDE_FULL: _("Platform decided: refund in full"), A.DECIDE_PARTIAL: _("Platform decided: refund in part"),
        A.DECIDE_REJECT: _("Platform decided: rejected"),
    }


def event_label(event) -> str:
    """How the timeline names a step (a past event, not the verb of the action)."""
    return str(_timeline_labels().get(event.action, event.action))


def timeline(case, viewer_role) -> list:
    """The case's steps (prefetched by the detail queries) with `label` and `by` set."""
    events = list(case.events.all())
    for event in events:
        event.label, event.by = event_label(event), actor_for(event, viewer_role)
    return events
