"""Image upload checks shared by every app that stores pictures (product
images, avatars). Pillow decodes the file for real, so a text file renamed
.jpg, a truncated JPEG, a PNG with a broken chunk or a decompression bomb is
refused before anything is written to storage."""

import io

from django.conf import settings
from django.core.files.base import ContentFile
from django.utils.translation import gettext as _
from PIL import Image, ImageFile, UnidentifiedImageError

from .errors import ValidationFailed

ALLOWED_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "GIF": "gif"}
MAX_PIXELS = 40_000_000
# Pillow errors a damaged file can raise while decoding
_DECODE_ERRORS = (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError)


def _invalid(field):
    return ValidationFailed(fields={field: [_("Upload a valid JPEG, PNG, WebP or GIF image.")]})


def check_upload(upload, field="image", max_bytes=None):
    """The upload's bytes and extension, once the whole image has decoded.
    `verify()` checks the structure (PNG chunk CRCs) but not the pixel data,
    and leaves the image unusable, so a fresh open then `load()`s every
    pixel: a truncated JPEG fails there, not later in the thumbnail."""
    size = getattr(upload, "size", None) or 0
    limit = max_bytes or settings.MAX_UPLOAD_BYTES
    if size > limit:
        size_text = f"{limit // (1024 * 1024)} MB" if limit >= 1024 * 1024 else f"{max(1, limit // 1024)} KB"
        raise ValidationFailed(fields={field: [_("The image is larger than %(size)s.") % {"size": size_text}]})
    if size == 0:
        raise ValidationFailed(fields={field: [_("The file is empty.")]})
    data = upload.read()
    upload.seek(0)
    if ImageFile.LOAD_TRUNCATED_IMAGES:
        raise RuntimeError("PIL.ImageFile.LOAD_TRUNCATED_IMAGES must stay off: it accepts truncated uploads")
    try:
        with Image.open(io.BytesIO(data)) as img:
            fmt = img.format
            width, height = img.size
            if width * height > MAX_PIXELS:
                raise ValidationFailed(fields={field: [_("The image has too many pixels.")]})
            img.verify()
        with Image.open(io.BytesIO(data)) as img:
            img.load()
    except _DECODE_ERRORS:
        raise _invalid(field) from None
    if fmt not in ALLOWED_FORMATS:
        raise _invalid(field)
    return data, ALLOWED_FORMATS[fmt]


def make_thumbnail(data: bytes, size: tuple[int, int], field="image") -> ContentFile:
    """A JPEG no larger than `size`, keeping the aspect ratio."""
    try:
        with Image.open(io.BytesIO(data)) as img:
            img = img.convert("RGB")
            img.thumbnail(size)
            out = io.BytesIO()
            img.save(out, "JPEG", quality=82, optimize=True)
    except _DECODE_ERRORS:
        raise _invalid(field) from None
    return ContentFile(out.getvalue())


def delete_written(files) -> None:
    """Remove the stored files of a write that failed (its transaction rolled back, so
    nothing points at them). A file already gone, or a storage that is down, is left:
    the caller is raising the first error, which must not be masked by this one."""
    for file in files:
        try:
            file.storage.delete(file.name)
        except OSError:
            pass
