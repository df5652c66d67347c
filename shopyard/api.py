"""The REST API at /api/v1 (OpenAPI at /api/v1/openapi.json, docs at /api/v1/docs)."""

from ninja import NinjaAPI

from shopyard.accounts.api import router as accounts_router
from shopyard.aftersales.api import operator_router as aftersales_operator_router
from shopyard.aftersales.api import router as aftersales_router
from shopyard.aftersales.api import seller_router as aftersales_seller_router
from shopyard.aftersales.stats_api import operator_router as aftersales_stats_operator_router
from shopyard.aftersales.stats_api import seller_router as aftersales_stats_seller_router
from shopyard.cart.api import router as cart_router
from shopyard.catalog.api import router as catalog_router
from shopyard.catalog.api import seller_router as seller_catalog_router
from shopyard.catalog.bulk_api import router as seller_catalog_bulk_router
from shopyard.channels.api import operator_router as channels_operator_router
from shopyard.channels.api import seller_router as channels_seller_router
from shopyard.checkout import api as _checkout_api  # noqa: F401  (adds POST /orders to the orders router)
from shopyard.checkout.group_api import router as group_router
from shopyard.core.api_support import install_error_handlers
from shopyard.notifications.api import operator_router as operator_notifications_router
from shopyard.notifications.api import router as notifications_router
from shopyard.notifications.api import seller_router as seller_notifications_router
from shopyard.orders.api import router as orders_router
from shopyard.orders.api import seller_router as seller_orders_router
from shopyard.payments.api import router as payments_router
from shopyard.payments.api import seller_router as seller_payments_router
from shopyard.promotions.api import seller_router as seller_promotions_router
from shopyard.promotions.coupon_api import router as coupons_router
from shopyard.promotions.coupon_api import seller_router as seller_coupons_router
from shopyard.promotions.flash_api import operator_router as flash_operator_router
from shopyard.promotions.flash_api import router as flash_router
from shopyard.promotions.flash_api import seller_router as flash_seller_router
from shopyard.promotions.group_api import seller_router as seller_group_router
from shopyard.recommendations.api import router as recommendations_router
from shopyard.reviews.api import operator_router as reviews_operator_router
from shopyard.reviews.api import router as reviews_router
from shopyard.reviews.api import seller_router as reviews_seller_router
from shopyard.search.api import router as search_router
from shopyard.service.api import operator_router as operator_service_router
from shopyard.service.api import router as service_router
from shopyard.service.api import seller_router as seller_service_router
from shopyard.settlement.api import operator_router as settlement_operator_router
from shopyard.settlement.api import seller_router as settlement_seller_router
from shopyard.shipping.api import router as shipping_router
from shopyard.shipping.api import seller_router as seller_shipping_router
from shopyard.shops.api import operator_router

api = NinjaAPI(
    title="Shopyard API",
    version="1",
    description="Shop, cart, orders and payments. Authenticate with `Authorization: Bearer <token>` "
    "from POST /auth/token. Errors are JSON: {code, message, fields}.",
    urls_namespace="api",
)
install_error_handlers(api)
api.add_router("", accounts_router)
api.add_router("", catalog_router)
api.add_router("", cart_router)
api.add_router("", orders_router)
api.add_router("", payments_router)
api.add_router("", group_router)
api.add_router("", coupons_router)
api.add_router("", shipping_router)
api.add_router("", notifications_router)
api.add_router("", search_router)
api.add_router("/seller", seller_catalog_router)
api.add_router("/seller", seller_orders_router)
api.add_router("/seller", seller_payments_router)
api.add_router("/seller", seller_group_router)
api.add_router("/seller", seller_promotions_router)
api.add_router("/seller", seller_coupons_router)
api.add_router("/seller", seller_shipping_router)
api.add_router("/seller", seller_notifications_router)
api.add_router("/operator", operator_router)
api.add_router("", flash_router)
api.add_router("/seller", flash_seller_router)
api.add_router("/operator", flash_operator_router)
api.add_router("/operator", operator_notifications_router)
api.add_router("", reviews_router)
api.add_router("/seller", reviews_seller_router)
api.add_router("/operator", reviews_operator_router)
api.add_router("/seller", channels_seller_router)
api.add_router("/operator", channels_operator_router)
api.add_router("", aftersales_router)
api.add_router("/seller", aftersales_seller_router)
api.add_router("/operator", aftersales_operator_router)
api.add_router("/seller", aftersales_stats_seller_router)
api.add_router("/operator", aftersales_stats_operator_router)
api.add_router("", service_router)
api.add_router("/seller", seller_service_router)
api.add_router("/operator", operator_service_router)
from shopyard.shops.decoration_api import router as shop_home_router  # noqa: E402
from shopyard.shops.decoration_api import seller_router as shop_decoration_seller_router  # noqa: E402

api.add_router("", shop_home_router)
api.add_router("/seller", shop_decoration_seller_router)
api.add_router("/seller", settlement_seller_router)
api.add_router("/operator", settlement_operator_router)
api.add_router("/seller", seller_catalog_bulk_router)
api.add_router("", recommendations_router)
from shopyard.shops.onboarding_api import operator_router as shop_applications_operator_router  # noqa: E402
from shopyard.shops.onboarding_api import router as shop_applications_router  # noqa: E402
from shopyard.shops.onboarding_api import seller_router as staff_seller_router  # noqa: E402

api.add_router("", shop_applications_router)
api.add_router("/operator", shop_applications_operator_router)
api.add_router("/seller", staff_seller_router)
