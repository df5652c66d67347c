"""Account reads, scoped to the caller."""

from django.utils import timezone
from django.utils.translation import gettext as _

from shopyard.core.errors import NotFound
from shopyard.core.prepared import PreparedRead
from shopyard.core.validation import parse_id

from . import divisions
from .models import Address, ApiToken


def division_children(parent: str = "") -> list:
    """The provinces ("" parent) or the divisions under `parent`; NotFound
    for a code that is not in the dataset."""
    parent = (parent or "").strip()
    if parent and divisions.get(parent) is None:
        raise NotFound(_("Unknown division code."))
    return divisions.children(parent)


def own_address(user, address_id):
    """The user's address with this id, or None (another user's id finds nothing).
    Compiled once (core.prepared): every order reads it."""
    address_id = parse_id(address_id)
    if address_id is None or user.pk is None:
        return None
    rows = _OWN_ADDRESS.objects(address_id, user.pk)
    return rows[0] if rows else None


def has_address(user, address_id) -> bool:
    """Whether the address is the user's (own_address without reading the row).
    Compiled once (core.prepared): every flash-sale hold asks it in the crowd's
    busiest second, and building the query cost more than running it."""
    address_id = parse_id(address_id)  # the kept SQL takes the value as it is: no overflow reaches it
    return address_id is not None and user.pk is not None and bool(_ADDRESS_OF_USER.rows(address_id, user.pk))


def owned_address(pk, user_id):
    """The one rule of whose address this is, as a queryset of at most one address: for
    both kept reads below, and for checkout's, which reads more with the address."""
    return Address.objects.filter(pk=pk, user_id=user_id).order_by("pk")[:1]


_OWN_ADDRESS = PreparedRead(Address, owned_address, kinds=("id", "id"))
_ADDRESS_OF_USER = PreparedRead(Address, lambda pk, user_id: owned_address(pk, user_id).values_list("pk"), kinds=("id", "id"))


def addresses_of(user) -> list:
    """The user's address book, default first."""
    return list(Address.objects.filter(user=user))


def active_tokens(user) -> list:
    """The user's tokens that still work (not expired, issued under the
    current password), newest first; revoked tokens no longer exist."""
    from .services import current_fingerprints

    return list(
        ApiToken.objects.filter(ApiToken.works_q(timezone.now(), current_fingerprints(user)), user=user)
        .order_by("-created_at", "-id")
    )


def picker_options(*, province_code: str = "", city_code: str = "") -> dict:
    """The three option lists of the address picker for the codes chosen so
    far: the cities of a known province, the districts of a city in it."""
    province = divisions.get(province_code)
    province = province if province and not province.parent else None
    city = divisions.get(city_code)
    city = city if province and city and city.parent == province.code else None
    return {
        "provinces": divisions.children(""),
        "cities": divisions.children(province.code) if province else [],
        "districts": divisions.children(city.code) if city else [],
    }


def default_address(user):
    """The user's default address, or None (the cart prices shipping for it)."""
    return Address.objects.filter(user=user, is_default=True).first()
