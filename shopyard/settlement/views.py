"""Operator pages (mounted at /settlement/): every shop's statements, one statement with
its entries (close it when its week has ended, mark it paid), and the commission rates.
Pages parse the form and call one service; a refused action shows the service's message."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from shopyard.core.access import operator_required
from shopyard.core.errors import DomainError, NotFound
from shopyard.core.validation import page_number, parse_id

from . import queries, services
from .state import Status, allowed_actions

PAGE_SIZE = 30


def _errors(exc: DomainError) -> str:
    parts = [str(m) for value in exc.fields.values() for m in (value if isinstance(value, list | tuple) else [value])]
    return " ".join(parts) or str(exc.message)


@operator_required
def statements(request):
    status = request.GET.get("status") or ""
    status = status if status in Status.values else ""
    shop_id = parse_id(request.GET.get("shop_id") or "")
    qs = queries.operator_statements(status=status or None, shop_id=shop_id)
    page = Paginator(qs, PAGE_SIZE).get_page(page_number(request.GET.get("page")))
    return render(request, "settlement/statements.html", {
        "page": page, "rows": [(s, queries.figures(s)) for s in page.object_list], "status": status,
        "statuses": Status.choices, "shop_id": shop_id or "", "title": _("Seller settlement")})


@operator_required
def statement(request, pk, *, status=200, error=None):
    found = queries.operator_statement(pk)
    if found is None:
        raise Http404
    entries = Paginator(queries.seller_entries(found.shop, statement=found).order_by("id"), 100)
    return render(request, "settlement/statement.html", {
        "statement": found, "figures": queries.figures(found), "actions": {str(a) for a in allowed_actions(found.status)},
        "page": entries.get_page(page_number(request.GET.get("page"))), "error": error,
        "title": _("Settlement statement")}, status=status)


@operator_required
@require_POST
def statement_action(request, pk, action):
    try:
        if action == "close":
            services.close_statement(actor=request.user, statement_id=pk)
            messages.success(request, _("The statement is closed."))
        elif action == "mark-paid":
            services.mark_paid(actor=request.user, statement_id=pk, reference=request.POST.get("reference", ""))
            messages.success(request, _("The statement is marked paid and the payout is entered."))
        else:
            raise Http404
    except NotFound:
        raise Http404 from None
    except DomainError as exc:
        return statement(request, pk, status=exc.status, error=_errors(exc))
    return redirect("settlement:statement", pk=pk)


@operator_required
def rates(request):
    status, error = 200, None
    if request.method == "POST":
        kind, target = request.POST.get("kind"), request.POST.get("target_id")
        clear = request.POST.get("clear") == "1"
        try:
            if kind == "category":
                if clear:
                    services.clear_category_rate(actor=request.user, category_id=target)
                else:
                    services.set_category_rate(actor=request.user, category_id=target,
                                               rate=request.POST.get("rate"))
            elif kind == "shop":
                if clear:
                    services.clear_shop_rate(actor=request.user, shop_id=target)
                else:
                    services.set_shop_rate(actor=request.user, shop_id=target, rate=request.POST.get("rate"))
            else:
                raise Http404
        except DomainError as exc:
            status, error = exc.status, _errors(exc)
        else:
            messages.success(request, _("The commission rates are saved."))
            return redirect("settlement:rates")
    return render(request, "settlement/rates.html", {
        **queries.commission_table(), "categories_all": queries.category_choices(), "shops_all": queries.shop_choices(),
        "error": error, "form": request.POST if error else {}, "title": _("Commission rates")}, status=status)
