from django.urls import path

from . import views

app_name = "payments"

urlpatterns = [
    path("sim/<str:reference>/", views.simulated_gateway, name="simulated"),
    path("return/<str:reference>/", views.payment_return, name="return"),
]
