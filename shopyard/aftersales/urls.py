"""Operator pages (mounted at /disputes/)."""

from django.urls import path

from . import stats_views, views

app_name = "aftersales"

urlpatterns = [
    path("", views.disputes, name="disputes"),
    path("<id:pk>/", views.dispute, name="dispute"),
    path("statistics/", stats_views.statistics, name="statistics"),
    path("statistics/export/", stats_views.statistics_export, name="statistics_export"),
]
