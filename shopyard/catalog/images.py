"""Upload checks and thumbnails. Pillow decodes the file for real, so a text
file renamed .jpg, or a decompression bomb, is refused before storage."""

import io

from django.conf import settings
from django.core.files.base import ContentFile
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

from shopyard.core.errors import ValidationFailed

ALLOWED_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "GIF": "gif"}
MAX_PIXELS = 40_000_000
THUMB_SIZE = (400, 400)


def check_upload(upload, field="image"):
    size = getattr(upload, "size", None) or 0
    if size > settings.MAX_UPLOAD_BYTES:
        limit = settings.MAX_UPLOAD_BYTES
        size_text = f"{limit // (1024 * 1024)} MB" if limit >= 1024 * 1024 else f"{max(1, limit // 1024)} KB"
        raise ValidationFailed(fields={field: [_("The image is larger than %(size)s.") % {"size": size_text}]})
    if size == 0:
        raise ValidationFailed(fields={field: [_("The file is empty.")]})
    data = upload.read()
    upload.seek(0)
    try:
        with Image.open(io.BytesIO(data)) as img:
            fmt = img.format
            width, height = img.size
            if width * height > MAX_PIXELS:
                raise ValidationFailed(fields={field: [_("The image has too many pixels.")]})
            img.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError):
        raise ValidationFailed(fields={field: [_("Upload a valid JPEG, PNG, WebP or GIF image.")]}) from None
    if fmt not in ALLOWED_FORMATS:
        raise ValidationFailed(fields={field: [_("Upload a valid JPEG, PNG, WebP or GIF image.")]})
    return data, ALLOWED_FORMATS[fmt]


def make_thumbnail(data: bytes) -> ContentFile:
    with Image.open(io.BytesIO(data)) as img:
        img = img.convert("RGB")
        img.thumbnail(THUMB_SIZE)
        out = io.BytesIO()
        img.save(out, "JPEG", quality=82, optimize=True)
    return ContentFile(out.getvalue())
