"""Auth, API tokens and address book over HTTP."""

from datetime import datetime

from django.http import JsonResponse
from ninja import Field, File, Query, Router, Schema, Status
from ninja.files import UploadedFile

from shopyard.core.api_support import Id, InSchema, bearer, responses

from . import password_reset, profile, services, sessions
from .models import Address
from .queries import active_tokens, division_children
from .throttle import TryLater

router = Router(tags=["accounts"])


class RegisterIn(Schema):
    username: str = Field(..., max_length=150)
    password: str = Field(..., max_length=128)
    email: str = Field("", max_length=254)
    phone: str = Field("", max_length=20)


class UserOut(Schema):
    id: int
    username: str
    email: str
    phone: str
    nickname: str = ""
    display_name: str = ""
    avatar_url: str | None = None

    @staticmethod
    def resolve_avatar_url(obj):
        return obj.avatar.url if getattr(obj, "avatar", None) else None


class ProfilePatch(InSchema):
    nickname: str | None = Field(None, max_length=30)


class TokenIn(Schema):
    username: str = Field(..., max_length=150)
    password: str = Field(..., max_length=128)


class TokenOut(Schema):
    token: str
    token_type: str = "Bearer"
    user: UserOut


class TokenInfoOut(Schema):
    id: int
    prefix: str = Field(..., description="The first 8 characters of the token, to recognise it; the rest is never shown again.")
    created_at: datetime
    last_used_at: datetime | None = None
    expires_at: datetime
    current: bool = Field(..., description="True for the token that authenticated this request.")


class RevokedOut(Schema):
    revoked: int


class AddressIn(Schema):
    """The region is given by its GB/T 2260 codes (GET /divisions); the names
    are taken from the codes. Clients that send names only must send names of
    the dataset."""

    recipient: str = Field(..., max_length=50)
    phone: str = Field(..., max_length=20)
    province_code: str = Field("", max_length=6)
    city_code: str = Field("", max_length=6)
    district_code: str = Field("", max_length=6)
    province: str = Field("", max_length=50)
    city: str = Field("", max_length=50)
    district: str = Field("", max_length=50)
    detail: str = Field(..., max_length=200)
    postcode: str = Field("", max_length=12)
    is_default: bool = False


class AddressPatch(InSchema):
    recipient: str | None = Field(None, max_length=50)
    phone: str | None = Field(None, max_length=20)
    province_code: str | None = Field(None, max_length=6)
    city_code: str | None = Field(None, max_length=6)
    district_code: str | None = Field(None, max_length=6)
    province: str | None = Field(None, max_length=50)
    city: str | None = Field(None, max_length=50)
    district: str | None = Field(None, max_length=50)
    detail: str | None = Field(None, max_length=200)
    postcode: str | None = Field(None, max_length=12)
    is_default: bool | None = None


class AddressOut(Schema):
    id: int
    recipient: str
    phone: str
    province: str
    city: str
    district: str
    province_code: str
    city_code: str
    district_code: str
    detail: str
    postcode: str
    is_default: bool


class DivisionOut(Schema):
    code: str
    name: str


def _try_later(exc: TryLater) -> JsonResponse:
    """429 with Retry-After (seconds), the body in the API's error shape."""
    response = JsonResponse(exc.as_dict(), status=exc.status, json_dumps_params={"ensure_ascii": False})
    response["Retry-After"] = str(exc.retry_after)
    return response


@router.post("/auth/register", response=responses({201: TokenOut}), auth=None)
def register(request, payload: RegisterIn):
    """Create a shopper account and return a bearer token for it.

    At most SHOPYARD_REGISTRATIONS_PER_CLIENT accounts per client address and
    window: beyond that, 429 with a Retry-After header (seconds)."""
    try:
        user = services.register_user(request=request, **payload.dict())
    except TryLater as exc:
        return _try_later(exc)
    return Status(201, {"token": services.issue_token(user=user), "user": user})


@router.post("/auth/token", response=responses({200: TokenOut}), auth=None)
def token(request, payload: TokenIn):
    """Exchange username and password for a bearer token.

    The token expires after SHOPYARD_API_TOKEN_DAYS days and stops working when
    the password changes. Throttled: after repeated failures for one account
    from one address, or from one address across accounts, 429 with a
    Retry-After header (seconds); the wait doubles with each further failure."""
    try:
        user = services.login(request=request, username=payload.username, password=payload.password)
    except TryLater as exc:
        return _try_later(exc)
    return Status(200, {"token": services.issue_token(user=user), "user": user})


@router.delete("/auth/token", response=responses({204: None}), auth=bearer)
def revoke_current_token(request):
    """Log out: revoke the token that authenticated this request (it gets 401 afterwards)."""
    services.revoke_token(actor=request.auth, token_id=request.api_token.pk)
    return Status(204, None)


@router.get("/auth/tokens", response=responses({200: list[TokenInfoOut]}), auth=bearer)
def list_tokens(request):
    """The caller's active tokens (not expired, not revoked, issued under the
    current password), newest first. Never includes the secret."""
    current = request.api_token.pk
    return Status(200, [
        {"id": t.pk, "prefix": t.prefix, "created_at": t.created_at, "last_used_at": t.last_used_at,
         "expires_at": t.expires_at, "current": t.pk == current}
        for t in active_tokens(request.auth)
    ])


@router.delete("/auth/tokens", response=responses({200: RevokedOut}), auth=bearer)
def revoke_all_tokens(request):
    """Log out everywhere: revoke every token of the caller, this one included."""
    return Status(200, {"revoked": services.revoke_all_tokens(actor=request.auth)})


