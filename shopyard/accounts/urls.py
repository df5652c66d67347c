from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("register/", views.register, name="register"),
    path("me/", views.profile, name="profile"),
    path("me/password/", views.password_change, name="password_change"),
    path("addresses/", views.addresses, name="addresses"),
    path("addresses/new/", views.address_new, name="address_new"),
    path("addresses/<id:pk>/", views.address_edit, name="address_edit"),
    path("addresses/<id:pk>/delete/", views.address_delete, name="address_delete"),
    path("divisions/children/", views.division_options, name="division_options"),
    path("divisions/<str:code>/children/", views.division_options, name="division_children"),
]
