"""The Prometheus page, for the monitoring system only.

A caller is let in with `Authorization: Bearer <SHOPYARD_METRICS_TOKEN>` or
from an address in SHOPYARD_METRICS_ALLOW (addresses or networks), the
address being the one the login throttle trusts (accounts.throttle.client_address,
so SHOPYARD_TRUSTED_PROXY_COUNT applies). Anyone else gets 404, as for a page
that does not exist; with neither setting the page is closed to everyone.
"""

import hmac
import ipaddress

from django.conf import settings
from django.http import Http404
from django_prometheus.exports import ExportToDjangoView

from shopyard.accounts.throttle import client_address


def _allowed_networks():
    networks = []
    for item in settings.METRICS_ALLOW:
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            continue
    return networks


def _token_ok(request) -> bool:
    expected = settings.METRICS_TOKEN
    if not expected:
        return False
    given = request.headers.get("Authorization", "")
    scheme, _, token = given.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(), expected.encode())


def _address_ok(request) -> bool:
    try:
        network = ipaddress.ip_network(client_address(request), strict=False)
    except ValueError:
        return False
    return any(network.version == allowed.version and network.subnet_of(allowed) for allowed in _allowed_networks())


def may_read_metrics(request) -> bool:
    return _token_ok(request) or _address_ok(request)


def metrics(request):
    if not may_read_metrics(request):
        raise Http404
    return ExportToDjangoView(request)
