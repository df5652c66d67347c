"""Helpers the review tests share (plain functions, not fixtures)."""

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from shopyard.orders import services as order_services
from tests import factories as f


def completed_order(user, address, lines):
    """An order of `lines` ([(sku, quantity)]) placed, paid, shipped and received."""
    order = f.make_paid_order(user, address, lines)
    seller = order.shop.members.get(role="owner").user
    order_services.ship(actor=seller, shop=order.shop, order_id=order.pk, carrier="sf",
                        tracking_number="SF1428839201775")
    order = order_services.confirm_receipt(actor=user, order_id=order.pk)
    order.refresh_from_db()
    return order


def photo(name="p.png", size=(40, 30)):
    out = io.BytesIO()
    Image.new("RGB", size, (10, 120, 200)).save(out, "PNG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/png")


def not_an_image(name="p.jpg"):
    return SimpleUploadedFile(name, b"this is text, not a picture", content_type="image/jpeg")
