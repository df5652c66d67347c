"""Accounts: registration, login with failure throttling, API tokens, addresses."""

import hashlib
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shopyard.core.errors import NotFound, ValidationFailed
from shopyard.core.events import emit
from shopyard.core.prepared import PreparedRead
from shopyard.core.validation import parse_id, parse_int

from . import divisions
from .models import Address, ApiToken, User, phone_validator
from .sessions import touch_due
from .throttle import FixedWindow, GrowingDelay, TryLater, Wait, client_address

USERNAME_MAX = 150
REGISTRATION_THROTTLED = gettext_lazy("Too many new accounts from your network. Please try again in %(wait)s.")


def _field_errors(exc: ValidationError, field: str) -> dict:
    return {field: [str(m) for m in exc.messages]}


def _registration_limit() -> FixedWindow:
    return FixedWindow("register", limit=settings.REGISTRATIONS_PER_CLIENT, window=settings.REGISTRATION_WINDOW_SECONDS)


def register_user(*, username: str, password: str, email: str = "", phone: str = "", request=None) -> User:
    """Create a shopper account. With a `request` (pages and API), at most
    REGISTRATIONS_PER_CLIENT accounts per client address and window are
    created: the slot is taken atomically before anything is written and given
    back when the input is refused, so parallel sign-ups cannot exceed it."""
    if request is None:
        return _create_user(username=username, password=password, email=email, phone=phone)
    limit = _registration_limit()
    try:
        ticket = limit.take(client_address(request))
    except Wait as wait:
        raise TryLater(wait.seconds, message=REGISTRATION_THROTTLED) from None
    try:
        return _create_user(username=username, password=password, email=email, phone=phone)
    except BaseException:
        limit.release(ticket)
        raise


def _create_user(*, username: str, password: str, email: str, phone: str) -> User:
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


# --- login throttle ---------------------------------------------------------
#
# One throttle for every password check: the authentication backend
# (backends.ThrottledModelBackend, the only one configured) sends each
# django.contrib.auth.authenticate() call through check_credentials, so the
# storefront form, POST /api/v1/auth/token, /admin/login/ and any future path
# are limited alike. Failures are counted per (account, client) pair and per
# client, never per account alone: nobody can lock an owner out from
# elsewhere. Past the allowance the wait doubles with each further failure
# (growing delays, not a fixed lockout).


def _pair_limit() -> GrowingDelay:
    return GrowingDelay(
        "login-pair", free=settings.LOGIN_MAX_FAILURES, first_wait=settings.LOGIN_DELAY_SECONDS,
        max_wait=settings.LOGIN_MAX_DELAY_SECONDS, memory=settings.LOGIN_FAILURE_MEMORY_SECONDS,
    )


def _client_limit() -> GrowingDelay:
    return GrowingDelay(
        "login-client", free=settings.LOGIN_CLIENT_MAX_FAILURES, first_wait=settings.LOGIN_DELAY_SECONDS,
        max_wait=settings.LOGIN_MAX_DELAY_SECONDS, memory=settings.LOGIN_FAILURE_MEMORY_SECONDS,
    )


def _account_key(username: str) -> str:
    # hashed: bounded length and no client-chosen characters in cache keys
    return hashlib.sha256((username or "").strip().lower().encode()).hexdigest()[:32]


def check_credentials(*, request, username: str, check):
    """Run `check()` (the real password check) only if the throttle admits
    the attempt; return what it returned (a user or None).

    The attempt is charged atomically before `check` runs, so parallel guesses
    cannot get more checks than the allowance. A success resets the pair and
    gives the client its charge back; a failure stays counted.
    Raises TryLater (429) when the attempt must wait.
    """
    client = client_address(request)
    pair_id, pair, per_client = f"{_account_key(username)}:{client}", _pair_limit(), _client_limit()
    try:
        per_client.check(client)
        pair_ticket = pair.take(pair_id)
        try:
            client_ticket = per_client.take(client)
        except Wait:
            pair.release(pair_ticket)
            raise
    except Wait as wait:
        raise TryLater(wait.seconds) from None
    try:
        user = check()
    except BaseException:
        pair.release(pair_ticket)
        per_client.release(client_ticket)
        raise
    if user is not None:
        pair.reset(pair_id)
        per_client.refund(client_ticket)
    return user


