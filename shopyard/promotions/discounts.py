"""Offers from the shop's and the platform's promotions (limited-time discounts,
spend-and-save tiers, multi-buy, gifts, add-on deals)."""


def load_offers(context) -> list:
    return []
