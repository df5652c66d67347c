"""Three views, the three yardsticks of issues 7 and 12: a JSON answer, one query,
and an order (stock taken and an order inserted in one transaction)."""

import random

from django.db import transaction
from django.db.models import F
from django.http import JsonResponse
from django.urls import path

from bare.models import Item, Order

ITEMS = 10_000


def json_view(request):
    return JsonResponse({"ok": True})


def one_query(request):
    row = Item.objects.filter(pk=random.randint(1, ITEMS)).values("id", "title", "price").first()
    return JsonResponse({"id": row["id"], "title": row["title"], "price": str(row["price"])})


def order(request):
    item_id = random.randint(1, ITEMS)
    with transaction.atomic():
        taken = Item.objects.filter(pk=item_id, stock__gte=1).update(stock=F("stock") - 1)
        if not taken:
            return JsonResponse({"detail": "out of stock"}, status=409)
        created = Order.objects.create(item_id=item_id, quantity=1)
    return JsonResponse({"id": created.pk}, status=201)


urlpatterns = [path("json", json_view), path("one", one_query), path("order", order)]
