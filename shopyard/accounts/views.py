"""Account pages: register, log in / out, profile and the address book.

Views parse the form, call one service and render; every rule (password
strength, phone format, login throttling, default address) lives in
accounts.services. Service errors come back as per-field messages with the
error's 4xx status.
"""

from django.contrib import admin, messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from shopyard.analytics.middleware import claim_on_login
from shopyard.cart.services import merge_guest_cart
from shopyard.core.errors import DomainError, NotFound
from shopyard.core.i18n import localized

from . import divisions, services, sessions
from .models import Address
from .queries import addresses_of, division_children, own_address, picker_options
from .throttle import TryLater

AUTH_BACKEND = "shopyard.accounts.backends.ThrottledModelBackend"
# The picker posts codes; names are read too so that a client posting the
# names of the dataset (older forms) still works: the service checks them.
ADDRESS_INPUTS = ("recipient", "phone", "province_code", "city_code", "district_code",
                  "province", "city", "district", "detail", "postcode")


def safe_next(request, default=None):
    """The ?next= (or posted next) URL when it stays on this site, else `default`."""
    nxt = request.POST.get("next") or request.GET.get("next") or ""
    if nxt and url_has_allowed_host_and_scheme(
        nxt, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return nxt
    return default


def _field_errors(exc: DomainError) -> dict:
    return {k: [str(m) for m in (v if isinstance(v, list | tuple) else [v])] for k, v in exc.fields.items()}


def _login_and_merge(request, user):
    # login() cycles the session key: remember the guest cart's key first
    guest_key = request.session.session_key
    auth_login(request, user, backend=AUTH_BACKEND)
    if guest_key:
        merge_guest_cart(session_key=guest_key, user=user)
    claim_on_login(request, user)  # what this browser did anonymously now shapes the shopper's recommendations


def _retry_after(response, exc):
    if isinstance(exc, TryLater):
        response["Retry-After"] = str(exc.retry_after)
    return response


@require_http_methods(["GET", "POST"])
def register(request):
    nxt = safe_next(request, "")
    values = {k: request.POST.get(k, "").strip() for k in ("username", "email", "phone")}
    errors, error, status, refused = {}, "", 200, None
    if request.method == "POST":
        password = request.POST.get("password", "")
        if password != request.POST.get("password2", ""):
            errors["password2"] = [_("The two passwords do not match.")]
            status = 422
        else:
            try:
                user = services.register_user(request=request, password=password, **values)
            except TryLater as exc:
                error, status, refused = str(exc.message), exc.status, exc
            except DomainError as exc:
                errors, status = _field_errors(exc), exc.status
            else:
                _login_and_merge(request, user)
                messages.success(request, _("Welcome to Shopyard, %(name)s!") % {"name": user.username})
                return redirect(nxt or reverse("storefront:home"))
    context = {"values": values, "errors": errors, "error": error, "next": nxt}
    return _retry_after(render(request, "accounts/register.html", context, status=status), refused)


@require_http_methods(["GET", "POST"])
def login_view(request):
    nxt = safe_next(request, "")
    username = request.POST.get("username", "").strip()
    errors, error, status, refused = {}, "", 200, None
    if request.method == "POST":
        try:
            user = services.login(request=request, username=username, password=request.POST.get("password", ""))
        except TryLater as exc:
            error, status, refused = str(exc.message), exc.status, exc
        except DomainError as exc:
            error, errors, status = str(exc.message), _field_errors(exc), exc.status
        else:
            _login_and_merge(request, user)
            return redirect(nxt or reverse("storefront:home"))
    context = {"username": username, "errors": errors, "error": error, "next": nxt}
    return _retry_after(render(request, "accounts/login.html", context, status=status), refused)


def admin_login(request, **kwargs):
    """The admin's own login page, answering 429 with Retry-After when the
    throttle refused the attempt. The throttle itself sits in the
    authentication backend, so the admin is limited even without this view;
    this only gives the refusal its proper status (see accounts.admin)."""
    response = admin.site.login(request, **kwargs)
    refused = getattr(request, "login_refused", None)
    if refused is not None:
        response.status_code = refused.status
        _retry_after(response, refused)
    return response


@require_POST
def logout_view(request):
    sessions.forget(request)
    auth_logout(request)
    messages.info(request, _("You have logged out."))
    return redirect("storefront:home")


@login_required
@require_http_methods(["GET", "POST"])
def password_change(request):
    errors, error, status, refused = {}, "", 200, None
    if request.method == "POST":
        new_password = request.POST.get("new_password", "")
        if new_password != request.POST.get("new_password2", ""):
            errors, status = {"new_password2": [_("The two passwords do not match.")]}, 422
        else:
            try:
                user = services.change_password(
                    actor=request.user, request=request,
                    old_password=request.POST.get("old_password", ""), new_password=new_password,
                )
            except TryLater as exc:
                error, status, refused = str(exc.message), exc.status, exc
            except DomainError as exc:
                errors, status = _field_errors(exc), exc.status
            else:
                update_session_auth_hash(request, user)  # stay logged in here; other sessions and tokens end
                messages.success(request, _("Your password was changed. Apps and other devices must log in again."))
                return redirect("accounts:profile")
    context = {"errors": errors, "error": error}
    return _retry_after(render(request, "accounts/password_change.html", context, status=status), refused)


@login_required
def profile(request):
    from shopyard.orders.queries import buyer_orders
    from shopyard.orders.state import Status

    counts = dict(
        buyer_orders(request.user).prefetch_related(None).order_by().values_list("status").annotate(n=Count("id"))
    )
    tabs = [(s.value, s.label, counts.get(s.value, 0)) for s in Status]
    memberships = list(request.user.shop_memberships.select_related("shop"))
    for m in memberships:
        m.shop_label = localized(m.shop, "name")
    context = {
        "order_tabs": tabs,
        "memberships": memberships,
        "address_count": Address.objects.filter(user=request.user).count(),
    }
    return render(request, "accounts/profile.html", context)


@login_required
def addresses(request):
    items = addresses_of(request.user)
    return render(request, "accounts/addresses.html", {"addresses": items})


def _address_data(request):
    return {k: request.POST.get(k, "") for k in ADDRESS_INPUTS}


def _address_form(request, *, address=None):
    nxt = safe_next(request, "")
    errors, status = {}, 200
    if address is not None:
        values = {k: getattr(address, k) for k in ADDRESS_INPUTS}
        is_default = address.is_default
    else:
        values, is_default = dict.fromkeys(ADDRESS_INPUTS, ""), False
    if request.method == "POST":
        values = _address_data(request)
        is_default = bool(request.POST.get("is_default"))
    if request.method == "POST" and not request.POST.get("refresh"):
        try:
            if address is None:
                services.create_address(actor=request.user, data=values, is_default=is_default)
                messages.success(request, _("Address added."))
            else:
                services.update_address(actor=request.user, address_id=address.pk, data=values, is_default=is_default)
                messages.success(request, _("Address saved."))
        except NotFound as exc:
            raise Http404(str(exc.message)) from None
        except DomainError as exc:
            errors, status = _field_errors(exc), exc.status
        else:
            return redirect(nxt or reverse("accounts:addresses"))
    # Without JavaScript, the "refresh" button re-renders the form with the
    # cities of the chosen province and the districts of the chosen city.
    picker = picker_options(province_code=values["province_code"], city_code=values["city_code"])
    context = {"address": address, "values": values, "is_default": is_default, "errors": errors, "next": nxt,
               **picker}
    return render(request, "accounts/address_form.html", context, status=status)


@require_http_methods(["GET"])
def division_options(request, code=None):
    """<option>s of the divisions under `code` (or under the value htmx sends
    from the province / city select), for the address picker."""
    if code is None:
        code = request.GET.get("province_code") or request.GET.get("city_code") or ""
    code = code.strip()
    if not code:
        return render(request, "accounts/_division_options.html", {"options": [], "level": "city"})
    try:
        options = division_children(code)
    except NotFound as exc:
        raise Http404(str(exc.message)) from None
    level = "district" if options and divisions.level(options[0]) == "district" else "city"
    context = {"options": options, "level": level, "reset_district": level == "city"}
    return render(request, "accounts/_division_options.html", context)


def _own_address_or_404(request, pk):
    address = own_address(request.user, pk)
    if address is None:
        raise Http404(_("Address not found."))
    return address


@login_required
@require_http_methods(["GET", "POST"])
def address_new(request):
    return _address_form(request)


@login_required
@require_http_methods(["GET", "POST"])
def address_edit(request, pk):
    return _address_form(request, address=_own_address_or_404(request, pk))


@login_required
@require_POST
def address_delete(request, pk):
    try:
        services.delete_address(actor=request.user, address_id=pk)
    except NotFound as exc:
        raise Http404(str(exc.message)) from None
    messages.success(request, _("Address deleted."))
    return redirect(safe_next(request, reverse("accounts:addresses")))
