"""Operator pages (mounted at /settlement/)."""

from django.urls import path

from . import views

app_name = "settlement"

urlpatterns = [
    path("", views.statements, name="statements"),
    path("rates/", views.rates, name="rates"),
    path("statements/<id:pk>/", views.statement, name="statement"),
    path("statements/<id:pk>/<slug:action>/", views.statement_action, name="statement_action"),
]
