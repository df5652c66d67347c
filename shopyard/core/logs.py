"""Structured logs: one line per request and per task, JSON in production and
plain text in the demo, every line carrying the request id it belongs to.

structlog renders every stdlib record (ours, Django's, Celery's), so one
handler on the root logger prints each line once; Celery is told not to add
handlers of its own (shopyard/celery.py). The request id lives in a
contextvar (structlog.contextvars), bound by RequestLogMiddleware and carried
into the tasks a request queues through a message header.

Nothing secret reaches a line: the fields below are the only ones a request
line has (no query string, no client address, no headers, no body), a path
whose URL carries a token is logged as its route, and `redact` drops any
field whose name says it is a secret or personal data, whoever logs it.
"""

import functools
import logging
import re
import time
import uuid
from datetime import datetime

import structlog

REQUEST_ID_HEADER = "X-Request-ID"
# the same header as the WSGI environ names it: read there, a request's id does not build
# request.headers (a dict of every header) on a request nothing else asks it of
REQUEST_ID_META = "HTTP_" + REQUEST_ID_HEADER.upper().replace("-", "_")
# an upstream id is kept only when it is short and plain (it is echoed in a header)
_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")
TASK_HEADER = "shopyard_request_id"

# field names never printed, whatever the caller passes (substring match, lower case)
SECRET_FIELDS = ("password", "passwd", "secret", "token", "authorization", "cookie", "session",
                 "address", "phone", "mobile", "email", "card", "ip")
# URL keyword arguments whose values are secrets: such a path is logged as its route
SECRET_URL_KWARGS = {"token", "uidb64", "key", "secret", "signature"}

request_log = logging.getLogger("shopyard.requests")
task_log = logging.getLogger("shopyard.tasks")


def local_timestamp(_logger, _method, event_dict):
    """ISO 8601 with the offset (2026-11-26T15:02:38.120+08:00)."""
    event_dict["timestamp"] = datetime.now().astimezone().isoformat(timespec="milliseconds")
    return event_dict


_SECRET_RE = re.compile("|".join(re.escape(p) for p in SECRET_FIELDS if p != "ip"))
# a mainland mobile number (kept as 138****8000 in logs, enough to tell two apart), an
# international number written with its "+", or a landline with its area code (021-12345678);
# not dates, order numbers or other runs of digits, which logs need
PHONE_RE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)|\+\d[\d\s-]{7,}\d|(?<![\d-])0\d{2,3}-\d{7,8}(?!\d)")


@functools.lru_cache(maxsize=2048)
def is_secret_name(name) -> bool:
    """A field, header or variable whose name says it holds a secret or personal data
    (logs and error reports both ask this)."""
    lowered = str(name).lower()
    return lowered in {"ip", "ip_address", "remote_addr", "client"} or _SECRET_RE.search(lowered) is not None


def _masked(match) -> str:
    return f"{match.group(1)}****{match.group(2)}" if match.group(1) else "[redacted]"


def mask_phones(text: str) -> str:
    """Phone numbers inside free text (a log message, an SMS line) masked."""
    return PHONE_RE.sub(_masked, text)


def redact(_logger, _method, event_dict):
    """Drop the fields that would carry a secret or personal data, and mask phone
    numbers inside the others, whoever logs them (the console SMS provider does)."""
    for name, value in event_dict.items():
        if is_secret_name(name):
            event_dict[name] = "[redacted]"
        elif isinstance(value, str):
            event_dict[name] = mask_phones(value)
    return event_dict


def _pre_chain():
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.ExtraAdder(),
        local_timestamp,
        redact,
    ]


def formatter(fmt: str = "json") -> logging.Formatter:
    """The formatter of every line: `fmt` is "json" (one JSON object a line) or "text"."""
    renderer = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_pre_chain(),
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            renderer,
        ],
    )


