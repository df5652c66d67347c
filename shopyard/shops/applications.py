"""Seller onboarding: anyone with an account applies to open a shop; an operator
reviews the application (application_state.py) and approval opens the shop.

Rules kept here, and only here:
- one pending application per user, and a shop name unique, ignoring case,
  among shops and pending applications (checked when submitting, resubmitting
  and approving; the database constraint closes the race between two
  applicants);
- the documents a kind of applicant must upload (identity card front and back
  for individuals, the business licence for companies), each an image that
  decodes (core.images) or a PDF, at most MAX_DOCUMENT_BYTES;
- identity-card and unified-social-credit numbers carry their check digit;
- approval creates the shop and its owner membership in the same transaction
  as the status change, so an approved application always has its shop.

Document files are written before the transaction and deleted again when it
fails (core.images.delete_written), so a refused submission leaves nothing.
"""

import re
import uuid

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.files.base import ContentFile
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from shopyard.core.access import require_operator
from shopyard.core.errors import NotFound, PermissionDenied, ValidationFailed
from shopyard.core.events import emit
from shopyard.core.images import check_upload, delete_written
from shopyard.core.slugs import slugify_text
from shopyard.core.statemachine import actor_label, apply_transition, next_state
from shopyard.core.validation import check_id

from .application_state import PENDING, TRANSITIONS, Action, Status
from .models import Shop, ShopApplication, ShopApplicationDocument, ShopApplicationEvent, ShopMember
from .services import MAX_REASON_LENGTH, _clean_reason

Kind = ShopApplication.Kind
DocKind = ShopApplicationDocument.Kind

MAX_DOCUMENT_BYTES = 5 * 1024 * 1024
MAX_DOCUMENTS = 10
REQUIRED_DOCUMENTS = {
    Kind.INDIVIDUAL: (DocKind.ID_FRONT, DocKind.ID_BACK),
    Kind.COMPANY: (DocKind.BUSINESS_LICENCE,),
}
TEXT_LIMITS = {"shop_name": 100, "contact_name": 50, "contact_phone": 20, "contact_email": 254}
_PHONE = re.compile(r"^\+?[0-9][0-9 \-]{5,19}$")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


# --- checks --------------------------------------------------------------------


