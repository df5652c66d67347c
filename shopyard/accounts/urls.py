from django.urls import path

from . import profile_views, reset_views, views

app_name = "accounts"

urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("register/", views.register, name="register"),
    path("me/", views.profile, name="profile"),
    path("me/profile/", profile_views.profile_edit, name="profile_edit"),
    path("me/password/", views.password_change, name="password_change"),
    path("password/reset/", reset_views.password_reset, name="password_reset"),
    path("password/reset/<str:uid>/<str:token>/", reset_views.password_reset_confirm, name="password_reset_confirm"),
    path("addresses/", views.addresses, name="addresses"),
    path("addresses/new/", views.address_new, name="address_new"),
    path("addresses/<id:pk>/", views.address_edit, name="address_edit"),
    path("addresses/<id:pk>/delete/", views.address_delete, name="address_delete"),
]
