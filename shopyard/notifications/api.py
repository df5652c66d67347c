"""The message centre, notification preferences and webhook endpoints over
HTTP: parse, authorise, call a service. Every rule (unknown kinds or channels,
bad URLs, unknown event types, another shop's endpoint) is the services'."""

from datetime import datetime

from ninja import Field, Query, Router, Schema, Status

from shopyard.core.access import api_operator
from shopyard.core.api_support import Id, InSchema, PageMeta, bearer, paginate, responses
from shopyard.shops.queries import shop_for_seller

from . import queries, services, webhooks
from .kinds import WEBHOOK_EVENTS, Channel, Kind

router = Router(tags=["notifications"])
seller_router = Router(tags=["seller"])
operator_router = Router(tags=["operator"])


class MessageOut(Schema):
    id: int
    kind: str
    title: str
    body: str
    language: str
    link: str
    shop_id: int | None
    read: bool
    created_at: datetime


def message_out(m) -> dict:
    return {"id": m.pk, "kind": m.kind, "title": m.title, "body": m.body, "language": m.language, "link": m.link,
            "shop_id": m.shop_id, "read": m.read_at is not None, "created_at": m.created_at}


class MessagePage(Schema):
    meta: PageMeta
    unread: int
    results: list[MessageOut]


class MessageFilters(Schema):
    unread: bool = False
    page: int = Field(1, ge=1, le=10_000)
    page_size: int = Field(20, ge=1, le=100)


class UnreadOut(Schema):
    unread: int


class MarkedOut(Schema):
    marked: int


class PreferencesIn(InSchema):
    choices: dict[Kind, list[Channel]] = Field(
        {}, description="per kind of notification, the channels to receive it on (inbox, email, sms); "
                        "kinds left out keep their setting")
    language: str | None = Field(None, max_length=10, description="zh-hans or en: the language of notifications")


class PreferencesOut(Schema):
    language: str
    choices: dict[str, list[str]]


@router.get("/messages", response=responses({200: MessagePage}), auth=bearer)
def list_messages(request, filters: Query[MessageFilters]):
    qs = queries.messages_for(request.auth, unread_only=filters.unread)
    items, meta = paginate(qs, filters.page, filters.page_size)
    return Status(200, {"meta": meta, "unread": queries.unread_count(request.auth),
                        "results": [message_out(m) for m in items]})


@router.get("/messages/unread-count", response=responses({200: UnreadOut}), auth=bearer)
def unread_count(request):
    return Status(200, {"unread": queries.unread_count(request.auth)})


@router.post("/messages/read-all", response=responses({200: MarkedOut}), auth=bearer)
def read_all(request):
    return Status(200, {"marked": services.mark_all_read(actor=request.auth)})


@router.post("/messages/{message_id}/read", response=responses({200: MessageOut}), auth=bearer)
def read_message(request, message_id: Id):
    return Status(200, message_out(services.mark_read(actor=request.auth, message_id=message_id)))


@router.get("/notification-preferences", response=responses({200: PreferencesOut}), auth=bearer)
def get_preferences(request):
    return Status(200, queries.preferences(request.auth))


@router.put("/notification-preferences", response=responses({200: PreferencesOut}), auth=bearer)
def put_preferences(request, payload: PreferencesIn):
    choices = {str(kind): [str(c) for c in channels] for kind, channels in payload.choices.items()}
    return Status(200, services.set_preferences(actor=request.auth, choices=choices, language=payload.language))


# --- webhooks (sellers: their own shop's) ------------------------------------

class EndpointIn(InSchema):
    url: str = Field(..., max_length=500)
    event_types: list[str] = Field(..., max_length=len(WEBHOOK_EVENTS),
                                   description="any of: " + ", ".join(WEBHOOK_EVENTS))
    description: str = Field("", max_length=200)


class EndpointOut(Schema):
    id: int
    url: str
    event_types: list[str]
    description: str
    is_active: bool
    created_at: datetime


class EndpointCreatedOut(EndpointOut):
    secret: str = Field(..., description="the signing secret: shown this once, keep it")


class AttemptOut(Schema):
    status_code: int | None
    error: str
    duration_ms: int
    at: datetime


class DeliveryOut(Schema):
    id: int
    event_id: int
    event_type: str
    status: str
    attempts: int
    last_status_code: int | None
    last_error: str
    next_attempt_at: datetime
    delivered_at: datetime | None
    log: list[AttemptOut]


def endpoint_out(e) -> dict:
    return {"id": e.pk, "url": e.url, "event_types": e.event_types, "description": e.description,
            "is_active": e.is_active, "created_at": e.created_at}


