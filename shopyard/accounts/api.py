"""Auth and address book over HTTP."""

from ninja import Field, Router, Schema, Status

from shopyard.core.api_support import Id, InSchema, bearer, responses

from . import services
from .models import Address

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


class TokenIn(Schema):
    username: str = Field(..., max_length=150)
    password: str = Field(..., max_length=128)


class TokenOut(Schema):
    token: str
    token_type: str = "Bearer"
    user: UserOut


class AddressIn(Schema):
    recipient: str = Field(..., max_length=50)
    phone: str = Field(..., max_length=20)
    province: str = Field(..., max_length=50)
    city: str = Field(..., max_length=50)
    district: str = Field(..., max_length=50)
    detail: str = Field(..., max_length=200)
    postcode: str = Field("", max_length=12)
    is_default: bool = False


class AddressPatch(InSchema):
    recipient: str | None = Field(None, max_length=50)
    phone: str | None = Field(None, max_length=20)
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
    detail: str
    postcode: str
    is_default: bool


@router.post("/auth/register", response=responses({201: TokenOut}), auth=None)
def register(request, payload: RegisterIn):
    """Create a shopper account and return a bearer token for it."""
    user = services.register_user(**payload.dict())
    return Status(201, {"token": services.issue_token(user=user), "user": user})


@router.post("/auth/token", response=responses({200: TokenOut}), auth=None)
def token(request, payload: TokenIn):
    """Exchange username and password for a bearer token (throttled after repeated failures)."""
    user = services.login(request=request, username=payload.username, password=payload.password)
    return Status(200, {"token": services.issue_token(user=user), "user": user})


@router.get("/me", response=responses({200: UserOut}), auth=bearer)
def me(request):
    return Status(200, request.auth)


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
