"""Which offers apply to a basket: every promotion kind registers a loader
that turns its active rows into offers (offers.py) for the shops in the basket.

`offers_for` is what the pricing pipeline calls; a loader costs a fixed number
of queries whatever the basket holds, so pricing a cart of 50 lines costs the
same few queries as one line."""

from dataclasses import dataclass, field

from django.utils import timezone

AUTO = "auto"  # let the pipeline choose the best coupons


@dataclass
class BasketContext:
    """What loaders may look at besides the lines: who buys, when, and which coupons they chose."""

    user: object = None  # None for a guest
    now: object = None
    shop_ids: frozenset = frozenset()
    sku_ids: frozenset = frozenset()
    product_ids: frozenset = frozenset()
    coupons: object = AUTO  # AUTO, or a list of the shopper's coupon ids (empty: none)
    lines: list = field(default_factory=list)  # the BasketLines as first priced
    # a function answering promotions.queries.current_and_coming_rows for shop ids, possibly read
    # before `now` (a product page keeps them per catalogue version); None: read them now
    promotions: object = None
    # the next moment any loader's offers start or end (a cached page showing these prices expires then)
    changes_at: object = None

    def note_change(self, moment) -> None:
        if moment is not None and moment > self.now and (self.changes_at is None or moment < self.changes_at):
            self.changes_at = moment


_LOADERS: dict = {}


def register(name: str, loader) -> None:
    """`loader(context) -> list[Offer]`; registering a name again replaces its loader."""
    _LOADERS[name] = loader


def unregister(name: str) -> None:
    _LOADERS.pop(name, None)


def register_default_loaders() -> None:
    """The kinds this app ships; each kind's module exposes `load_offers(context)`."""
    from . import coupons, discounts, flash, group_buy

    register("discounts", discounts.load_offers)
    register("flash", flash.load_offers)
    register("group_buy", group_buy.load_offers)
    register("coupons", coupons.load_offers)


def offers_for(context: BasketContext) -> list:
    context.now = context.now or timezone.now()
    offers = []
    for loader in _LOADERS.values():
        offers.extend(loader(context))
    return offers
