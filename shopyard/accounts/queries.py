"""Account reads, scoped to the caller."""

from .models import Address


def own_address(user, address_id):
    """The user's address with this id, or None (another user's id finds nothing)."""
    return Address.objects.filter(user=user, pk=address_id).first()


def addresses_of(user) -> list:
    """The user's address book, default first."""
    return list(Address.objects.filter(user=user))