def delivery_out(d) -> dict:
    return {"id": d.pk, "event_id": d.event_id, "event_type": d.event_name, "status": d.status,
            "attempts": d.attempts, "last_status_code": d.last_status_code, "last_error": d.last_error,
            "next_attempt_at": d.next_attempt_at, "delivered_at": d.delivered_at,
            "log": [{"status_code": a.status_code, "error": a.error, "duration_ms": a.duration_ms,
                     "at": a.created_at} for a in d.attempt_log.all()]}


@seller_router.get("/webhooks", response=responses({200: list[EndpointOut]}), auth=bearer)
def list_endpoints(request):
    shop = shop_for_seller(request.auth, perm="shop_settings")
    return Status(200, [endpoint_out(e) for e in queries.endpoints_for(shop)])


@seller_router.post("/webhooks", response=responses({201: EndpointCreatedOut}), auth=bearer)
def create_endpoint(request, payload: EndpointIn):
    """Register an endpoint for the shop's events; the answer holds its signing secret, once."""
    shop = shop_for_seller(request.auth, write=True, perm="shop_settings")
    endpoint, secret = webhooks.register_endpoint(actor=request.auth, shop=shop, url=payload.url,
                                                  event_types=payload.event_types, description=payload.description)
    return Status(201, {**endpoint_out(endpoint), "secret": secret})


@seller_router.delete("/webhooks/{endpoint_id}", response=responses({204: None}), auth=bearer)
def delete_endpoint(request, endpoint_id: Id):
    shop = shop_for_seller(request.auth, write=True, perm="shop_settings")
    webhooks.delete_endpoint(actor=request.auth, shop=shop, endpoint_id=endpoint_id)
    return Status(204, None)


@seller_router.get("/webhooks/{endpoint_id}/deliveries", response=responses({200: list[DeliveryOut]}), auth=bearer)
def list_deliveries(request, endpoint_id: Id):
    """The latest 50 deliveries with each attempt's response code (the log)."""
    shop = shop_for_seller(request.auth, perm="shop_settings")
    endpoint = webhooks.endpoint_for(shop=shop, endpoint_id=endpoint_id)
    return Status(200, [delivery_out(d) for d in queries.deliveries_for(endpoint)])


@seller_router.post("/webhook-deliveries/{delivery_id}/replay", response=responses({200: DeliveryOut}), auth=bearer)
def replay_delivery(request, delivery_id: Id):
    shop = shop_for_seller(request.auth, write=True, perm="shop_settings")
    delivery = webhooks.replay(actor=request.auth, shop=shop, delivery_id=delivery_id)
    return Status(200, delivery_out(delivery))


# --- platform webhooks (operators: every shop's events) -------------------------

def _operator(request):
    return api_operator(request)


@operator_router.get("/webhooks", response=responses({200: list[EndpointOut]}), auth=bearer)
def operator_endpoints(request):
    _operator(request)
    return Status(200, [endpoint_out(e) for e in queries.endpoints_for(None)])


@operator_router.post("/webhooks", response=responses({201: EndpointCreatedOut}), auth=bearer)
def operator_create_endpoint(request, payload: EndpointIn):
    """Register a platform endpoint (every shop's events); the answer holds its signing secret, once."""
    endpoint, secret = webhooks.register_endpoint(actor=_operator(request), shop=None, url=payload.url,
                                                  event_types=payload.event_types, description=payload.description)
    return Status(201, {**endpoint_out(endpoint), "secret": secret})


@operator_router.delete("/webhooks/{endpoint_id}", response=responses({204: None}), auth=bearer)
def operator_delete_endpoint(request, endpoint_id: Id):
    webhooks.delete_endpoint(actor=_operator(request), shop=None, endpoint_id=endpoint_id)
    return Status(204, None)


@operator_router.get("/webhooks/{endpoint_id}/deliveries", response=responses({200: list[DeliveryOut]}),
                     auth=bearer)
def operator_deliveries(request, endpoint_id: Id):
    _operator(request)
    endpoint = webhooks.endpoint_for(shop=None, endpoint_id=endpoint_id)
    return Status(200, [delivery_out(d) for d in queries.deliveries_for(endpoint)])


@operator_router.post("/webhook-deliveries/{delivery_id}/replay", response=responses({200: DeliveryOut}),
                      auth=bearer)
def operator_replay(request, delivery_id: Id):
    delivery = webhooks.replay(actor=_operator(request), shop=None, delivery_id=delivery_id)
    return Status(200, delivery_out(delivery))