@router.delete("/auth/tokens/{token_id}", response=responses({204: None}), auth=bearer)
def revoke_token(request, token_id: Id):
    """Revoke one of the caller's tokens (404 for an id that is not the caller's)."""
    services.revoke_token(actor=request.auth, token_id=token_id)
    return Status(204, None)


class PasswordResetIn(InSchema):
    email: str = Field(..., max_length=254)


class PasswordResetConfirmIn(InSchema):
    uid: str = Field(..., max_length=24)
    token: str = Field(..., max_length=64)
    new_password: str = Field(..., max_length=128)


class DetailOut(Schema):
    detail: str


@router.post("/auth/password-reset", response=responses({202: DetailOut}), auth=None)
def request_password_reset(request, payload: PasswordResetIn):
    """E-mail a single-use link to reset the password. The answer is 202 whether
    or not an account uses the address (nothing is revealed); throttled per
    client and per address (429 with Retry-After)."""
    from django.utils.translation import gettext as _

    try:
        password_reset.request_reset(email=payload.email, request=request)
    except TryLater as exc:
        return _try_later(exc)
    return Status(202, {"detail": _(
        "If an account uses this e-mail address, we have sent it a link to reset the password."
    )})


@router.post("/auth/password-reset/confirm", response=responses({200: DetailOut}), auth=None)
def confirm_password_reset(request, payload: PasswordResetConfirmIn):
    """Set a new password with the `uid` and `token` of a reset link. A used,
    expired or forged link is a 422 on `token`; every API token and session of
    the account stops working."""
    from django.utils.translation import gettext as _

    password_reset.confirm_reset(uid=payload.uid, token=payload.token, new_password=payload.new_password)
    return Status(200, {"detail": _("Your password was reset. Log in with the new password.")})


class SessionOut(Schema):
    id: int
    device: str = Field(..., description="Browser and system, read from the user agent.")
    user_agent: str
    ip: str = Field(..., description="The client address as the server saw it (an IPv6 client's /64 network).")
    created_at: datetime
    last_seen_at: datetime


@router.get("/auth/sessions", response=responses({200: list[SessionOut]}), auth=bearer)
def list_sessions(request):
    """The caller's logged-in browser sessions, most recently active first
    (API tokens are listed by GET /auth/tokens)."""
    return Status(200, [
        {"id": s.pk, "device": sessions.describe(s.user_agent), "user_agent": s.user_agent, "ip": s.ip,
         "created_at": s.created_at, "last_seen_at": s.last_seen_at}
        for s in sessions.active_sessions(request.auth)
    ])


@router.delete("/auth/sessions/{session_id}", response=responses({204: None}), auth=bearer)
def revoke_session(request, session_id: Id):
    """Log one browser session out (404 for an id that is not the caller's)."""
    sessions.revoke_session(actor=request.auth, session_id=session_id)
    return Status(204, None)


@router.get("/me", response=responses({200: UserOut}), auth=bearer)
def me(request):
    return Status(200, request.auth)


@router.patch("/me", response=responses({200: UserOut}), auth=bearer)
def update_me(request, payload: ProfilePatch):
    """Change the nickname (an empty string clears it: the username is shown)."""
    return Status(200, profile.update_profile(actor=request.auth, nickname=payload.nickname))


@router.post("/me/avatar", response=responses({200: UserOut}), auth=bearer)
def upload_avatar(request, avatar: File[UploadedFile]):
    """Replace the avatar (multipart field `avatar`: JPEG, PNG, WebP or GIF,
    decoded in full; a damaged image is a 422 and nothing is stored)."""
    return Status(200, profile.update_profile(actor=request.auth, avatar=avatar))


@router.delete("/me/avatar", response=responses({200: UserOut}), auth=bearer)
def delete_avatar(request):
    return Status(200, profile.update_profile(actor=request.auth, remove_avatar=True))


@router.get("/addresses", response=responses({200: list[AddressOut]}), auth=bearer)
def list_addresses(request):
    return Status(200, list(Address.objects.filter(user=request.auth)))


@router.post("/addresses", response=responses({201: AddressOut}), auth=bearer)
def create_address(request, payload: AddressIn):
    data = payload.dict()
    is_default = data.pop("is_default")
    return Status(201, services.create_address(actor=request.auth, data=data, is_default=is_default))


@router.get("/addresses/{address_id}", response=responses({200: AddressOut}), auth=bearer)
def get_address(request, address_id: Id):
    from shopyard.core.errors import NotFound

    address = Address.objects.filter(user=request.auth, pk=address_id).first()
    if address is None:
        raise NotFound()
    return Status(200, address)


@router.patch("/addresses/{address_id}", response=responses({200: AddressOut}), auth=bearer)
def update_address(request, address_id: Id, payload: AddressPatch):
    data = payload.dict(exclude_none=True)
    is_default = data.pop("is_default", None)
    return Status(200, services.update_address(actor=request.auth, address_id=address_id, data=data, is_default=is_default))


@router.delete("/addresses/{address_id}", response=responses({204: None}), auth=bearer)
def delete_address(request, address_id: Id):
    services.delete_address(actor=request.auth, address_id=address_id)
    return Status(204, None)


@router.get("/divisions", response=responses({200: list[DivisionOut]}), auth=None)
def list_divisions(request, parent: str = Query("", max_length=6)):
    """Administrative divisions (GB/T 2260): the provinces without `parent`,
    else the cities of a province or the districts of a city; 404 for an
    unknown code, [] for a district."""
    return Status(200, [{"code": d.code, "name": d.name} for d in division_children(parent)])
