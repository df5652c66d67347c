"""Cart, checkout and order pages (placeholder until they land)."""

from django.http import HttpResponse


def _todo(request, *args, **kwargs):
    return HttpResponse("coming soon")


cart = cart_add = cart_line_update = cart_line_remove = checkout = orders = order_detail = _todo
order_cancel = order_confirm = order_pay = _todo
