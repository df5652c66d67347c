"""Outgoing webhooks: endpoints registered by shops (their own events) and by
the platform (every event), deliveries signed, retried and kept in order.

The event subscriber (after commit, once per event: core.events) writes one
`WebhookDelivery` per matching endpoint, unique per (endpoint, event), so a
redelivered event adds nothing. Sending takes an endpoint's oldest waiting
delivery under a lock on the endpoint row: while it waits for its retry the
later ones wait too, so an integrator sees events in the order they happened.
A delivery that reaches WEBHOOK_MAX_ATTEMPTS is marked failed and the next one
goes; an operator or the shop replays it (it is then sent next, out of order,
which its event id and timestamp let the receiver see).

Signature: X-Shopyard-Signature = "sha256=" + hex HMAC-SHA256(secret,
"<X-Shopyard-Timestamp>.<body>"); see docs/notifications.md for verification."""

import hashlib
import hmac
import ipaddress
import json
import logging
import secrets
import socket
import time
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from shopyard.core import retries
from shopyard.core.access import is_operator
from shopyard.core.errors import NotFound, PermissionDenied, ValidationFailed
from shopyard.core.prepared import PreparedRead
from shopyard.core.validation import check_id

from .kinds import WEBHOOK_EVENTS
from .models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

log = logging.getLogger("shopyard.webhooks")

URL_MAX = 500


# --- registering endpoints ---------------------------------------------------

def _host_is_private(host: str) -> bool:
    if host.lower() in ("localhost", "localhost.localdomain") or host.lower().endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return not address.is_global


def clean_endpoint(*, url, event_types) -> tuple[str, list[str]]:
    """The URL and event types as stored, or ValidationFailed naming each bad field."""
    errors = {}
    url = (url or "").strip() if isinstance(url, str) else ""
    parts = urlsplit(url) if len(url) <= URL_MAX else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        errors["url"] = [_("Enter an http:// or https:// address.")]
    elif not settings.WEBHOOK_ALLOW_PRIVATE_TARGETS and _host_is_private(parts.hostname):
        errors["url"] = [_("Webhooks cannot be sent to private or local addresses.")]
    if not isinstance(event_types, list | tuple) or not event_types:
        errors["event_types"] = [_("Choose at least one event type.")]
    else:
        unknown = sorted({str(t) for t in event_types} - set(WEBHOOK_EVENTS))
        if unknown:
            errors["event_types"] = [_("Unknown event types: %(types)s.") % {"types": ", ".join(unknown)}]
    if errors:
        raise ValidationFailed(fields=errors)
    return url, sorted(set(event_types))


def register_endpoint(*, actor, shop, url, event_types, description="") -> tuple[WebhookEndpoint, str]:
    """Add an endpoint for `shop` (None: the platform's, staff only); returns the
    endpoint and its signing secret, which is shown to the caller this once."""
    if shop is None and not is_operator(actor):
        raise PermissionDenied(_("Only operators register platform webhooks."))
    url, event_types = clean_endpoint(url=url, event_types=event_types)
    secret = "whsec_" + secrets.token_urlsafe(32)
    endpoint = WebhookEndpoint.objects.create(shop=shop, url=url, event_types=event_types, secret=secret,
                                              description=str(description or "")[:200], created_by=actor)
    log.info("%s registered webhook %s for %s", actor, endpoint.pk, shop or "the platform")
    return endpoint, secret


def _own_endpoint(shop, endpoint_id, *, lock=False) -> WebhookEndpoint:
    qs = WebhookEndpoint.objects.filter(pk=check_id(endpoint_id, "endpoint_id"), shop=shop)
    endpoint = (qs.select_for_update() if lock else qs).first()
    if endpoint is None:
        raise NotFound(_("Webhook endpoint not found."))
    return endpoint


def endpoint_for(*, shop, endpoint_id) -> WebhookEndpoint:
    return _own_endpoint(shop, endpoint_id)


def delete_endpoint(*, actor, shop, endpoint_id) -> None:
    """Remove one of `shop`'s endpoints with its log (a foreign id is 404)."""
    with transaction.atomic():
        _own_endpoint(shop, endpoint_id, lock=True).delete()
    log.info("%s deleted webhook %s", actor, endpoint_id)


def replay(*, actor, shop, delivery_id) -> WebhookDelivery:
    """Send a delivery again (delivered or failed): due now, with a fresh
    attempt budget; a foreign id is 404."""
    pk = check_id(delivery_id, "delivery_id")
    with transaction.atomic():
        delivery = (WebhookDelivery.objects.select_for_update()
                    .filter(pk=pk, endpoint__shop=shop).first())
        if delivery is None:
            raise NotFound(_("Webhook delivery not found."))
        delivery.status, delivery.attempts, delivery.next_attempt_at = (
            WebhookDelivery.Status.PENDING, 0, timezone.now())
        delivery.save(update_fields=["status", "attempts", "next_attempt_at"])
        transaction.on_commit(lambda: _enqueue([delivery.endpoint_id]))
    log.info("%s replayed webhook delivery %s", actor, pk)
    return delivery


# --- from events to deliveries -------------------------------------------------

def _concerns(endpoint, payload) -> bool:
    if endpoint.shop_id is None:
        return True
    return payload.get("shop_id") == endpoint.shop_id or endpoint.shop_id in (payload.get("shop_ids") or [])


