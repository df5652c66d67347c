"""The group price as an offer: a line whose context carries a group
(`{"group": group}`, set by checkout/group_buy.py or a page previewing it) is
priced at the group price of the group's item, and at no other line.

The offer costs no query: the group comes with its item and campaign loaded.
An unsaved group (pk None) previews opening one: it prices while the campaign
is live, and can never be claimed."""

from django.utils.translation import gettext as _

from shopyard.core.errors import Conflict
from shopyard.core.money import Money, format_price

from .group_state import is_joinable_status
from .kinds import Funding, Kind
from .offers import Discount, Offer
from .state import Status


class GroupBuyOffer(Offer):
    kind = Kind.GROUP_BUY
    source = "group"
    per_line = True

    def __init__(self, group, *, quantity, now):
        self.group, self.item, self.campaign = group, group.item, group.campaign
        self.quantity, self.now = quantity, now
        price = format_price(self.item.group_price, self.campaign.currency)
        size = self.campaign.group_size
        super().__init__(source_id=self.campaign.pk, shop_id=self.campaign.shop_id, funded_by=Funding.SHOP,
                         label=f"{size}人团 拼团价{price}", label_en=f"Group of {size}: {price} each")

    def applies_now(self) -> bool:
        from .group_services import campaign_is_live

        if self.group.pk is None:
            return campaign_is_live(self.campaign, self.now)
        return (is_joinable_status(self.group.status) and self.now < self.group.expires_at
                and self.campaign.status != Status.STOPPED)

    def eligible(self, line) -> bool:
        return (not line.is_gift and super().eligible(line) and line.context.get("group") is self.group
                and line.sku.pk == self.item.sku_id and line.currency == self.campaign.currency
                and line.quantity <= self.campaign.max_quantity and self.applies_now())

    def discounts(self, lines):
        out = []
        for line in lines:
            price = self.item.group_price * line.quantity
            out.append(Discount(line.index, Money(max(line.amount.amount - price, 0), line.currency)))
        return out

    def claim(self, *, actor, orders_by_shop, checkout_id) -> None:
        from .group_services import record_member

        if self.group.pk is None:
            raise Conflict(_("Open the group before buying at its price."))
        record_member(group=self.group, actor=actor, order=orders_by_shop[self.shop_id], quantity=self.quantity)


def load_offers(context) -> list:
    offers, seen = [], set()
    for line in context.lines:
        group = (line.context or {}).get("group")
        if group is None or id(group) in seen:
            continue
        seen.add(id(group))
        offers.append(GroupBuyOffer(group, quantity=line.quantity, now=context.now))
    return offers
