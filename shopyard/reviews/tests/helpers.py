"""Helpers the review tests share (plain functions, not fixtures)."""

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image


def photo(name="p.png", size=(40, 30)):
    out = io.BytesIO()
    Image.new("RGB", size, (10, 120, 200)).save(out, "PNG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/png")


def not_an_image(name="p.jpg"):
    return SimpleUploadedFile(name, b"this is text, not a picture", content_type="image/jpeg")
