"""Sellers' group-buy campaigns over HTTP: create (a draft), list, read,
publish and stop. Handlers parse, authorise (the caller's shop) and call one
service; the services hold every rule (group_services.py)."""

from datetime import datetime
from decimal import Decimal

from ninja import Field, Router, Schema, Status
from pydantic import field_validator

from shopyard.core.api_support import Id, InSchema, ascii_digits_only, bearer, responses
from shopyard.core.money import money_str
from shopyard.shops.queries import shop_for_seller

from . import group_queries, group_services

seller_router = Router(tags=["seller"])


class CampaignItemIn(InSchema):
    sku_id: int
    group_price: Decimal

    _ascii = field_validator("group_price", mode="before")(ascii_digits_only)


class CampaignIn(InSchema):
    """Times are ISO 8601 (without an offset: the site's time zone)."""

    name: str = Field(..., max_length=100)
    name_en: str = Field("", max_length=100)
    group_size: int = Field(..., description="N: members who must pay for the group to succeed (at least 2)")
    time_limit_hours: int = Field(24, description="hours a group has to fill (1 to 72)")
    max_quantity: int = Field(1, description="most units one member buys")
    starts_at: str = Field(..., max_length=40)
    ends_at: str = Field(..., max_length=40)
    items: list[CampaignItemIn] = Field(..., max_length=100)


class CampaignItemOut(Schema):
    id: int
    sku_id: int
    group_price: str


class CampaignOut(Schema):
    id: int
    shop_id: int
    name: str
    name_en: str
    status: str
    group_size: int
    time_limit_hours: int
    max_quantity: int
    starts_at: datetime
    ends_at: datetime
    currency: str
    items: list[CampaignItemOut]


def campaign_out(campaign) -> dict:
    return {
        "id": campaign.pk, "shop_id": campaign.shop_id, "name": campaign.name, "name_en": campaign.name_en,
        "status": campaign.status, "group_size": campaign.group_size, "time_limit_hours": campaign.time_limit_hours,
        "max_quantity": campaign.max_quantity, "starts_at": campaign.starts_at, "ends_at": campaign.ends_at,
        "currency": campaign.currency,
        "items": [{"id": i.pk, "sku_id": i.sku_id, "group_price": money_str(i.group_price, campaign.currency)}
                  for i in campaign.items.all()],
    }


@seller_router.get("/group-buys", response=responses({200: list[CampaignOut]}), auth=bearer)
def list_campaigns(request):
    shop = shop_for_seller(request.auth, perm="promotions")
    return Status(200, [campaign_out(c) for c in group_queries.shop_campaigns(shop)[:100]])


@seller_router.post("/group-buys", response=responses({201: CampaignOut}), auth=bearer)
def create_campaign(request, payload: CampaignIn):
    """A draft campaign: SKUs of your shop, each with a group price below its list price."""
    shop = shop_for_seller(request.auth, write=True, perm="promotions")
    data = payload.dict()
    data["items"] = [{"sku_id": i["sku_id"], "group_price": i["group_price"]} for i in data["items"]]
    campaign = group_services.create_campaign(actor=request.auth, shop=shop, **data)
    return Status(201, campaign_out(campaign))


@seller_router.get("/group-buys/{campaign_id}", response=responses({200: CampaignOut}), auth=bearer)
def get_campaign(request, campaign_id: Id):
    shop = shop_for_seller(request.auth, perm="promotions")
    return Status(200, campaign_out(group_services.shop_campaign(shop=shop, campaign_id=campaign_id)))


@seller_router.post("/group-buys/{campaign_id}/publish", response=responses({200: CampaignOut}), auth=bearer)
def publish_campaign(request, campaign_id: Id):
    shop = shop_for_seller(request.auth, write=True, perm="promotions")
    return Status(200, campaign_out(group_services.publish_campaign(actor=request.auth, shop=shop,
                                                                    campaign_id=campaign_id)))


@seller_router.post("/group-buys/{campaign_id}/stop", response=responses({200: CampaignOut}), auth=bearer)
def stop_campaign(request, campaign_id: Id):
    """Stop early: no new groups; every open group fails and its paid members are refunded."""
    shop = shop_for_seller(request.auth, write=True, perm="promotions")
    return Status(200, campaign_out(group_services.stop_campaign(actor=request.auth, shop=shop,
                                                                 campaign_id=campaign_id)))
