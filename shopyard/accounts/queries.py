"""Account reads, scoped to the caller."""

from django.utils import timezone

from .models import Address, ApiToken


def own_address(user, address_id):
    """The user's address with this id, or None (another user's id finds nothing)."""
    return Address.objects.filter(user=user, pk=address_id).first()


def addresses_of(user) -> list:
    """The user's address book, default first."""
    return list(Address.objects.filter(user=user))


def active_tokens(user) -> list:
    """The user's tokens that still work (not expired, issued under the
    current password), newest first; revoked tokens no longer exist."""
    from .services import current_fingerprints

    return list(
        ApiToken.objects.filter(
            user=user, expires_at__gt=timezone.now(), password_fingerprint__in=current_fingerprints(user)
        ).order_by("-created_at", "-id")
    )
