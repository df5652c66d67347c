"""The simulated gateway's hosted page and the page the shopper returns to.

The gateway page stands in for a third-party cashier: the shopper approves or
declines, the "provider" queues its signed notification (delivered after
commit; with eager Celery it has been applied by the time the return page
loads) and the shopper is sent back to Shopyard. A payment is only shown to
the shopper who owns it: any other reference is a 404.
"""

import logging

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from shopyard.core.errors import DomainError, NotFound
from shopyard.core.i18n import localized
from shopyard.orders.state import Action as OrderAction
from shopyard.orders.state import Role as OrderRole
from shopyard.orders.state import allowed_actions as order_actions

from . import gateways, queries, refunds, services
from .models import Payment
from .state import is_open, outcome

ACTIONS = {"approve": True, "decline": False}


def _own_payment(request, reference) -> Payment:
    payment = None
    if isinstance(reference, str) and len(reference) <= 40:
        payment = Payment.objects.filter(reference=reference, user=request.user).first()
    if payment is None:
        raise Http404(_("Payment not found."))
    return payment


def _orders(payment):
    orders = list(payment.orders.select_related("shop").order_by("pk"))
    for order in orders:
        order.shop_label = localized(order.shop, "name")
    return orders


def _gateway_page(request, payment, *, error="", status=200):
    context = {
        "payment": payment,
        "orders": _orders(payment),
        "is_open": is_open(payment.status),
        "error": error,
    }
    return render(request, "payments/simulated_gateway.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def simulated_gateway(request, reference):
    payment = _own_payment(request, reference)
    if request.method == "GET":
        if not is_open(payment.status):
            return _gateway_page(request, payment, error=_("This payment is already closed."), status=409)
        return _gateway_page(request, payment)

    action = request.POST.get("action", "")
    if action not in ACTIONS:
        return _gateway_page(request, payment, error=_("Choose Approve or Decline."), status=400)
    try:
        services.simulate_provider_decision(reference=payment.reference, approve=ACTIONS[action], actor=request.user)
    except NotFound as exc:
        raise Http404(str(exc.message)) from None
    except DomainError as exc:
        payment.refresh_from_db()
        return _gateway_page(request, payment, error=str(exc.message), status=exc.status)
    if not ACTIONS[action]:
        messages.warning(request, _("You declined the payment. Your orders are still waiting for payment."))
    return redirect("payments:return", reference=payment.reference)


@login_required
def payment_return(request, reference):
    payment = _own_payment(request, reference)
    orders = _orders(payment)
    result = outcome(payment.status)
    context = {
        "payment": payment,
        "orders": orders,
        "succeeded": result == "succeeded",
        "failed": result == "failed",
        "pending": result == "pending",
        "retry_ids": [o.pk for o in orders if OrderAction.PAY in order_actions(o.status, OrderRole.BUYER)],
        "refunds": queries.refunds_for_payment(payment),
    }
    return render(request, "payments/return.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def choose(request, reference):
    """The payment page: the configured gateways (and their channels) to pick from."""
    payment = _own_payment(request, reference)
    if request.method == "POST":
        method, channel = request.POST.get("method", ""), request.GET.get("channel", "")
        try:
            chosen = services.choose_method(actor=request.user, reference=payment.reference, method=method)
        except NotFound as exc:
            raise Http404(str(exc.message)) from None
        except DomainError as exc:
            return _choose_page(request, payment, error=_error_text(exc), status=exc.status)
        url = gateways.get(chosen.gateway).start(chosen)
        return redirect(f"{url}?channel={channel}" if channel and chosen.gateway != "simulated" else url)
    if not is_open(payment.status):
        return _choose_page(request, payment, error=_("This payment is already closed."), status=409)
    return _choose_page(request, payment)


def _error_text(exc) -> str:
    """The field message when there is one (it says what to fix), else the error's."""
    messages_ = [str(m) for ms in exc.fields.values() for m in (ms if isinstance(ms, list | tuple) else [ms])]
    return " ".join(messages_) or str(exc.message)


def _choose_page(request, payment, *, error="", status=200):
    options = [{"method": g.name, "channel": channel, "label": label}
               for g in gateways.available() for channel, label in g.channels.items()]
    return render(request, "payments/choose.html", {
        "payment": payment, "orders": _orders(payment), "options": options, "error": error,
        "is_open": is_open(payment.status)}, status=status)


@login_required
def go(request, reference):
    """Start the payment at its gateway and send the shopper there (or show its QR code)."""
    payment = _own_payment(request, reference)
    try:
        payment, answer = services.begin_at_gateway(
            actor=request.user, reference=payment.reference, channel=request.GET.get("channel", ""),
            client_ip=client_ip(request))
    except NotFound as exc:
        raise Http404(str(exc.message)) from None
    except DomainError as exc:
        return render(request, "payments/go.html", {"payment": payment, "orders": _orders(payment),
                                                    "error": _error_text(exc)}, status=exc.status)
    if answer.kind == "redirect":
        return redirect(answer.url)
    return render(request, "payments/go.html", {"payment": payment, "orders": _orders(payment), "answer": answer,
                                                "gateway": gateways.get(payment.gateway)})


log = logging.getLogger("shopyard.payments")


def client_ip(request) -> str:
    """The shopper's address for the provider's risk checks (WeChat Pay H5
    requires it): behind SHOPYARD_TRUSTED_PROXY_COUNT proxies, the address the
    outermost one saw; otherwise REMOTE_ADDR (forwarded headers a client
    writes are never trusted)."""
    from django.conf import settings
    from ipware import get_client_ip

    ip = None
    if settings.TRUSTED_PROXY_COUNT > 0:
        ip, _routable = get_client_ip(request, proxy_order="left-most", proxy_count=settings.TRUSTED_PROXY_COUNT - 1,
                                      request_header_order=("HTTP_X_FORWARDED_FOR",), strict=False)
    if ip is None:
        ip, _routable = get_client_ip(request, request_header_order=("REMOTE_ADDR",), strict=False)
    return ip or ""


def _acknowledge(adapter, ok, detail=""):
    ack = adapter.acknowledge(ok, detail)
    return HttpResponse(ack.body, status=ack.status, content_type=ack.content_type)


@csrf_exempt
@require_POST
def notify(request, gateway):
    """A gateway's asynchronous payment notification. Answered as the gateway
    expects (Alipay: the text `success`) only after it is applied (or was
    already); a rejected one gets a refusal and changes nothing."""
    try:
        adapter = gateways.get_configured(gateway)
    except NotFound:
        raise Http404 from None
    try:
        services.handle_notification(gateway=gateway, body=request.body, headers=request.headers)
    except DomainError as exc:
        return _acknowledge(adapter, False, exc.code)
    return _acknowledge(adapter, True)


@csrf_exempt
@require_POST
def refund_notify(request, gateway):
    """A gateway's asynchronous refund notification (same answering rules)."""
    try:
        adapter = gateways.get_configured(gateway)
    except NotFound:
        raise Http404 from None
    try:
        refunds.handle_refund_notification(gateway=gateway, body=request.body, headers=request.headers)
    except DomainError as exc:
        return _acknowledge(adapter, False, exc.code)
    return _acknowledge(adapter, True)


@staff_member_required
def gateway_status(request):
    """Operator page: which gateways are configured, in which mode (never a key)."""
    from django.contrib import admin

    return render(request, "payments/gateway_status.html",
                  {**admin.site.each_context(request), "title": _("Payment gateways"),
                   "gateways": gateways.configuration()})


@staff_member_required
@require_http_methods(["GET", "POST"])
def reconciliation(request):
    """Operator page: upload a gateway's daily statement (CSV) and see what does
    not match; earlier imports are listed with their mismatch counts."""
    from django.contrib import admin

    from shopyard.core.errors import ValidationFailed

    from . import reconciliation as recon
    from .models import StatementImport

    errors, status = {}, 200
    if request.method == "POST":
        upload = request.FILES.get("file")
        gateway = request.POST.get("gateway", "")
        try:
            if upload is None:
                raise ValidationFailed(fields={"file": [_("Choose a CSV file.")]})
            recon.check_size(upload.size)  # refused before it is read into memory
            statement = recon.import_statement(actor=request.user, gateway=gateway, data=upload.read(),
                                               filename=upload.name)
        except ValidationFailed as exc:
            errors, status = {k: [str(m) for m in v] for k, v in exc.fields.items()}, 422
        else:
            messages.success(request, _("Statement imported: %(rows)s rows, %(n)s mismatches.")
                             % {"rows": statement.rows, "n": statement.mismatches.count()})
            return redirect("payments:reconciliation_detail", pk=statement.pk)
    imports = StatementImport.objects.annotate(mismatch_count=Count("mismatches"))[:50]
    return render(request, "payments/reconciliation.html", {
        **admin.site.each_context(request), "title": _("Reconciliation"), "imports": imports, "errors": errors,
        "gateways": list(recon.FORMATS), "columns": ",".join(recon.SIMULATED_COLUMNS),
        "alipay_columns": ",".join(recon.ALIPAY_COLUMNS.values()),
    }, status=status)


@staff_member_required
def reconciliation_detail(request, pk):
    from django.contrib import admin

    from .models import StatementImport

    statement = StatementImport.objects.filter(pk=pk).first()
    if statement is None:
        raise Http404
    return render(request, "payments/reconciliation_detail.html", {
        **admin.site.each_context(request), "title": _("Reconciliation"), "statement": statement,
        "mismatches": list(statement.mismatches.all()),
    })