def logging_config(*, fmt: str, level: str, request_level: str) -> dict:
    """The LOGGING dict: one handler, on the root logger, that every logger
    propagates to, so no line is printed twice."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"structured": {"()": "shopyard.core.logs.formatter", "fmt": fmt}},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "structured"}},
        "root": {"handlers": ["console"], "level": "WARNING"},
        "loggers": {
            "shopyard": {"level": level},
            "shopyard.requests": {"level": request_level},
            "shopyard.tasks": {"level": request_level},
            # Django's own console handler (DEBUG only) would print django.* lines a second time
            "django": {"handlers": [], "level": "INFO", "propagate": True},
            "django.request": {"level": "ERROR"},
            "celery": {"level": "INFO"},
            # Celery's "Task … succeeded in …" line: ours (shopyard.tasks) replaces it; failures still log
            "celery.app.trace": {"level": "WARNING"},
        },
    }


def configure_structlog() -> None:
    """structlog's own loggers (if any code uses them) go through stdlib logging too."""
    structlog.configure(
        processors=[*_pre_chain(), structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


def new_request_id() -> str:
    return uuid.uuid4().hex


def accepted_request_id(value: str | None) -> str:
    """The caller's X-Request-ID when it looks like an id, else a fresh one."""
    if value and _REQUEST_ID_RE.match(value):
        return value
    return new_request_id()


# answers a well-behaved client gets in normal trading, logged at info: a page that is
# gone, and a conflict with the state of things (sold out, an order already paid); the
# 19,500 "sold out" answers of one flash sale are not 19,500 warnings for an operator
ROUTINE_4XX = frozenset({404, 409})


def log_request(*, method, path, status, started, user_id=None) -> None:
    """The one line per request (RequestLogMiddleware's, and the flash-sale gate's
    for the answers it gives before Django runs); `started` is time.monotonic()."""
    level = 40 if status >= 500 else 30 if status >= 400 and status not in ROUTINE_4XX else 20
    if request_log.isEnabledFor(level):
        request_log.log(level, "request", extra={
            "method": method, "path": path, "status": status,
            "duration_ms": round((time.monotonic() - started) * 1000, 1), "user_id": user_id,
        })


def current_request_id() -> str | None:
    return structlog.contextvars.get_contextvars().get("request_id")


def loggable_path(request) -> str:
    """The path without its query string; a URL that carries a token (a password
    reset link, say) is logged as its route pattern instead."""
    match = getattr(request, "resolver_match", None)
    if match is not None and SECRET_URL_KWARGS & set(match.kwargs):
        return "/" + match.route
    return request.path


# --- tasks -------------------------------------------------------------------
_started: dict[str, float] = {}


def task_headers(headers=None, **_kwargs):
    """before_task_publish: the request id travels with the task."""
    request_id = current_request_id()
    if request_id and headers is not None:
        headers[TASK_HEADER] = request_id


def _request_id_of(task) -> str | None:
    found = getattr(task.request, TASK_HEADER, None)
    if found:
        return found
    headers = getattr(task.request, "headers", None) or {}
    return headers.get(TASK_HEADER)


def task_started(task_id=None, task=None, **_kwargs):
    """task_prerun: on a worker, the task's lines carry the id of the request
    that queued it; an eager task runs inside that request and keeps its context."""
    if task is None:
        return
    if not task.request.is_eager:
        structlog.contextvars.clear_contextvars()
        request_id = _request_id_of(task)
        if request_id:
            structlog.contextvars.bind_contextvars(request_id=request_id)
    _started[task_id] = time.monotonic()


def task_finished(task_id=None, task=None, state=None, **_kwargs):
    """task_postrun: one line per task run, with its outcome and duration."""
    if task is None:
        return
    started = _started.pop(task_id, None)
    duration_ms = round((time.monotonic() - started) * 1000, 1) if started is not None else None
    outcome = (state or "UNKNOWN").lower()
    level = logging.INFO if outcome in {"success", "retry"} else logging.WARNING
    task_log.log(level, "task", extra={"task": task.name, "task_id": task_id, "outcome": outcome,
                                       "duration_ms": duration_ms})
    from .metrics import task_outcome

    task_outcome(task.name, outcome)
    if not task.request.is_eager:
        structlog.contextvars.clear_contextvars()


def connect_task_signals() -> None:
    from celery.signals import before_task_publish, task_postrun, task_prerun

    before_task_publish.connect(task_headers, weak=False, dispatch_uid="shopyard-task-headers")
    task_prerun.connect(task_started, weak=False, dispatch_uid="shopyard-task-started")
    task_postrun.connect(task_finished, weak=False, dispatch_uid="shopyard-task-finished")
