"""Error reports to Sentry, on when SENTRY_DSN is set, with personal data removed.

send_default_pii stays off (no user names, e-mails or client addresses: it is
left at the SDK's default, off, as passing it at all is deprecated), and
`scrub` removes what the SDK would still send: cookies, the Authorization and
Cookie headers, query strings, request bodies, and any field or frame variable
whose name says it is an address, a phone number, a password or a token.
"""

from .logs import PHONE_RE, is_secret_name

FILTERED = "[Filtered]"
_HEADERS_KEPT = {"user-agent", "accept", "accept-language", "content-type", "content-length", "host",
                 "x-request-id", "referer"}


def _scrub_value(value, depth=0):
    if depth > 6:
        return FILTERED
    if isinstance(value, dict):
        return {k: (FILTERED if is_secret_name(k) else _scrub_value(v, depth + 1)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub_value(v, depth + 1) for v in value]
    if isinstance(value, str):
        return PHONE_RE.sub(FILTERED, value)
    return value


def scrub(event, hint=None):
    """before_send: the event without cookies, credentials or personal data."""
    request = event.get("request")
    if isinstance(request, dict):
        request.pop("cookies", None)
        request.pop("data", None)
        request.pop("env", None)
        if request.get("query_string"):
            request["query_string"] = FILTERED
        headers = request.get("headers") or {}
        request["headers"] = {k: v for k, v in headers.items() if k.lower() in _HEADERS_KEPT}
    user = event.get("user")
    if isinstance(user, dict):
        event["user"] = {"id": user["id"]} if "id" in user else {}
    for key in ("extra", "contexts", "tags"):
        if isinstance(event.get(key), dict):
            event[key] = _scrub_value(event[key])
    for exception in (event.get("exception") or {}).get("values") or []:
        if isinstance(exception.get("value"), str):
            exception["value"] = PHONE_RE.sub(FILTERED, exception["value"])
        for frame in (exception.get("stacktrace") or {}).get("frames") or []:
            if isinstance(frame.get("vars"), dict):
                frame["vars"] = _scrub_value(frame["vars"])
            for key in ("pre_context", "context_line", "post_context"):
                if key in frame:
                    frame[key] = _scrub_value(frame[key])
    for crumb in (event.get("breadcrumbs") or {}).get("values") or []:
        if isinstance(crumb.get("data"), dict):
            crumb["data"] = _scrub_value(crumb["data"])
        if isinstance(crumb.get("message"), str):
            crumb["message"] = PHONE_RE.sub(FILTERED, crumb["message"])
    if isinstance(event.get("message"), str):
        event["message"] = PHONE_RE.sub(FILTERED, event["message"])
    logentry = event.get("logentry")
    if isinstance(logentry, dict) and isinstance(logentry.get("message"), str):
        logentry["message"] = PHONE_RE.sub(FILTERED, logentry["message"])
        logentry.pop("params", None)
    return event


def init(dsn: str, *, environment: str = "production", release: str | None = None, transport=None) -> None:
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    options = {}
    if transport is not None:
        options["transport"] = transport
    sentry_sdk.init(
        dsn=dsn, environment=environment, release=release,
        before_send=scrub, max_request_body_size="never", include_local_variables=True,
        integrations=[DjangoIntegration(), CeleryIntegration()], **options,
    )
