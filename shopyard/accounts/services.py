"""Accounts: registration, login with failure throttling, API tokens, addresses."""

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from shopyard.core.errors import NotFound, RateLimited, ValidationFailed
from shopyard.core.events import emit
from shopyard.core.validation import parse_id, parse_int

from .models import Address, ApiToken, User, phone_validator

USERNAME_MAX = 150


def _field_errors(exc: ValidationError, field: str) -> dict:
    return {field: [str(m) for m in exc.messages]}


def register_user(*, username: str, password: str, email: str = "", phone: str = "") -> User:
    username = (username or "").strip()
    errors = {}
    if not username:
        errors["username"] = [_("This field is required.")]
    elif len(username) > USERNAME_MAX or not all(c.isalnum() or c in "@.+-_" for c in username):
        errors["username"] = [_("Use at most 150 letters, digits and @/./+/-/_ characters.")]
    elif User.objects.filter(username__iexact=username).exists():
        errors["username"] = [_("This username is taken.")]
    if email:
        from django.core.validators import validate_email

        try:
            validate_email(email)
        except ValidationError as exc:
            errors.update(_field_errors(exc, "email"))
    if phone:
        try:
            phone_validator(phone)
        except ValidationError as exc:
            errors.update(_field_errors(exc, "phone"))
    if not password:
        errors["password"] = [_("This field is required.")]
    else:
        try:
            validate_password(password, User(username=username, email=email))
        except ValidationError as exc:
            errors.update(_field_errors(exc, "password"))
    if errors:
        raise ValidationFailed(fields=errors)
    try:
        with transaction.atomic():
            user = User.objects.create_user(username=username, password=password, email=email, phone=phone)
            emit("user.registered", user_id=user.pk)
    except IntegrityError:
        raise ValidationFailed(fields={"username": [_("This username is taken.")]}) from None
    return user


def _client_ip(request) -> str:
    return (request.META.get("REMOTE_ADDR") or "-") if request is not None else "-"


def _failure_keys(username: str, ip: str) -> tuple[str, str]:
    name = (username or "").lower()[:150]
    return f"login-fail:{name}:{ip}", f"login-fail-ip:{ip}"


def _bump(key):
    try:
        cache.incr(key)
    except ValueError:
        cache.set(key, 1, settings.LOGIN_LOCKOUT_SECONDS)


def login(*, request=None, username: str, password: str) -> User:
    """Check credentials. After LOGIN_MAX_FAILURES misses for one account from
    one address, that pair is refused (429) for LOGIN_LOCKOUT_SECONDS, whatever
    the password; an address that misses four times as often across accounts
    is refused too. Keying on the address as well means nobody can lock a
    shopper out of their account from elsewhere."""
    ip = _client_ip(request)
    pair_key, ip_key = _failure_keys(username, ip)
    if (cache.get(pair_key, 0) >= settings.LOGIN_MAX_FAILURES
            or cache.get(ip_key, 0) >= settings.LOGIN_MAX_FAILURES * 4):
        raise RateLimited()
    user = authenticate(request, username=username, password=password)
    if user is None:
        _bump(pair_key)
        _bump(ip_key)
        raise ValidationFailed(
            _("Wrong username or password."), fields={"password": [_("Wrong username or password.")]}
        )
    cache.delete(pair_key)
    return user


def issue_token(*, user: User) -> str:
    raw = ApiToken.generate()
    ApiToken.objects.create(user=user, key_hash=ApiToken.hash(raw), prefix=raw[:8])
    return raw


def user_for_token(raw: str):
    if not raw or len(raw) > 200:
        return None
    token = ApiToken.objects.select_related("user").filter(key_hash=ApiToken.hash(raw)).first()
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 300:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


ADDRESS_FIELDS = ("recipient", "phone", "province", "city", "district", "detail", "postcode")
ADDRESS_LIMITS = {"recipient": 50, "phone": 20, "province": 50, "city": 50, "district": 50, "detail": 200, "postcode": 12}


def _clean_address(data: dict) -> dict:
    cleaned, errors = {}, {}
    for field in ADDRESS_FIELDS:
        value = data.get(field, "")
        value = "" if value is None else str(value).strip()
        if not value and field != "postcode":
            errors[field] = [_("This field is required.")]
        elif len(value) > ADDRESS_LIMITS[field]:
            errors[field] = [_("Use at most %(n)s characters.") % {"n": ADDRESS_LIMITS[field]}]
        cleaned[field] = value
    if "phone" not in errors:
        try:
            phone_validator(cleaned["phone"])
        except ValidationError as exc:
            errors.update(_field_errors(exc, "phone"))
    if cleaned["postcode"] and parse_int(cleaned["postcode"]) is None:
        errors["postcode"] = [_("Use digits only.")]
    if errors:
        raise ValidationFailed(fields=errors)
    return cleaned


def _lock_address_book(user):
    """Serialise changes to one user's addresses by locking the user row:
    two parallel "make this the default" requests would otherwise both clear
    the old default and both set theirs, and the second hits the one-default
    constraint (a 500). Other users' address books are not blocked."""
    User.objects.select_for_update().filter(pk=user.pk).values_list("pk", flat=True).first()


def _set_default(user, address):
    """Callers hold the address-book lock (`_lock_address_book`)."""
    Address.objects.filter(user=user, is_default=True).exclude(pk=address.pk).update(is_default=False)
    Address.objects.filter(pk=address.pk).update(is_default=True)
    address.is_default = True


@transaction.atomic
def create_address(*, actor: User, data: dict, is_default: bool = False) -> Address:
    cleaned = _clean_address(data)
    _lock_address_book(actor)
    first = not Address.objects.filter(user=actor).exists()
    address = Address.objects.create(user=actor, **cleaned)
    if is_default or first:
        _set_default(actor, address)
    return address


def _own_address(actor, address_id) -> Address:
    address = Address.objects.select_for_update().filter(user=actor, pk=address_id).first()
    if address is None:
        raise NotFound(_("Address not found."))
    return address


@transaction.atomic
def update_address(*, actor: User, address_id: int, data: dict, is_default=None) -> Address:
    _lock_address_book(actor)
    address = _own_address(actor, parse_id(address_id))
    merged = {f: data.get(f, getattr(address, f)) for f in ADDRESS_FIELDS}
    cleaned = _clean_address(merged)
    for key, value in cleaned.items():
        setattr(address, key, value)
    address.save(update_fields=list(cleaned))
    if is_default:
        _set_default(actor, address)
    return address


@transaction.atomic
def delete_address(*, actor: User, address_id: int) -> None:
    _lock_address_book(actor)
    address = _own_address(actor, parse_id(address_id))
    was_default = address.is_default
    address.delete()
    if was_default:
        nxt = Address.objects.filter(user=actor).order_by("-id").first()
        if nxt:
            _set_default(actor, nxt)
