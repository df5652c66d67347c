"""Logged-in sessions listed and revocable, with API tokens, on the security
page and the API; revoking a session logs that browser out."""

from datetime import timedelta

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from shopyard.accounts.models import ApiToken, UserSession
from shopyard.accounts.sessions import purge_stale_sessions
from tests import factories as f

pytestmark = pytest.mark.django_db

PHONE = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36"
DESKTOP = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"


def _browser(user_agent, ip):
    return Client(HTTP_USER_AGENT=user_agent, REMOTE_ADDR=ip)


def _log_in(browser, username="shopper"):
    response = browser.post(reverse("accounts:login"), {"username": username, "password": f.PASSWORD})
    assert response.status_code == 302
    return browser


def _logged_in(browser):
    return SESSION_KEY in browser.session


def test_the_security_page_lists_each_browser_and_token(shopper):
    phone = _log_in(_browser(PHONE, "203.0.113.5"))
    desktop = _log_in(_browser(DESKTOP, "198.51.100.9"))
    token = f.token_for(shopper)

    page = desktop.get(reverse("accounts:security"))

    assert page.status_code == 200
    html = page.content.decode()
    assert "Chrome · Android" in html and "203.0.113.5" in html
    assert "Firefox · Windows" in html and "198.51.100.9" in html
    assert html.count("This session") == 1
    assert html.index("Firefox · Windows") < html.index("This session") < html.index("Chrome · Android")
    assert f"{token[:8]}…" in html
    assert UserSession.objects.filter(user=shopper).count() == 2
    assert _logged_in(phone)


def test_revoking_a_session_logs_that_browser_out(shopper):
    phone = _log_in(_browser(PHONE, "203.0.113.5"))
    desktop = _log_in(_browser(DESKTOP, "198.51.100.9"))
    phone_session = UserSession.objects.get(user=shopper, user_agent=PHONE)

    response = desktop.post(reverse("accounts:revoke_session", args=[phone_session.pk]))

    assert (response.status_code, response["Location"]) == (302, reverse("accounts:security"))
    assert not UserSession.objects.filter(pk=phone_session.pk).exists()
    refused = phone.get(reverse("accounts:profile"))
    assert refused.status_code == 302 and refused["Location"].startswith(reverse("accounts:login"))
    assert not _logged_in(phone)
    assert desktop.get(reverse("accounts:profile")).status_code == 200


def test_revoking_another_users_session_is_404_and_changes_nothing(shopper, other_shopper):
    mine = _log_in(_browser(DESKTOP, "198.51.100.9"))
    theirs = _log_in(_browser(PHONE, "203.0.113.5"), "other")
    foreign = UserSession.objects.get(user=other_shopper)

    response = mine.post(reverse("accounts:revoke_session", args=[foreign.pk]))

    assert response.status_code == 404
    assert UserSession.objects.filter(pk=foreign.pk).exists()
    assert theirs.get(reverse("accounts:profile")).status_code == 200


def test_log_out_everywhere_else_keeps_this_browser_only(shopper):
    phone = _log_in(_browser(PHONE, "203.0.113.5"))
    desktop = _log_in(_browser(DESKTOP, "198.51.100.9"))
    f.token_for(shopper)

    response = desktop.post(reverse("accounts:log_out_others"))

    assert response.status_code == 302
    assert list(UserSession.objects.filter(user=shopper).values_list("user_agent", flat=True)) == [DESKTOP]
    assert not ApiToken.objects.filter(user=shopper).exists()
    phone.get(reverse("accounts:profile"))
    assert not _logged_in(phone)
    assert desktop.get(reverse("accounts:profile")).status_code == 200


def test_revoking_a_token_from_the_page(client, shopper, other_shopper, api):
    token = f.token_for(shopper)
    foreign = f.token_for(other_shopper)
    client.force_login(shopper)
    mine = ApiToken.objects.get(user=shopper)

    assert client.post(reverse("accounts:revoke_token", args=[ApiToken.objects.get(user=other_shopper).pk])).status_code == 404
    assert client.post(reverse("accounts:revoke_token", args=[mine.pk])).status_code == 302

    assert api.get("/me", token=token).status_code == 401
    assert api.get("/me", token=foreign).status_code == 200


def test_logging_out_removes_the_record(shopper):
    browser = _log_in(_browser(DESKTOP, "198.51.100.9"))
    assert UserSession.objects.filter(user=shopper).count() == 1
    browser.post(reverse("accounts:logout"))
    assert UserSession.objects.filter(user=shopper).count() == 0


def test_a_password_change_ends_the_other_sessions_records(shopper):
    phone = _log_in(_browser(PHONE, "203.0.113.5"))
    desktop = _log_in(_browser(DESKTOP, "198.51.100.9"))
    response = desktop.post(reverse("accounts:password_change"), {
        "old_password": f.PASSWORD, "new_password": "A-new-long-password-7", "new_password2": "A-new-long-password-7",
    })
    assert response.status_code == 302
    assert list(UserSession.objects.filter(user=shopper).values_list("user_agent", flat=True)) == [DESKTOP]
    phone.get(reverse("accounts:profile"))
    assert not _logged_in(phone)
    assert desktop.get(reverse("accounts:security")).status_code == 200


def test_last_seen_is_written_at_most_every_few_minutes(shopper, settings):
    settings.SESSION_TOUCH_SECONDS = 300
    browser = _log_in(_browser(DESKTOP, "198.51.100.9"))
    row = UserSession.objects.get(user=shopper)
    recent = timezone.now() - timedelta(seconds=60)
    UserSession.objects.filter(pk=row.pk).update(last_seen_at=recent)
    browser.get(reverse("accounts:profile"))
    assert UserSession.objects.get(pk=row.pk).last_seen_at == recent
    old = timezone.now() - timedelta(seconds=301)
    UserSession.objects.filter(pk=row.pk).update(last_seen_at=old)
    browser.get(reverse("accounts:profile"))
    assert UserSession.objects.get(pk=row.pk).last_seen_at > old


def test_stale_records_are_purged(shopper, settings):
    _log_in(_browser(DESKTOP, "198.51.100.9"))
    row = UserSession.objects.get(user=shopper)
    UserSession.objects.filter(pk=row.pk).update(
        last_seen_at=timezone.now() - timedelta(seconds=settings.SESSION_COOKIE_AGE + 1)
    )
    assert purge_stale_sessions() == 1
    assert not UserSession.objects.exists()


# --- API ----------------------------------------------------------------------


def test_api_lists_and_revokes_sessions(api, shopper, other_shopper):
    phone = _log_in(_browser(PHONE, "203.0.113.5"))
    _log_in(_browser(PHONE, "203.0.113.6"), "other")
    token = f.token_for(shopper)

    listed = api.get("/auth/sessions", token=token)

    assert listed.status_code == 200
    [item] = listed.json()
    assert (item["device"], item["ip"], item["user_agent"]) == ("Chrome · Android", "203.0.113.5", PHONE)
    foreign = UserSession.objects.get(user=other_shopper)
    assert api.delete(f"/auth/sessions/{foreign.pk}", token=token).status_code == 404
    assert UserSession.objects.filter(pk=foreign.pk).exists()
    assert api.delete(f"/auth/sessions/{item['id']}", token=token).status_code == 204
    assert api.get("/auth/sessions", token=token).json() == []
    phone.get(reverse("accounts:profile"))
    assert not _logged_in(phone)


def test_api_sessions_need_a_token(api):
    assert api.get("/auth/sessions").status_code == 401
    assert api.delete("/auth/sessions/1").status_code == 401