def body_for(event, payload) -> str:
    return json.dumps({"id": event.pk, "type": event.name, "created_at": event.created_at.isoformat(),
                       "data": payload}, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


# read for every event a webhook may want (every order placed, paid, shipped…): compiled once
_ACTIVE_ENDPOINTS = PreparedRead(WebhookEndpoint, lambda: WebhookEndpoint.objects.filter(is_active=True), kinds=())


def on_event(payload: dict, *, event) -> None:
    """Subscriber of every event in kinds.WEBHOOK_EVENTS."""
    on_events([(payload, event)])


def on_events(items) -> None:
    """`on_event` for several (payload, event) pairs (a batch of held events,
    core.events.dispatch_many): the endpoints are read once, the deliveries written in
    one INSERT."""
    endpoints = _ACTIVE_ENDPOINTS.objects()
    now, rows = timezone.now(), []
    for payload, event in items:
        wanted = [e for e in endpoints if event.name in e.event_types and _concerns(e, payload)]
        if wanted:
            body = body_for(event, payload)
            rows += [WebhookDelivery(endpoint=e, event_id=event.pk, event_name=event.name, body=body,
                                     next_attempt_at=now) for e in wanted]
    if not rows:
        return
    WebhookDelivery.objects.bulk_create(rows, ignore_conflicts=True)
    ids = sorted({row.endpoint_id for row in rows})
    transaction.on_commit(lambda: _enqueue(ids))


def _enqueue(endpoint_ids):
    from .tasks import send_webhooks_task

    for pk in endpoint_ids:
        try:
            send_webhooks_task.delay(pk)
        except Exception:  # broker down, or the eager send failed: the periodic job sends it
            log.warning("could not send webhooks of endpoint %s now; the periodic job will", pk, exc_info=True)


# --- sending -------------------------------------------------------------------

def sign(secret: str, timestamp: str, body: str) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256)
    return "sha256=" + mac.hexdigest()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # a redirect could lead to a private address
        return None


def _refused_target(url) -> str:
    """Why `url` may not be called now ('' when it may): its host resolves to a
    private address and that is not allowed (checked at send time, not only at
    registration, as DNS can change)."""
    if settings.WEBHOOK_ALLOW_PRIVATE_TARGETS:
        return ""
    parts = urlsplit(url)
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
    except OSError as exc:
        return f"cannot resolve {parts.hostname}: {exc}"
    if any(not ipaddress.ip_address(info[4][0].split("%")[0]).is_global for info in infos):
        return f"{parts.hostname} resolves to a private address"
    return ""


def post(endpoint, delivery) -> tuple[int | None, str]:
    """One HTTP attempt: (response code or None, error text or '')."""
    refused = _refused_target(endpoint.url)
    if refused:
        return None, refused
    timestamp = str(int(time.time()))
    request = urllib.request.Request(endpoint.url, data=delivery.body.encode(), method="POST", headers={
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "Shopyard-Webhooks/1",
        "X-Shopyard-Event": delivery.event_name,
        "X-Shopyard-Event-Id": str(delivery.event_id),
        "X-Shopyard-Delivery-Id": str(delivery.pk),
        "X-Shopyard-Timestamp": timestamp,
        "X-Shopyard-Signature": sign(endpoint.secret, timestamp, delivery.body),
    })
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=settings.WEBHOOK_TIMEOUT_SECONDS) as response:
            return response.status, ""
    except urllib.error.HTTPError as exc:
        return exc.code, f"HTTP {exc.code}"
    except (OSError, ValueError) as exc:
        return None, str(exc)[:500] or exc.__class__.__name__


def send_endpoint(*, endpoint_id, now=None) -> int:
    """Send an endpoint's due deliveries, oldest first, stopping at the first
    that fails (it waits for its retry, the later ones wait behind it);
    returns how many were delivered."""
    delivered = 0
    while True:
        moment = now or timezone.now()
        with transaction.atomic():
            endpoint = (WebhookEndpoint.objects.select_for_update(skip_locked=True)
                        .filter(pk=endpoint_id, is_active=True).first())
            if endpoint is None:  # gone, paused, or another worker is sending it
                return delivered
            head = (WebhookDelivery.objects.filter(endpoint=endpoint, status=WebhookDelivery.Status.PENDING)
                    .order_by("id").first())
            if head is None or head.next_attempt_at > moment:
                return delivered
            started = time.monotonic()
            code, error = post(endpoint, head)
            ok = code is not None and 200 <= code < 300
            WebhookAttempt.objects.create(delivery=head, status_code=code, error=error[:500],
                                          duration_ms=int((time.monotonic() - started) * 1000))
            head.attempts += 1
            head.last_status_code, head.last_error = code, error[:500]
            again = None if ok else retries.WEBHOOKS.next_attempt(head.attempts, moment)
            if ok:
                head.status, head.delivered_at = WebhookDelivery.Status.DELIVERED, moment
            elif again is None:
                head.status = WebhookDelivery.Status.FAILED
                log.error("webhook delivery %s to %s failed for good after %s attempts: %s",
                          head.pk, endpoint.url, head.attempts, error)
            else:
                head.next_attempt_at = again
                log.warning("webhook delivery %s to %s failed (attempt %s): %s",
                            head.pk, endpoint.url, head.attempts, error)
            head.save(update_fields=["attempts", "last_status_code", "last_error", "status", "delivered_at",
                                     "next_attempt_at"])
        if not ok and head.status == WebhookDelivery.Status.PENDING:
            return delivered
        delivered += ok


def send_pending(now=None) -> int:
    """The periodic job: send every endpoint's due deliveries; returns how many went."""
    moment = now or timezone.now()
    ids = sorted(set(WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING,
                                                    next_attempt_at__lte=moment,
                                                    endpoint__is_active=True)
                     .values_list("endpoint_id", flat=True)))
    return sum(send_endpoint(endpoint_id=pk, now=now) for pk in ids)
