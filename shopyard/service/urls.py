from django.urls import path

from . import operator_views, views

app_name = "service"

urlpatterns = [
    # product Q&A (问大家)
    path("p/<id:pk>/questions/", views.product_questions, name="product_questions"),
    path("p/<id:pk>/ask/", views.ask, name="ask"),
    path("questions/<id:pk>/answer/", views.answer_as_buyer, name="answer"),
    # conversations with shops
    path("contact/", views.contact, name="contact"),
    path("conversations/", views.conversation_list, name="conversations"),
    path("conversations/<id:pk>/", views.conversation, name="conversation"),
    path("conversations/<id:pk>/messages/", views.conversation_messages, name="conversation_messages"),
    path("conversations/<id:pk>/send/", views.conversation_send, name="conversation_send"),
    # tickets
    path("tickets/", views.ticket_list, name="tickets"),
    path("tickets/new/", views.ticket_new, name="ticket_new"),
    path("tickets/<id:pk>/", views.ticket, name="ticket"),
    path("tickets/<id:pk>/reply/", views.ticket_reply, name="ticket_reply"),
    path("tickets/<id:pk>/action/", views.ticket_action, name="ticket_action"),
    # operators
    path("operator/tickets/", operator_views.ticket_queue, name="operator_tickets"),
    path("operator/tickets/<id:pk>/", operator_views.ticket, name="operator_ticket"),
    path("operator/tickets/<id:pk>/reply/", operator_views.ticket_reply, name="operator_ticket_reply"),
    path("operator/tickets/<id:pk>/action/", operator_views.ticket_action, name="operator_ticket_action"),
    path("operator/moderation/", operator_views.moderation, name="operator_moderation"),
    path("operator/hide/<str:kind>/", operator_views.hide, name="operator_hide"),
]
