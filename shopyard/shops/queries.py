"""Which shop a seller acts for, and which shops shoppers may visit."""

from django.utils.translation import gettext as _

from shopyard.core.access import is_operator, require_operator
from shopyard.core.errors import NotFound, PermissionDenied
from shopyard.core.validation import parse_id

from .application_state import AWAITING_REVIEW
from .models import Shop, ShopApplication, ShopApplicationDocument, ShopMember
from .roles import allows, check_area
from .state import can_trade


def active_shops():
    """Shops shoppers may visit (a suspended shop's page is a 404)."""
    return Shop.objects.filter(status=Shop.Status.ACTIVE)


def suspended_message() -> str:
    return _("This shop is suspended: its console is read-only. Contact the platform operators.")


def role_forbidden_message() -> str:
    return _("Your role in this shop does not allow this.")


def shop_for_seller(user, shop_id=None, *, perm, write=False) -> Shop:
    """The shop `user` acts for, if their role there covers the area `perm`
    (shops.roles; 403 otherwise; required, so no endpoint can forget it).
    Reads work on a suspended shop (read-only); `write=True` refuses it with a
    403 that says why."""
    check_area(perm)
    memberships = ShopMember.objects.select_related("shop").filter(user=user)
    if shop_id is not None:
        memberships = memberships.filter(shop_id=shop_id)
    found = list(memberships.order_by("shop_id")[:50])
    # a seller of several shops acts for an active one first
    membership = next((m for m in found if can_trade(m.shop.status)), found[0] if found else None)
    if membership is None:
        raise PermissionDenied(_("You are not a member of this shop."))
    if not allows(membership.role, perm):
        raise PermissionDenied(role_forbidden_message(), code="role_forbidden")
    if write and not can_trade(membership.shop.status):
        raise PermissionDenied(suspended_message(), code="shop_suspended")
    return membership.shop


# --- seller onboarding ---------------------------------------------------------


def applications_of(user):
    """The user's own applications, newest first."""
    if not getattr(user, "pk", None):
        return ShopApplication.objects.none()
    return ShopApplication.objects.filter(applicant=user).select_related("shop")


def application_for_applicant(user, application_id):
    """The caller's own application with its documents and history, or NotFound (a foreign id too)."""
    return _application(applications_of(user), application_id)


def applications_for_operator(user, *, status=None):
    """Every application (an operator's queue), the longest waiting first; 403 for anyone else."""
    require_operator(user)
    qs = ShopApplication.objects.select_related("applicant", "shop")
    if status:
        return qs.filter(status=status).order_by("created_at", "id")
    return qs.filter(status__in=AWAITING_REVIEW).order_by("updated_at", "id")


def application_for_operator(user, application_id):
    require_operator(user)
    return _application(ShopApplication.objects.select_related("applicant", "shop"), application_id)


def _application(qs, application_id):
    pk = parse_id(application_id)
    application = qs.filter(pk=pk).prefetch_related("documents", "history").first() if pk else None
    if application is None:
        raise NotFound(_("Application not found."))
    return application


def document_for(user, document_id):
    """An application document the caller may open: their own, or any for an operator."""
    pk = parse_id(document_id)
    qs = ShopApplicationDocument.objects.filter(pk=pk) if pk else ShopApplicationDocument.objects.none()
    if not is_operator(user):
        qs = qs.filter(application__applicant_id=getattr(user, "pk", None) or 0)
    document = qs.first()
    if document is None:
        raise NotFound(_("Document not found."))
    return document


# --- staff ---------------------------------------------------------------------


def shop_members(shop):
    """The shop's staff, owners first."""
    order = {r: i for i, r in enumerate(ShopMember.Role.values)}
    members = list(ShopMember.objects.filter(shop=shop).select_related("user"))
    return sorted(members, key=lambda m: (order.get(m.role, 99), m.user.username))
