import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shopyard.settings")
application = get_wsgi_application()

# anonymous product reads without a cookie go through a slim handler (catalog/slim_path.py)
from shopyard.catalog import slim_path  # noqa: E402

application = slim_path.wrap(application, slim=slim_path.CatalogueReadHandler())

# so do API clients' order placements (checkout/slim_path.py)
from shopyard.checkout import slim_path as order_path  # noqa: E402

application = order_path.wrap(application, slim=order_path.OrderPlacementHandler())

# a sold-out flash-sale item is answered before Django runs, and the other attempts of
# API clients go through a slim handler (promotions/flash_gate.py)
from shopyard.promotions.flash_gate import FlashBuyHandler, wrap  # noqa: E402

application = wrap(application, slim=FlashBuyHandler())

# production never serves on the development secrets (SHOPYARD_DEBUG=1 or SHOPYARD_DEMO=1 allow them)
from shopyard.core.checks import refuse_unsafe_defaults  # noqa: E402

refuse_unsafe_defaults()
