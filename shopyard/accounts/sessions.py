"""Logged-in sessions a user can see and end (the security page and the API).

A small model of our own (UserSession) rather than django-user-sessions: that
package replaces Django's session app and engine with its own database store
and writes on every request; ours works beside any session engine (database,
cache, signed cookies), stores only a hash of a random per-session marker, and
touches `last_seen_at` at most every SESSION_TOUCH_SECONDS.
"""

import hashlib
import re
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from shopyard.core.errors import NotFound
from shopyard.core.events import emit

from .models import ApiToken, User, UserSession
from .throttle import client_address

MARKER = "_shopyard_session"
USER_AGENT_MAX = 300


def _hash(marker: str) -> str:
    return hashlib.sha256(marker.encode()).hexdigest()


def _user_agent(request) -> str:
    return (request.META.get("HTTP_USER_AGENT") or "")[:USER_AGENT_MAX]


def start(request, user) -> UserSession:
    """Record the request's session as a login of `user` (the middleware
    calls this for a logged-in session that has no record yet)."""
    marker = secrets.token_urlsafe(24)
    row = UserSession.objects.create(
        user=user, key_hash=_hash(marker), user_agent=_user_agent(request),
        ip=client_address(request), last_seen_at=timezone.now(),
    )
    request.session[MARKER] = marker
    request.user_session_id = row.pk
    return row


def current(request):
    """(id, user id, last seen) of the request's session record, or None when
    it has none (never recorded) — raises LookupError when it was revoked."""
    marker = request.session.get(MARKER)
    if not marker:
        return None
    row = UserSession.objects.filter(key_hash=_hash(str(marker))).values_list("pk", "user_id", "last_seen_at").first()
    if row is None:
        raise LookupError("revoked")
    return row


def touch_due(last, now) -> bool:
    """Whether a "last seen / last used" time read as `last` is written again at `now`:
    when never written, or SESSION_TOUCH_SECONDS ago or more. The one rule for session
    records and API tokens alike, so an active client costs one write per few minutes."""
    return last is None or (now - last).total_seconds() >= settings.SESSION_TOUCH_SECONDS


def touch(request, session_id: int, last_seen) -> None:
    now = timezone.now()
    if touch_due(last_seen, now):
        UserSession.objects.filter(pk=session_id).update(
            last_seen_at=now, ip=client_address(request), user_agent=_user_agent(request)
        )


def forget(request) -> None:
    """Logging out: the session's record goes with it."""
    marker = request.session.get(MARKER)
    if marker:
        UserSession.objects.filter(key_hash=_hash(str(marker))).delete()


def active_sessions(user) -> list:
    since = timezone.now() - timedelta(seconds=settings.SESSION_COOKIE_AGE)
    return list(UserSession.objects.filter(user=user, last_seen_at__gt=since))


@transaction.atomic
def revoke_session(*, actor: User, session_id: int) -> None:
    """End one of the actor's sessions; another user's id is not found."""
    deleted, _rows = UserSession.objects.filter(user=actor, pk=session_id).delete()
    if not deleted:
        raise NotFound(_("Session not found."))
    emit("user_session.revoked", user_id=actor.pk, session_ids=[session_id], reason="revoked")


@transaction.atomic
def revoke_other_sessions(*, actor: User, keep_session_id=None, tokens: bool = True) -> int:
    """Log out everywhere else: every other session and (with `tokens`) every
    API token of the actor. Returns how many sessions and tokens ended."""
    ids = list(UserSession.objects.filter(user=actor).exclude(pk=keep_session_id).values_list("pk", flat=True))
    ended, _rows = UserSession.objects.filter(pk__in=ids).delete()
    if tokens:
        token_ids = list(ApiToken.objects.filter(user=actor).values_list("pk", flat=True))
        dropped, _rows = ApiToken.objects.filter(pk__in=token_ids).delete()
        ended += dropped
        if token_ids:
            emit("api_token.revoked", user_id=actor.pk, token_ids=token_ids, reason="revoked_all")
    if ids:
        emit("user_session.revoked", user_id=actor.pk, session_ids=ids, reason="revoked_others")
    return ended


def purge_stale_sessions(now=None) -> int:
    """Periodic job: records of sessions idle longer than a session lives."""
    since = (now or timezone.now()) - timedelta(seconds=settings.SESSION_COOKIE_AGE)
    deleted, _rows = UserSession.objects.filter(last_seen_at__lte=since).delete()
    return deleted


_BROWSERS = [("Edg/", "Edge"), ("MicroMessenger", "WeChat"), ("OPR/", "Opera"), ("Firefox/", "Firefox"),
             ("Chrome/", "Chrome"), ("Safari/", "Safari")]
_SYSTEMS = [("iPhone", "iPhone"), ("iPad", "iPad"), ("Android", "Android"), ("Windows", "Windows"),
            ("Mac OS X", "macOS"), ("Linux", "Linux")]


def describe(user_agent: str) -> str:
    """"Chrome · Android" from a user-agent string (or the raw start of it)."""
    browser = next((name for mark, name in _BROWSERS if mark in user_agent), "")
    system = next((name for mark, name in _SYSTEMS if mark in user_agent), "")
    label = " · ".join(p for p in (browser, system) if p)
    return label or re.sub(r"\s+", " ", user_agent)[:60]
