from django.conf import settings
from django.http import JsonResponse
from django.utils.translation import gettext as _


class BodySizeLimitMiddleware:
    """Refuse oversized bodies before anything reads them (413, JSON)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = settings.MAX_REQUEST_BODY_BYTES
        if request.content_type and request.content_type.startswith("multipart/"):
            limit = settings.MAX_UPLOAD_BYTES * 6 + limit
        if length > limit:
            return JsonResponse(
                {"code": "payload_too_large", "message": _("The request body is too large."), "fields": {}},
                status=413,
            )
        return self.get_response(request)
