from django.urls import path

from . import freight_views, notification_views, promotion_views, views

app_name = "console"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("products/", views.products, name="products"),
    path("products/new/", views.product_create, name="product_create"),
    path("products/<id:pk>/", views.product_edit, name="product_edit"),
    path("products/<id:pk>/publish/", views.product_publish, name="product_publish"),
    path("products/<id:pk>/images/", views.image_upload, name="image_upload"),
    path("products/<id:pk>/images/<id:image_id>/delete/", views.image_delete, name="image_delete"),
    path("products/<id:pk>/images/<id:image_id>/move/", views.image_move, name="image_move"),
    path("products/<id:pk>/images/order/", views.image_order, name="image_order"),
    path("messages/", notification_views.shop_messages, name="messages"),
    path("messages/read-all/", notification_views.shop_messages_read, name="messages_read"),
    path("webhooks/", notification_views.webhook_list, name="webhooks"),
    path("webhooks/<id:pk>/", notification_views.webhook_detail, name="webhook_detail"),
    path("webhooks/<id:pk>/delete/", notification_views.webhook_delete, name="webhook_delete"),
    path("webhook-deliveries/<id:pk>/replay/", notification_views.webhook_replay, name="webhook_replay"),
    path("freight-templates/", freight_views.templates, name="freight_templates"),
    path("freight-templates/new/", freight_views.template_create, name="freight_template_create"),
    path("freight-templates/assign/", freight_views.assign, name="freight_assign"),
    path("freight-templates/<id:pk>/", freight_views.template_edit, name="freight_template_edit"),
    path("freight-templates/<id:pk>/delete/", freight_views.template_delete, name="freight_template_delete"),
    path("orders/", views.orders, name="orders"),
    path("orders/packing-list/", views.packing_list, name="packing_list"),
    path("orders/ship/", views.bulk_ship, name="bulk_ship"),
    path("orders/<id:pk>/", views.order_detail, name="order_detail"),
    path("orders/<id:pk>/ship/", views.order_ship, name="order_ship"),
    path("promotions/", promotion_views.promotion_list, name="promotions"),
    path("promotions/new/", promotion_views.promotion_create, name="promotion_create"),
    path("promotions/<id:pk>/", promotion_views.promotion_edit, name="promotion_edit"),
    path("promotions/<id:pk>/publish/", promotion_views.promotion_publish, name="promotion_publish"),
    path("promotions/<id:pk>/stop/", promotion_views.promotion_stop, name="promotion_stop"),
]
