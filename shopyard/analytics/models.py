"""Shopper behaviour: one row per thing a shopper did that recommendations learn from.

Rows are written in batches after the response (see middleware), so a page
never waits for them. An anonymous visitor is known by the first-party cookie
id `visitor`; at login that visitor's rows get the user (services.claim_visitor_events).
The product is a foreign key without a database constraint: a batch never
fails because a product was deleted meanwhile, and reads join it freely.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

QUERY_MAX = 100
VISITOR_MAX = 32


class BehaviourEvent(models.Model):
    class Kind(models.TextChoices):
        VIEW = "view", _("Viewed")
        CART = "cart", _("Added to cart")
        PURCHASE = "purchase", _("Bought")
        SEARCH = "search", _("Searched")
        FAVOURITE = "favourite", _("Saved as a favourite")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    # no index of its own: analytics_event_user begins with it
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, verbose_name=_("user"),
                             on_delete=models.CASCADE, related_name="+", db_index=False)
    visitor = models.CharField(_("visitor"), max_length=VISITOR_MAX, blank=True, default="")
    product = models.ForeignKey("catalog.Product", null=True, blank=True, verbose_name=_("product"),
                                on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    query = models.CharField(_("search words"), max_length=QUERY_MAX, blank=True, default="")
    created_at = models.DateTimeField(_("at"), db_index=True)

    class Meta:
        verbose_name = _("behaviour event")
        verbose_name_plural = _("behaviour events")
        indexes = [
            models.Index(fields=["user", "created_at"], name="analytics_event_user"),
            models.Index(fields=["visitor", "created_at"], name="analytics_event_visitor"),
        ]

    def __str__(self):
        return f"{self.kind} {self.product_id or self.query}"
