from django.urls import path

from . import (
    aftersales_views,
    buying_views,
    catalog_views,
    coupon_views,
    flash_views,
    group_views,
    recommendation_views,
    review_views,
    search_views,
    shop_views,
    sitemaps,
)

app_name = "storefront"

urlpatterns = [
    # catalogue (catalog_views)
    path("", catalog_views.home, name="home"),
    path("c/<slug:slug>/", catalog_views.category, name="category"),
    path("p/<id:pk>/", catalog_views.product, name="product"),  # 301 to product_slug when it has one
    path("p/<id:pk>-<slug:slug>/", catalog_views.product, name="product_slug"),
    path("search/", search_views.search, name="search"),
    path("search/suggest/", search_views.suggest, name="search_suggest"),
    path("search/click/<id:log_id>/", search_views.click, name="search_click"),
    path("shop/<slug:slug>/", catalog_views.shop, name="shop"),
    path("favourites/", catalog_views.favourites, name="favourites"),
    path("p/<id:pk>/favourite/", catalog_views.toggle_favourite, name="toggle_favourite"),
    path("recent/", catalog_views.recently_viewed, name="recent"),
    # shop home pages: preview of the draft, following (shop_views)
    path("shop/<slug:slug>/preview/", shop_views.preview, name="shop_preview"),
    path("shop/<slug:slug>/follow/", shop_views.toggle_follow, name="toggle_follow"),
    path("followed-shops/", shop_views.followed, name="followed_shops"),
    # recommendation blocks, loaded by htmx (recommendation_views)
    path("recommendations/p/<id:pk>/", recommendation_views.product_block, name="recs_product"),
    path("recommendations/cart/", recommendation_views.cart_block, name="recs_cart"),
    path("recommendations/for-you/", recommendation_views.for_you_block, name="recs_for_you"),
    # search engines (sitemaps)
    path("sitemap.xml", sitemaps.sitemap_index, name="sitemap"),
    path("sitemap-<slug:section>.xml", sitemaps.sitemap_section, name="sitemap_section"),
    path("robots.txt", sitemaps.robots_txt, name="robots"),
    # buying (buying_views)
    path("cart/", buying_views.cart, name="cart"),
    path("cart/add/", buying_views.cart_add, name="cart_add"),
    path("cart/line/<id:pk>/", buying_views.cart_line_update, name="cart_line_update"),
    path("cart/line/<id:pk>/remove/", buying_views.cart_line_remove, name="cart_line_remove"),
    path("cart/line/<id:pk>/acknowledge/", buying_views.cart_line_acknowledge, name="cart_line_acknowledge"),
    path("cart/line/<id:pk>/favourite/", buying_views.cart_line_favourite, name="cart_line_favourite"),
    path("cart/select/", buying_views.cart_select, name="cart_select"),
    path("cart/remove-selected/", buying_views.cart_remove_selected, name="cart_remove_selected"),
    path("checkout/", buying_views.checkout, name="checkout"),
    path("checkout/buy-now/", buying_views.buy_now, name="buy_now"),
    path("orders/", buying_views.orders, name="orders"),
    path("orders/<id:pk>/", buying_views.order_detail, name="order_detail"),
    path("orders/<id:pk>/cancel/", buying_views.order_cancel, name="order_cancel"),
    path("orders/<id:pk>/confirm/", buying_views.order_confirm, name="order_confirm"),
    path("orders/<id:pk>/buy-again/", buying_views.order_buy_again, name="order_buy_again"),
    path("orders/pay/", buying_views.order_pay, name="order_pay"),
    path("orders/<id:pk>/aftersales/", aftersales_views.apply, name="case_apply"),
    path("aftersales/", aftersales_views.cases, name="cases"),
    path("aftersales/<id:pk>/", aftersales_views.case_detail, name="case_detail"),
    path("aftersales/<id:pk>/<slug:step>/", aftersales_views.case_step, name="case_step"),
    # flash sales (flash_views)
    path("flash/", flash_views.flash_sale, name="flash_sale"),
    path("flash/<id:pk>/buy/", flash_views.flash_buy, name="flash_buy"),
    path("flash/holds/<slug:token>/", flash_views.flash_hold, name="flash_hold"),
    # group buying (group_views)
    path("groups/", group_views.my_groups, name="my_groups"),
    path("groups/open/", group_views.group_open, name="group_open"),
    path("groups/<str:code>/", group_views.group_page, name="group"),
    path("groups/<str:code>/join/", group_views.group_join, name="group_join"),
    # coupons (coupon_views)
    path("coupons/", coupon_views.coupon_centre, name="coupons"),
    path("coupons/<id:pk>/claim/", coupon_views.coupon_claim, name="coupon_claim"),
    path("coupons/mine/", coupon_views.my_coupons, name="my_coupons"),
    path("coupons/strip/<id:shop_id>/", coupon_views.strip, name="coupon_strip"),
    # reviews (review_views)
    path("p/<id:pk>/reviews/", review_views.product_reviews, name="product_reviews"),
    path("orders/<id:pk>/lines/<id:line_id>/review/", review_views.review_line, name="review_line"),
    path("reviews/<id:pk>/follow-up/", review_views.review_follow_up, name="review_follow_up"),
    path("reviews/mine/", review_views.my_reviews, name="my_reviews"),
]

# opening a shop (shop_application_views)
from . import shop_application_views  # noqa: E402

urlpatterns += [
    path("open-shop/", shop_application_views.apply, name="shop_apply"),
    path("open-shop/<id:pk>/", shop_application_views.detail, name="shop_application"),
    path("open-shop/documents/<id:pk>/", shop_application_views.document, name="shop_application_document"),
]
