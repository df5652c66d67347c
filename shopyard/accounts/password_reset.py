"""Forgotten passwords: a single-use, expiring link sent by e-mail.

Django's PasswordResetTokenGenerator makes the link: its token hashes the
user's password hash and last login with a timestamp, so it stops working once
the password has been reset (single use), when the user logs in again, and
after PASSWORD_RESET_TIMEOUT. Requesting a link answers the same way whether
or not the address belongs to an account, and is throttled per client and per
address (counted for unknown addresses too, so the limit reveals nothing).
The e-mail goes out after commit, from the `password_reset.requested` event.
"""

import hashlib

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shopyard.core.errors import ValidationFailed
from shopyard.core.events import emit
from shopyard.core.validation import parse_id

from .models import User, UserSession
from .throttle import FixedWindow, TryLater, Wait, client_address

EMAIL_MAX = 254
UID_MAX = 24
TOKEN_MAX = 64
RESET_THROTTLED = gettext_lazy("Too many password reset requests. Please try again in %(wait)s.")


def _client_limit() -> FixedWindow:
    return FixedWindow("pwreset-client", limit=settings.PASSWORD_RESETS_PER_CLIENT,
                       window=settings.PASSWORD_RESET_WINDOW_SECONDS)


def _address_limit() -> FixedWindow:
    return FixedWindow("pwreset-address", limit=settings.PASSWORD_RESETS_PER_ADDRESS,
                       window=settings.PASSWORD_RESET_WINDOW_SECONDS)


def _clean_email(email) -> str:
    email = "" if email is None else str(email).strip()
    if not email:
        raise ValidationFailed(fields={"email": [_("This field is required.")]})
    from django.core.validators import validate_email

    try:
        if len(email) > EMAIL_MAX:
            raise ValidationError("too long")
        validate_email(email)
    except ValidationError:
        raise ValidationFailed(fields={"email": [_("Enter a valid e-mail address.")]}) from None
    return email


def _throttle(request, email: str) -> None:
    address_key = hashlib.sha256(email.lower().encode()).hexdigest()[:32]
    per_client, per_address = _client_limit(), _address_limit()
    try:
        ticket = per_client.take(client_address(request))
        try:
            per_address.take(address_key)
        except Wait:
            per_client.release(ticket)
            raise
    except Wait as wait:
        raise TryLater(wait.seconds, message=RESET_THROTTLED) from None


def users_for_email(email: str):
    """Accounts that may reset their password through this address (as
    Django's PasswordResetForm: active, with a usable password)."""
    return [u for u in User.objects.filter(email__iexact=email, is_active=True) if u.has_usable_password()]


@transaction.atomic
def request_reset(*, email, request=None) -> None:
    """Send a reset link to every account with this address. Returns nothing
    either way: callers answer alike whether or not an account exists."""
    email = _clean_email(email)
    _throttle(request, email)
    language = translation.get_language() or settings.LANGUAGE_CODE
    for user in users_for_email(email):
        emit("password_reset.requested", user_id=user.pk, language=language)


def reset_link(user) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return settings.BASE_URL.rstrip("/") + reverse("accounts:password_reset_confirm", args=[uid, token])


def send_reset_email(payload: dict) -> None:
    """Event subscriber: the e-mail, in the language the shopper asked in.
    The token is made now, so a delivery retried later still sends a live link."""
    user = User.objects.filter(pk=payload.get("user_id"), is_active=True).first()
    if user is None or not user.email or not user.has_usable_password():
        return
    with translation.override(payload.get("language") or settings.LANGUAGE_CODE):
        context = {
            "user": user, "link": reset_link(user),
            "hours": max(1, settings.PASSWORD_RESET_TIMEOUT // 3600),
        }
        subject = " ".join(render_to_string("accounts/email/password_reset_subject.txt", context).split())
        body = render_to_string("accounts/email/password_reset_body.txt", context)
    send_mail(subject, body, None, [user.email])


def user_for_link(uid, token):
    """The user a reset link is for while it is still valid, else None
    (bad uid, used, expired or forged token)."""
    uid, token = "" if uid is None else str(uid), "" if token is None else str(token)
    if not uid or not token or len(uid) > UID_MAX or len(token) > TOKEN_MAX:
        return None
    try:
        pk = parse_id(urlsafe_base64_decode(uid).decode("ascii"))
    except (ValueError, UnicodeDecodeError):
        return None
    user = User.objects.filter(pk=pk, is_active=True).first() if pk else None
    if user is None or not default_token_generator.check_token(user, token):
        return None
    return user


def invalid_link_error() -> ValidationFailed:
    message = _("This password reset link has already been used or has expired. Please request a new one.")
    return ValidationFailed(message, fields={"token": [message]})


@transaction.atomic
def confirm_reset(*, uid, token, new_password) -> User:
    """Set the new password if the link is still valid. The user row is locked
    and the token checked again under the lock, so two uses of one link
    racing each other set the password once. The new password hash ends the
    link, every API token (bound to the hash) and every other session."""
    user = user_for_link(uid, token)
    if user is None:
        raise invalid_link_error()
    user = User.objects.select_for_update().get(pk=user.pk)
    if not default_token_generator.check_token(user, str(token)):
        raise invalid_link_error()
    if not new_password:
        raise ValidationFailed(fields={"new_password": [_("This field is required.")]})
    try:
        validate_password(new_password, user)
    except ValidationError as exc:
        raise ValidationFailed(fields={"new_password": [str(m) for m in exc.messages]}) from None
    user.set_password(new_password)
    user.save(update_fields=["password"])
    UserSession.objects.filter(user=user).delete()  # every session ends with the old password hash
    emit("user_password.changed", user_id=user.pk, reason="reset")
    return user
