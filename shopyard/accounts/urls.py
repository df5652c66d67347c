from django.urls import path

from . import profile_views, reset_views, security_views, views

app_name = "accounts"

urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("register/", views.register, name="register"),
    path("me/", views.profile, name="profile"),
    path("me/profile/", profile_views.profile_edit, name="profile_edit"),
    path("me/security/", security_views.security, name="security"),
    path("me/security/sessions/<id:pk>/revoke/", security_views.revoke_session, name="revoke_session"),
    path("me/security/tokens/<id:pk>/revoke/", security_views.revoke_token, name="revoke_token"),
    path("me/security/log-out-others/", security_views.log_out_others, name="log_out_others"),
    path("me/password/", views.password_change, name="password_change"),
    path("password/reset/", reset_views.password_reset, name="password_reset"),
    path("password/reset/<str:uid>/<str:token>/", reset_views.password_reset_confirm, name="password_reset_confirm"),
    path("addresses/", views.addresses, name="addresses"),
    path("addresses/new/", views.address_new, name="address_new"),
    path("addresses/<id:pk>/", views.address_edit, name="address_edit"),
    path("addresses/<id:pk>/delete/", views.address_delete, name="address_delete"),
    path("divisions/children/", views.division_options, name="division_options"),
    path("divisions/<str:code>/children/", views.division_options, name="division_children"),
]
