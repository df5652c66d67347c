"""Operator pages (mounted at /disputes/)."""

from django.urls import path

from . import views

app_name = "aftersales"

urlpatterns = [
    path("", views.disputes, name="disputes"),
    path("<id:pk>/", views.dispute, name="dispute"),
]
