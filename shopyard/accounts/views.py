from django.http import HttpResponse


def _todo(request, *args, **kwargs):
    return HttpResponse("coming soon")


login_view = logout_view = register = profile = addresses = address_new = address_edit = address_delete = _todo
