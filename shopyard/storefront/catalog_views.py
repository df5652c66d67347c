"""Catalogue pages (placeholder until the storefront lands)."""

from django.http import HttpResponse


def _todo(request, *args, **kwargs):
    return HttpResponse("coming soon")


home = category = product = search = shop = favourites = toggle_favourite = recently_viewed = _todo
