"""Users, their API tokens and address books."""

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext_lazy as _

phone_validator = RegexValidator(
    r"^(1[3-9]\d{9}|\+\d{6,15})$",
    _("Enter a mainland mobile number (11 digits starting with 1) or an international number starting with +."),
)


class User(AbstractUser):
    phone = models.CharField(_("phone"), max_length=20, blank=True, validators=[phone_validator])
    nickname = models.CharField(_("nickname"), max_length=30, blank=True, default="")
    avatar = models.ImageField(_("avatar"), upload_to="avatars/%Y/%m/", blank=True, default="")

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        verbose_name = _("user")
        verbose_name_plural = _("users")

    @property
    def display_name(self) -> str:
        """What the shop calls the user: the nickname when set, else the username."""
        return self.nickname or self.get_username()


def token_expiry():
    return timezone.now() + timedelta(days=settings.API_TOKEN_DAYS)


class ApiToken(models.Model):
    """A bearer token; only its SHA-256 is stored, so a leaked table leaks no tokens.

    It works until `expires_at`, until it is deleted (revoked), and only while
    its user's password is the one it was issued under (`password_fingerprint`,
    see accounts.services.token_for_key)."""

    user = models.ForeignKey(User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="api_tokens")
    key_hash = models.CharField(_("key hash"), max_length=64, unique=True)
    prefix = models.CharField(_("prefix"), max_length=8)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires at"), default=token_expiry, db_index=True)
    password_fingerprint = models.CharField(_("password fingerprint"), max_length=64, blank=True, default="")

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self):
        return f"{self.prefix}… ({self.user})"

    @staticmethod
    def hash(raw: str) -> str:
        return hashlib.sha256(raw.encode()).hexdigest()

    # When a token works, for one token (`works`) and as a filter (`works_q`, `expired_q`):
    # the rule was spelt in the services, the queries and the purge apart. Keep the two
    # forms here, side by side (tests/test_api_tokens_rule.py holds them to the same answers).

    def works(self, now, fingerprints) -> bool:
        """Before its expiry (not at it), and issued under one of the user's current
        password `fingerprints` (services.current_fingerprints), compared in constant time."""
        return now < self.expires_at and any(constant_time_compare(self.password_fingerprint, fp)
                                             for fp in fingerprints)

    @staticmethod
    def expired_q(now) -> models.Q:
        """The tokens whose expiry has come: they never work again (the periodic purge)."""
        return models.Q(expires_at__lte=now)

    @staticmethod
    def works_q(now, fingerprints) -> models.Q:
        return ~ApiToken.expired_q(now) & models.Q(password_fingerprint__in=list(fingerprints))

    @staticmethod
    def generate() -> str:
        return secrets.token_urlsafe(32)


class UserSession(models.Model):
    """A logged-in browser session, so its owner can see and end it.

    The session itself lives in Django's session store; it carries a random
    marker whose SHA-256 is `key_hash` (the marker survives the session key's
    rotation at login and password change). Deleting this row ends the
    session: accounts.middleware logs it out on its next request."""

    user = models.ForeignKey(User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="web_sessions")
    key_hash = models.CharField(_("key hash"), max_length=64, unique=True)
    user_agent = models.CharField(_("user agent"), max_length=300, blank=True, default="")
    ip = models.CharField(_("client address"), max_length=64, blank=True, default="")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_seen_at = models.DateTimeField(_("last active"), db_index=True)

    class Meta:
        verbose_name = _("login session")
        verbose_name_plural = _("login sessions")
        ordering = ["-last_seen_at", "-id"]

    def __str__(self):
        return f"{self.user} {self.ip}"


class Address(models.Model):
    user = models.ForeignKey(User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="addresses")
    recipient = models.CharField(_("recipient"), max_length=50)
    phone = models.CharField(_("phone"), max_length=20, validators=[phone_validator])
    province = models.CharField(_("province"), max_length=50)
    city = models.CharField(_("city"), max_length=50)
    district = models.CharField(_("district"), max_length=50)
    # GB/T 2260 codes (accounts.divisions); blank on rows made before the picker
    # whose names matched no division.
    province_code = models.CharField(_("province code"), max_length=6, blank=True, default="")
    city_code = models.CharField(_("city code"), max_length=6, blank=True, default="")
    district_code = models.CharField(_("district code"), max_length=6, blank=True, default="")
    detail = models.CharField(_("detail address"), max_length=200)
    postcode = models.CharField(_("postcode"), max_length=12, blank=True)
    is_default = models.BooleanField(_("default"), default=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("address")
        verbose_name_plural = _("addresses")
        ordering = ["-is_default", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=models.Q(is_default=True), name="one_default_address_per_user"
            )
        ]

    def __str__(self):
        return f"{self.recipient} {self.province}{self.city}{self.district}{self.detail}"

    def snapshot(self) -> dict:
        return {
            "recipient": self.recipient,
            "phone": self.phone,
            "province": self.province,
            "city": self.city,
            "district": self.district,
            "province_code": self.province_code,
            "city_code": self.city_code,
            "district_code": self.district_code,
            "detail": self.detail,
            "postcode": self.postcode,
        }
