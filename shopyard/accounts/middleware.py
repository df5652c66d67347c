"""Ends revoked sessions and records new ones (see accounts.sessions).

It runs after AuthenticationMiddleware. A logged-in session whose record was
deleted (revoked from another device, or by a password change or reset) is
logged out before the view runs; a logged-in session without a record (just
logged in, or from before this feature) gets one after the view. Costs one
indexed read per logged-in request, and a write at most every
SESSION_TOUCH_SECONDS."""

from django.contrib.auth import SESSION_KEY
from django.contrib.auth import logout as auth_logout

from . import sessions


class SessionTrackingMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = getattr(request, "session", None)
        if session is not None and SESSION_KEY in session:
            try:
                row = sessions.current(request)
            except LookupError:
                auth_logout(request)
            else:
                if row is not None and str(row[1]) != str(session.get(SESSION_KEY)):
                    auth_logout(request)
                elif row is not None:
                    request.user_session_id = row[0]
                    sessions.touch(request, row[0], row[2])
        response = self.get_response(request)
        if session is not None and SESSION_KEY in session and not session.get(sessions.MARKER):
            user = getattr(request, "user", None)
            if user is not None and user.is_authenticated:
                sessions.start(request, user)
        return response
