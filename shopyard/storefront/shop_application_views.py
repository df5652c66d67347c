"""Open a shop (我要开店): the applicant's pages. Apply as an individual or a
company, follow the application's status and the operators' reasons, and
resubmit when they ask for more. Each view parses the form and calls one
service of shops.applications; its field errors show beside the fields."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from shopyard.core.errors import DomainError, NotFound
from shopyard.shops import applications
from shopyard.shops.application_state import PENDING
from shopyard.shops.models import ShopApplication, ShopApplicationDocument
from shopyard.shops.queries import application_for_applicant, applications_of, document_for

FIELDS = ("kind", "shop_name", "business_category", "contact_name", "contact_phone", "contact_email", "id_number")


def _errors(exc: DomainError) -> dict:
    return {k: [str(m) for m in (v if isinstance(v, list | tuple) else [v])] for k, v in exc.fields.items()}


def _documents(request) -> list:
    docs = [(kind, request.FILES[kind]) for kind in ("id_front", "id_back", "business_licence")
            if kind in request.FILES]
    return docs + [("other", f) for f in request.FILES.getlist("other")[:applications.MAX_DOCUMENTS]]


def _form_context(form, errors):
    return {"form": form, "errors": errors, "kinds": ShopApplication.Kind.choices,
            "categories": ShopApplication.BusinessCategory.choices, "doc_kinds": ShopApplicationDocument.Kind,
            "max_mb": applications.MAX_DOCUMENT_BYTES // (1024 * 1024)}


@login_required
@require_http_methods(["GET", "POST"])
def apply(request):
    """The application form, above the applicant's earlier applications."""
    mine = list(applications_of(request.user)[:20])
    pending = next((a for a in mine if a.status in PENDING), None)
    if pending is not None:
        return redirect("storefront:shop_application", pending.pk)
    form, errors, status = {"kind": ShopApplication.Kind.INDIVIDUAL}, {}, 200
    if request.method == "POST":
        form = {k: request.POST.get(k, "") for k in FIELDS}
        try:
            application = applications.submit_application(actor=request.user, data=form,
                                                          documents=_documents(request))
        except DomainError as exc:
            errors, status = _errors(exc) or {"general": [str(exc.message)]}, exc.status
        else:
            messages.success(request, _("Application sent: the platform reviews it, usually within two working days."))
            return redirect("storefront:shop_application", application.pk)
    return render(request, "storefront/shop_apply.html",
                  {**_form_context(form, errors), "applications": mine}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def detail(request, pk):
    """The status, the operators' reasons, the history and, when asked, the resubmission form."""
    try:
        application = application_for_applicant(request.user, pk)
    except NotFound:
        raise Http404 from None
    form = {k: getattr(application, k) for k in FIELDS}
    errors, status = {}, 200
    if request.method == "POST":
        form = {k: request.POST.get(k, "") for k in FIELDS}
        try:
            applications.resubmit_application(actor=request.user, application_id=application.pk, data=form,
                                              documents=_documents(request), note=request.POST.get("note", ""))
        except DomainError as exc:
            errors, status = _errors(exc) or {"general": [str(exc.message)]}, exc.status
            form["note"] = request.POST.get("note", "")
        else:
            messages.success(request, _("Resubmitted: the platform reviews your application again."))
            return redirect("storefront:shop_application", application.pk)
    return render(request, "storefront/shop_application.html", {
        **_form_context(form, errors), "application": application,
        "can_resubmit": application.status == ShopApplication.Status.NEEDS_MORE_INFO}, status=status)


@login_required
def document(request, pk):
    """A document of the caller's own application (or any, for an operator); 404 otherwise."""
    try:
        doc = document_for(request.user, pk)
    except NotFound:
        raise Http404 from None
    response = FileResponse(doc.file.open("rb"), content_type=doc.content_type)
    response["Content-Disposition"] = "inline"
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
