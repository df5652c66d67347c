"""Payment gateway adapters, looked up by name (see base.Gateway)."""

from shopyard.core.errors import NotFound

from . import simulated

_GATEWAYS = {simulated.NAME: simulated}


def get(name: str):
    try:
        return _GATEWAYS[name]
    except KeyError:
        from django.utils.translation import gettext as _

        raise NotFound(_("Unknown payment gateway.")) from None