def id_card_check_digit(first17: str) -> str:
    """GB 11643 check character of a resident identity card number."""
    return _ID_CHECK[sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


def credit_code_check_char(first17: str) -> str:
    """GB 32100 check character of a unified social credit code (business licence number)."""
    total = sum(_USCC_CHARS.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return _USCC_CHARS[(31 - total % 31) % 31]


def _id_number_error(kind, value):
    if kind == Kind.INDIVIDUAL:
        if not re.fullmatch(r"[0-9]{17}[0-9X]", value) or id_card_check_digit(value[:17]) != value[17]:
            return _("Enter a valid 18-character identity card number.")
    elif (len(value) != 18 or any(c not in _USCC_CHARS for c in value)
          or credit_code_check_char(value[:17]) != value[17]):
        return _("Enter a valid 18-character unified social credit code.")
    return None


def _text(data, field, errors, *, required=True):
    value = data.get(field)
    value = value.strip() if isinstance(value, str) else ("" if value is None else None)
    if value is None:
        errors[field] = [_("Enter text.")]
        return ""
    if not value and required:
        errors[field] = [_("This field is required.")]
    elif len(value) > TEXT_LIMITS.get(field, 100):
        errors[field] = [_("Use at most %(n)s characters.") % {"n": TEXT_LIMITS.get(field, 100)}]
    elif any(ord(c) < 32 for c in value):
        errors[field] = [_("Remove the control characters.")]
    return value


def name_taken(name, *, exclude_application=None) -> bool:
    """Whether a shop or another pending application already uses `name` (ignoring case)."""
    if Shop.objects.filter(name__iexact=name).exists() or Shop.objects.filter(name_en__iexact=name).exists():
        return True
    pending = ShopApplication.objects.filter(status__in=PENDING, shop_name__iexact=name)
    if exclude_application is not None:
        pending = pending.exclude(pk=exclude_application)
    return pending.exists()


def clean_details(data) -> dict:
    """The application's fields from `data` (a dict of strings), or every field's error at once."""
    errors = {}
    kind = data.get("kind")
    if kind not in Kind.values:
        errors["kind"] = [_("Choose individual or company.")]
    category = data.get("business_category")
    if category not in ShopApplication.BusinessCategory.values:
        errors["business_category"] = [_("Choose a category of business.")]
    out = {"kind": kind, "business_category": category}
    for field in ("shop_name", "contact_name", "contact_phone"):
        out[field] = _text(data, field, errors)
    out["contact_email"] = _text(data, "contact_email", errors, required=False)
    if out["contact_phone"] and "contact_phone" not in errors and not _PHONE.match(out["contact_phone"]):
        errors["contact_phone"] = [_("Enter a phone number of digits, spaces or hyphens.")]
    if out["contact_email"] and "contact_email" not in errors:
        try:
            validate_email(out["contact_email"])
        except DjangoValidationError:
            errors["contact_email"] = [_("Enter a valid e-mail address.")]
    id_number = data.get("id_number")
    id_number = id_number.strip().upper() if isinstance(id_number, str) else ""
    out["id_number"] = id_number
    if not id_number:
        errors["id_number"] = [_("This field is required.")]
    elif kind in Kind.values:
        message = _id_number_error(kind, id_number)
        if message:
            errors["id_number"] = [message]
    if errors:
        raise ValidationFailed(fields=errors)
    return out


def _read_document(field, upload) -> tuple[bytes, str, str]:
    """(bytes, extension, content type) of an upload that is a real image or PDF."""
    size = getattr(upload, "size", None) or 0
    if size > MAX_DOCUMENT_BYTES:
        raise ValidationFailed(fields={field: [_("The file is larger than %(size)s.") % {
            "size": f"{MAX_DOCUMENT_BYTES // (1024 * 1024)} MB"}]})
    if size == 0:
        raise ValidationFailed(fields={field: [_("The file is empty.")]})
    head = upload.read(5)
    upload.seek(0)
    if head == b"%PDF-":
        data = upload.read()
        upload.seek(0)
        if b"%%EOF" not in data[-1024:]:
            raise ValidationFailed(fields={field: [_("The PDF is incomplete: upload it again.")]})
        return data, "pdf", "application/pdf"
    try:
        data, ext = check_upload(upload, field=field, max_bytes=MAX_DOCUMENT_BYTES)
    except ValidationFailed:
        raise ValidationFailed(fields={field: [_("Upload a JPEG, PNG, WebP or GIF image or a PDF.")]}) from None
    return data, ext, {"jpg": "image/jpeg"}.get(ext, f"image/{ext}")


def _check_documents(documents, *, kind, existing=()) -> list:
    """[(kind, bytes, ext, content type)] for `documents` ([(doc kind, upload)]), after
    checking each file and that, with `existing` kinds, every required one is there."""
    errors, checked = {}, []
    if len(documents) + len(existing) > MAX_DOCUMENTS:
        raise ValidationFailed(fields={"documents": [_("Upload at most %(n)s documents.") % {"n": MAX_DOCUMENTS}]})
    for doc_kind, upload in documents:
        if doc_kind not in DocKind.values:
            errors["documents"] = [_("Unknown document type.")]
            continue
        try:
            checked.append((doc_kind, *_read_document(doc_kind, upload)))
        except ValidationFailed as exc:
            errors.update(exc.fields)
    have = set(existing) | {d[0] for d in checked}
    for needed in REQUIRED_DOCUMENTS.get(kind, ()):
        if needed not in have and needed not in errors:
            errors[needed] = [_("Upload this document: %(name)s.") % {"name": DocKind(needed).label}]
    if errors:
        raise ValidationFailed(fields=errors)
    return checked


def _write_documents(application, checked, written):
    for doc_kind, data, ext, content_type in checked:
        doc = ShopApplicationDocument(application=application, kind=doc_kind, content_type=content_type, size=len(data))
        doc.file.save(f"{uuid.uuid4().hex}.{ext}", ContentFile(data), save=False)
        written.append(doc.file)
        doc.save()


def _record(application, from_status, to_status, action, actor, note):
    ShopApplicationEvent.objects.create(
        application=application, from_status=from_status, to_status=to_status, action=action,
        actor=actor if getattr(actor, "pk", None) else None, actor_label=actor_label(actor), reason=note or "")


def _duplicate_name_error():
    return ValidationFailed(fields={"shop_name": [_("A shop or a pending application already uses this name.")]})


def _clean_note(note) -> str:
    note = note.strip() if isinstance(note, str) else ""
    if len(note) > MAX_REASON_LENGTH or "\x00" in note:
        raise ValidationFailed(fields={"note": [_("Use at most %(n)s characters.") % {"n": MAX_REASON_LENGTH}]})
    return note


# --- applicant -----------------------------------------------------------------


def submit_application(*, actor, data, documents) -> ShopApplication:
    """A new application by `actor` with `data` (the form's strings) and `documents`
    ([(doc kind, upload)]). One pending application per user; the name must be free."""
    if not getattr(actor, "is_authenticated", False):
        raise PermissionDenied(_("Log in to apply for a shop."))
    details = clean_details(data)
    checked = _check_documents(documents, kind=details["kind"])
    written = []
    try:
        with transaction.atomic():
            if ShopApplication.objects.select_for_update().filter(applicant=actor, status__in=PENDING).exists():
                raise ValidationFailed(fields={"shop_name": [
                    _("You already have an application under review: follow it on its status page.")]})
            if name_taken(details["shop_name"]):
                raise _duplicate_name_error()
            try:
                with transaction.atomic():
                    application = ShopApplication.objects.create(applicant=actor, **details)
            except IntegrityError:  # a concurrent applicant took the name (or this user applied twice)
                raise _duplicate_name_error() from None
            _write_documents(application, checked, written)
            _record(application, "", Status.SUBMITTED, Action.SUBMIT, actor, "")
            emit("shop_application.submitted", application_id=application.pk, applicant_id=actor.pk)
    except BaseException:
        delete_written(written)
        raise
    return application


def resubmit_application(*, actor, application_id, data, documents, note="") -> ShopApplication:
    """The applicant answers "needs more information": corrected details, new documents
    (added beside the earlier ones) and an optional note for the operator."""
    application_id = check_id(application_id, "application_id")
    note = _clean_note(note)
    details = clean_details(data)
    written = []
    try:
        with transaction.atomic():
            application = (ShopApplication.objects.select_for_update()
                           .filter(pk=application_id, applicant=actor).first()) if getattr(actor, "pk", None) else None
            if application is None:
                raise NotFound(_("Application not found."))
            existing = list(application.documents.values_list("kind", flat=True))
            checked = _check_documents(documents, kind=details["kind"], existing=existing)
            if name_taken(details["shop_name"], exclude_application=application.pk):
                raise _duplicate_name_error()
            try:
                with transaction.atomic():
                    apply_transition(application, Action.RESUBMIT, transitions=TRANSITIONS, record=_record,
                                     actor=actor, note=note, **details)
            except IntegrityError:  # a concurrent applicant took the new name
                raise _duplicate_name_error() from None
            _write_documents(application, checked, written)
            emit("shop_application.resubmitted", application_id=application.pk, applicant_id=actor.pk)
    except BaseException:
        delete_written(written)
        raise
    return application


# --- operator ------------------------------------------------------------------


def _unique_slug(name, application_id) -> str:
    base = slugify_text(name, max_length=80) or f"shop-{application_id}"
    slug, n = base, 1
    while Shop.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


def _review(*, actor, application_id, action, reason):
    require_operator(actor, _("Only platform operators may review shop applications."))
    application_id = check_id(getattr(application_id, "pk", application_id), "application_id")
    reason = _clean_reason(reason) if action in (Action.REJECT, Action.REQUEST_INFO) else _clean_note(reason)
    with transaction.atomic():
        application = ShopApplication.objects.select_for_update().filter(pk=application_id).first()
        if application is None:
            raise NotFound(_("Application not found."))
        next_state(TRANSITIONS, application.status, action)  # 409 for a decided application, before anything else
        if action == Action.APPROVE:
            if name_taken(application.shop_name, exclude_application=application.pk):
                raise ValidationFailed(fields={"shop_name": [
                    _("A shop with this name opened meanwhile: ask the applicant for another name.")]})
            # the transition first: an application already decided raises before any shop exists
            apply_transition(application, action, transitions=TRANSITIONS, record=_record, actor=actor,
                             note=reason, reason=reason)
            shop = Shop.objects.create(name=application.shop_name, kind=Shop.Kind.SELLER,
                                       slug=_unique_slug(application.shop_name, application.pk))
            ShopMember.objects.create(shop=shop, user=application.applicant, role=ShopMember.Role.OWNER)
            application.shop = shop
            application.save(update_fields=["shop"])
            emit("shop_application.approved", application_id=application.pk, shop_id=shop.pk,
                 applicant_id=application.applicant_id, user_id=application.applicant_id, actor_id=actor.pk,
                 decision="approved", shop_name=shop.name, reason=reason)
        else:
            apply_transition(application, action, transitions=TRANSITIONS, record=_record, actor=actor,
                             note=reason, reason=reason)
            decision = "rejected" if action == Action.REJECT else "returned"
            emit("shop_application.rejected" if action == Action.REJECT else "shop_application.returned",
                 application_id=application.pk,
                 applicant_id=application.applicant_id, user_id=application.applicant_id, actor_id=actor.pk,
                 decision=decision, shop_name=application.shop_name, reason=reason)
    return application


def approve_application(*, actor, application_id, note="") -> ShopApplication:
    """Open the shop: the applicant becomes its owner (409 when already decided)."""
    return _review(actor=actor, application_id=application_id, action=Action.APPROVE, reason=note)


def reject_application(*, actor, application_id, reason) -> ShopApplication:
    """Refuse, with a reason the applicant reads; they may apply again."""
    return _review(actor=actor, application_id=application_id, action=Action.REJECT, reason=reason)


def request_more_info(*, actor, application_id, reason) -> ShopApplication:
    """Send the application back to the applicant, saying what is missing."""
    return _review(actor=actor, application_id=application_id, action=Action.REQUEST_INFO, reason=reason)


REVIEWS = {Action.APPROVE: approve_application, Action.REJECT: reject_application,
           Action.REQUEST_INFO: request_more_info}


def review(*, actor, application_id, action, reason="") -> ShopApplication:
    """One entry for pages and API: `action` is approve, reject or request_info."""
    if action not in REVIEWS:
        raise ValidationFailed(fields={"action": [_("Choose approve, reject or ask for more.")]})
    if action == Action.APPROVE:
        return approve_application(actor=actor, application_id=application_id, note=reason)
    return REVIEWS[action](actor=actor, application_id=application_id, reason=reason)
