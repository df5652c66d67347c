"""Product image checks and thumbnails: the shared decoder in core.images
(every pixel decoded before anything is stored), at the catalogue's size."""

from django.core.files.base import ContentFile

from shopyard.core import images as _core_images
from shopyard.core.images import ALLOWED_FORMATS, MAX_PIXELS, check_upload

__all__ = ["ALLOWED_FORMATS", "MAX_PIXELS", "THUMB_SIZE", "check_upload", "make_thumbnail"]

THUMB_SIZE = (400, 400)


def make_thumbnail(data: bytes, field="image") -> ContentFile:
    return _core_images.make_thumbnail(data, THUMB_SIZE, field)
