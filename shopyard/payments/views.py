from django.http import HttpResponse


def _todo(request, *args, **kwargs):
    return HttpResponse("coming soon")


simulated_gateway = payment_return = _todo