def login(*, request=None, username: str, password: str) -> User:
    """Check credentials (through the throttle, see check_credentials)."""
    user = authenticate(request, username=username, password=password)
    if user is None:
        raise ValidationFailed(
            _("Wrong username or password."), fields={"password": [_("Wrong username or password.")]}
        )
    return user


@transaction.atomic
def change_password(*, actor: User, request=None, old_password: str, new_password: str) -> User:
    """Set a new password after checking the current one through the login
    throttle (a stolen session cannot be used to guess it without limit).
    Every API token of the actor stops working, as every other session does."""
    errors = {}
    if not old_password:
        errors["old_password"] = [_("This field is required.")]
    elif authenticate(request, username=actor.get_username(), password=old_password) is None:
        errors["old_password"] = [_("The current password is wrong.")]
    if not new_password:
        errors["new_password"] = [_("This field is required.")]
    else:
        try:
            validate_password(new_password, actor)
        except ValidationError as exc:
            errors.update(_field_errors(exc, "new_password"))
    if errors:
        raise ValidationFailed(fields=errors)
    actor.set_password(new_password)
    actor.save(update_fields=["password"])
    # other browsers are logged out by the new password hash; their records go too
    from .models import UserSession

    UserSession.objects.filter(user=actor).exclude(pk=getattr(request, "user_session_id", None)).delete()
    emit("user_password.changed", user_id=actor.pk)
    return actor


# --- API tokens ---------------------------------------------------------------
#
# A token is valid until it expires (API_TOKEN_DAYS after issue), is revoked
# (deleted), or its user's password changes by any path (the storefront, the
# admin, set_password in a shell): each token carries a fingerprint of the
# password hash it was issued under, checked on every use.

TOKEN_FINGERPRINT_SALT = "shopyard.accounts.ApiToken.password_fingerprint"


def password_fingerprint(password_hash: str, secret=None) -> str:
    return salted_hmac(TOKEN_FINGERPRINT_SALT, password_hash, secret=secret, algorithm="sha256").hexdigest()


def current_fingerprints(user: User) -> list[str]:
    """Fingerprints of the user's password under the secret key and its
    fallbacks, so rotating SECRET_KEY (with the old one as a fallback) keeps
    tokens, as it keeps sessions."""
    secrets = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return [password_fingerprint(user.password, secret) for secret in secrets]


def issue_token(*, user: User) -> str:
    """A new bearer token for `user`; the raw key is returned once and only its hash is kept."""
    raw = ApiToken.generate()
    ApiToken.objects.create(
        user=user, key_hash=ApiToken.hash(raw), prefix=raw[:8],
        expires_at=timezone.now() + timedelta(days=settings.API_TOKEN_DAYS),
        password_fingerprint=password_fingerprint(user.password),
    )
    return raw


def token_for_key(raw: str):
    """The live ApiToken for a raw key (with its user), or None when the key is
    unknown, expired, revoked, or from before a password change."""
    if not raw or len(raw) > 200:
        return None
    now = timezone.now()
    found = _TOKEN_WITH_USER.objects(ApiToken.hash(raw))
    token = found[0] if found else None
    if token is None or not token.user.is_active or not token.works(now, current_fingerprints(token.user)):
        return None
    if touch_due(token.last_used_at, now):
        _touch_token(token.pk, now)
    return token


# every authenticated API call reads its token with the user: compiled once (core.prepared),
# since building the query cost several times running it; the expiry is compared here
# rather than in SQL, where a date parameter would not stay a plain value
_TOKEN_WITH_USER = PreparedRead(ApiToken, lambda key_hash: ApiToken.objects.select_related("user")
                                .filter(key_hash=key_hash), kinds=("text",))


