"""A damaged image is refused with a field message and leaves nothing behind:
no row, and no file in MEDIA_ROOT (a truncated JPEG used to pass `verify()`,
be stored, then crash the thumbnail: a 500 and an orphan original)."""

import io
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from shopyard.catalog import services
from shopyard.catalog.models import ProductImage
from shopyard.core.errors import ValidationFailed

from . import factories as f

pytestmark = pytest.mark.django_db

MESSAGE = "Upload a valid JPEG, PNG, WebP or GIF image."


def files_in(media):
    return sorted(p.name for p in media.rglob("*") if p.is_file()) if media.exists() else []


def _noisy(size=(160, 120)):
    """An image with detail, so that its compressed data is long enough to cut."""
    img = Image.new("RGB", size)
    img.putdata([((x * 7) % 256, (y * 13) % 256, (x * y) % 256) for y in range(size[1]) for x in range(size[0])])
    return img


def truncated_jpeg() -> bytes:
    out = io.BytesIO()
    _noisy().save(out, "JPEG", quality=95)
    data = out.getvalue()
    return data[: len(data) // 2]


def corrupt_png() -> bytes:
    """A PNG whose image data no longer inflates, with valid chunk CRCs
    (so only decoding the pixels finds the damage)."""
    out = io.BytesIO()
    _noisy().save(out, "PNG")
    data = bytearray(out.getvalue())
    start = data.index(b"IDAT") - 4
    length = int.from_bytes(data[start:start + 4], "big")
    body = start + 8
    data[body + 10: body + length] = bytes([0xFF]) * (length - 10)
    crc = zlib.crc32(bytes(data[start + 4: body + length])).to_bytes(4, "big")
    data[body + length: body + length + 4] = crc
    return bytes(data)


def bad_crc_png() -> bytes:
    out = io.BytesIO()
    _noisy().save(out, "PNG")
    data = bytearray(out.getvalue())
    data[data.index(b"IDAT") + 20] ^= 0xFF
    return bytes(data)


DAMAGED = {"truncated.jpg": (truncated_jpeg, "image/jpeg"), "corrupt.png": (corrupt_png, "image/png"),
           "bad-crc.png": (bad_crc_png, "image/png")}


@pytest.mark.parametrize("name", DAMAGED)
def test_console_refuses_damaged_image_and_stores_nothing(client, seller, product, media, name):
    # given a seller and a damaged image file
    make, content_type = DAMAGED[name]
    client.force_login(seller)
    # when it is uploaded in the console
    response = client.post(f"/console/products/{product.pk}/images/",
                           {"images": [SimpleUploadedFile(name, make(), content_type=content_type)]})
    # then the editor shows the field message, and neither a row nor a file exists
    assert response.status_code == 422
    assert f"{name}: {MESSAGE}" in response.content.decode()
    assert ProductImage.objects.count() == 0
    assert files_in(media) == []


@pytest.mark.parametrize("name", DAMAGED)
def test_api_refuses_damaged_image_and_stores_nothing(api, seller_token, product, media, name):
    make, content_type = DAMAGED[name]
    response = api.c.post(f"/api/v1/seller/products/{product.pk}/images",
                          {"image": SimpleUploadedFile(name, make(), content_type=content_type)}, **f.auth(seller_token))
    assert response.status_code == 422
    assert response.json()["fields"] == {"image": [MESSAGE]}
    assert ProductImage.objects.count() == 0
    assert files_in(media) == []


def test_failure_after_files_are_written_removes_them(seller, shop, product, media, monkeypatch):
    # given a valid image, and a database write that fails after both files are stored
    out = io.BytesIO()
    _noisy().save(out, "PNG")

    def broken_save(self, *args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(ProductImage, "save", broken_save)
    # when the upload is attached
    with pytest.raises(RuntimeError):
        services.add_image(actor=seller, shop=shop, product_id=product.pk,
                           upload=SimpleUploadedFile("ok.png", out.getvalue(), content_type="image/png"))
    # then no file is left behind
    assert files_in(media) == []


def test_failure_after_the_row_is_written_removes_files(seller, shop, product, media, monkeypatch):
    # the event write at the end of the transaction fails: the row rolls back, the files go too
    out = io.BytesIO()
    _noisy().save(out, "PNG")

    def broken_emit(*args, **kwargs):
        raise RuntimeError("outbox full")

    monkeypatch.setattr(services, "emit", broken_emit)
    with pytest.raises(RuntimeError):
        services.add_image(actor=seller, shop=shop, product_id=product.pk,
                           upload=SimpleUploadedFile("ok.png", out.getvalue(), content_type="image/png"))
    assert ProductImage.objects.count() == 0
    assert files_in(media) == []


def test_valid_image_is_stored_with_its_thumbnail(seller, shop, product, media):
    out = io.BytesIO()
    _noisy().save(out, "JPEG")
    image = services.add_image(actor=seller, shop=shop, product_id=product.pk,
                               upload=SimpleUploadedFile("ok.jpg", out.getvalue(), content_type="image/jpeg"))
    assert ProductImage.objects.get() == image
    assert len(files_in(media)) == 2


def test_check_upload_decodes_every_pixel():
    from shopyard.catalog.images import check_upload

    with pytest.raises(ValidationFailed) as exc:
        check_upload(SimpleUploadedFile("t.jpg", truncated_jpeg(), content_type="image/jpeg"))
    assert exc.value.fields == {"image": [MESSAGE]}
