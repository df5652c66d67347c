"""Precomputed recommendations, read by pages and the API in a few milliseconds.

The periodic recompute (services.recompute) rewrites both tables from the
behaviour events; serving reads them, caches the id lists, and filters every
list through catalog visibility at read time, so a product unpublished or a
shop suspended after the recompute never shows. Products are foreign keys
without a database constraint: a deleted product's rows are harmless and go at
the next recompute.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ProductNeighbour(models.Model):
    class Kind(models.TextChoices):
        BOUGHT = "bought", _("Bought together")
        VIEWED = "viewed", _("Viewed together")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    product = models.ForeignKey("catalog.Product", verbose_name=_("product"), on_delete=models.DO_NOTHING,
                                db_constraint=False, related_name="+")
    neighbour = models.ForeignKey("catalog.Product", verbose_name=_("neighbour"), on_delete=models.DO_NOTHING,
                                  db_constraint=False, related_name="+")
    score = models.FloatField(_("similarity"))
    support = models.PositiveIntegerField(_("shoppers who touched both"))

    class Meta:
        verbose_name = _("product neighbour")
        verbose_name_plural = _("product neighbours")
        constraints = [models.UniqueConstraint(fields=["kind", "product", "neighbour"], name="recs_neighbour_once")]
        indexes = [models.Index(fields=["product", "kind", "-score"], name="recs_neighbour_lookup")]

    def __str__(self):
        return f"{self.product_id} → {self.neighbour_id} ({self.kind} {self.score:.3f})"


class PopularProduct(models.Model):
    """Popularity per category (and overall, category empty): the cold-start fallback."""

    category = models.ForeignKey("catalog.Category", null=True, blank=True, verbose_name=_("category"),
                                 on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    product = models.ForeignKey("catalog.Product", verbose_name=_("product"), on_delete=models.DO_NOTHING,
                                db_constraint=False, related_name="+")
    rank = models.PositiveIntegerField(_("rank"))
    score = models.FloatField(_("score"))

    class Meta:
        verbose_name = _("popular product")
        verbose_name_plural = _("popular products")
        indexes = [models.Index(fields=["category", "rank"], name="recs_popular_lookup")]

    def __str__(self):
        return f"{self.category_id or '*'} #{self.rank}: {self.product_id}"


class RecomputeRun(models.Model):
    finished_at = models.DateTimeField(_("finished at"), db_index=True)
    events = models.PositiveIntegerField(_("events read"))
    neighbours = models.PositiveIntegerField(_("neighbour rows"))
    seconds = models.FloatField(_("seconds"))

    class Meta:
        verbose_name = _("recommendation recompute")
        verbose_name_plural = _("recommendation recomputes")

    def __str__(self):
        return f"{self.finished_at:%Y-%m-%d %H:%M} ({self.neighbours})"