def _touch_token(token_id: int, now) -> None:
    """Write a token's last use: one statement, spelt out rather than built by the ORM,
    since a client's first call of every few minutes pays it (a flash sale's crowd of
    fresh tokens all at once); compiling the same UPDATE through QuerySet.update cost
    about three times its CPU."""
    with connection.cursor() as cursor:
        cursor.execute(_TOUCH_TOKEN_SQL, [connection.ops.adapt_datetimefield_value(now), token_id])


_TOUCH_TOKEN_SQL = f"UPDATE {ApiToken._meta.db_table} SET last_used_at = %s WHERE id = %s"


@transaction.atomic
def revoke_token(*, actor: User, token_id: int) -> None:
    """Revoke one of the actor's tokens; another user's id is not found."""
    deleted, _rows = ApiToken.objects.filter(user=actor, pk=token_id).delete()
    if not deleted:
        raise NotFound(_("Token not found."))
    emit("api_token.revoked", user_id=actor.pk, token_ids=[token_id], reason="revoked")


@transaction.atomic
def revoke_all_tokens(*, actor: User) -> int:
    """Log out everywhere: revoke every token of the actor; returns how many."""
    ids = list(ApiToken.objects.select_for_update().filter(user=actor).values_list("pk", flat=True))
    deleted, _rows = ApiToken.objects.filter(pk__in=ids).delete()
    if deleted:
        emit("api_token.revoked", user_id=actor.pk, token_ids=ids, reason="revoked_all")
    return deleted


def purge_expired_tokens(now=None) -> int:
    """Periodic job: delete tokens past their expiry (they already get 401)."""
    deleted, _rows = ApiToken.objects.filter(ApiToken.expired_q(now or timezone.now())).delete()
    return deleted


ADDRESS_FIELDS = ("recipient", "phone", "detail", "postcode")
REGION_FIELDS = ("province", "city", "district", "province_code", "city_code", "district_code")
ADDRESS_LIMITS = {"recipient": 50, "phone": 20, "detail": 200, "postcode": 12}


def _clean_region(data: dict) -> dict:
    """Codes and names of the address's region, always from the dataset:
    codes when the client sends them (the picker, the API), else the codes of
    the names it sends (older clients), which must then form a chain of the
    dataset."""
    codes = {k: data.get(f"{k}_code") for k in divisions.LEVELS}
    if any(v not in (None, "") for v in codes.values()):
        return divisions.resolve(**{f"{k}_code": v for k, v in codes.items()})
    names = {k: "" if data.get(k) is None else str(data.get(k)).strip() for k in divisions.LEVELS}
    missing = {f"{k}_code": [_("This field is required.")] for k, v in names.items() if not v}
    if missing:
        raise ValidationFailed(fields=missing)
    matched = divisions.match_names(**names)
    if matched is None:
        raise ValidationFailed(fields={"district_code": [_("Choose the province, city and district from the list.")]})
    return divisions.resolve(**matched)


def _clean_address(data: dict, *, region: dict | None = None) -> dict:
    """`region` is the stored region of an address being edited without
    touching it (legacy rows may have names that match no division)."""
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
    if region is None:
        try:
            region = _clean_region(data)
        except ValidationFailed as exc:
            errors.update(exc.fields)
    if errors:
        raise ValidationFailed(fields=errors)
    cleaned.update(region)
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
    given = {f: data[f] for f in REGION_FIELDS if data.get(f) not in (None, "")}
    region = None if given else {f: getattr(address, f) for f in REGION_FIELDS}
    # a partial change (only the district, only a name) keeps the rest of the
    # stored region: codes fill in codes, names fill in names
    kind = "_code" if any(f.endswith("_code") for f in given) else ""
    stored = {f"{k}{kind}": getattr(address, f"{k}{kind}") for k in divisions.LEVELS}
    cleaned = _clean_address({**stored, **given, **merged}, region=region)
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
