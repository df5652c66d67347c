"""Forgot password: a single-use, expiring link by e-mail, on the pages and
the API; the same answer for unknown addresses; throttled."""

import re
from datetime import datetime, timedelta

import pytest
from django.contrib.auth import SESSION_KEY
from django.core import mail
from django.test import Client
from django.urls import reverse

from shopyard.accounts.models import User
from shopyard.core.models import OutboxEvent
from tests import factories as f

pytestmark = pytest.mark.django_db

NEW = "A-brand-new-pass-42"
LINK = re.compile(r"https?://[^/\s]+(/accounts/password/reset/([^/\s]+)/([^/\s]+)/)")


@pytest.fixture
def owner(db):
    return f.make_user("forgetful", email="forgetful@example.com")


def _request(client, email, capture):
    with capture(execute=True):
        return client.post(reverse("accounts:password_reset"), {"email": email})


def _link(message):
    match = LINK.search(message.body)
    assert match, message.body
    return match.group(1), match.group(2), match.group(3)


def _page(response):
    """The page without its per-response CSRF tokens."""
    return re.sub(r"[A-Za-z0-9]{64}", "<csrf>", response.content.decode())


def _set(client, path, password=NEW):
    return client.post(path, {"new_password": password, "new_password2": password})


def test_reset_mail_has_a_link_that_works_once(client, owner, django_capture_on_commit_callbacks):
    # given the owner asks for a link
    response = _request(client, "Forgetful@Example.com", django_capture_on_commit_callbacks)
    assert response.status_code == 200
    assert "If an account uses this e-mail address" in response.content.decode()
    # then one e-mail went to the account's address
    assert [m.to for m in mail.outbox] == [["forgetful@example.com"]]
    path, _uid, _token = _link(mail.outbox[0])
    # when the link is opened and a new password chosen
    assert client.get(path).status_code == 200
    response = _set(client, path)
    # then the password is the new one
    assert (response.status_code, response["Location"]) == (302, reverse("accounts:login"))
    assert User.objects.get(pk=owner.pk).check_password(NEW)
    # and the same link a second time shows a clear message and writes nothing
    password_hash = User.objects.get(pk=owner.pk).password
    again = client.get(path)
    assert again.status_code == 400
    assert "already been used or has expired" in again.content.decode()
    again = _set(client, path, "Yet-another-pass-99")
    assert again.status_code == 400
    assert "already been used or has expired" in again.content.decode()
    assert User.objects.get(pk=owner.pk).password == password_hash


def test_an_expired_link_fails_and_writes_nothing(client, owner, settings, django_capture_on_commit_callbacks,
                                                  monkeypatch):
    # given a link, and the clock moved past the reset timeout
    settings.PASSWORD_RESET_TIMEOUT = 3600
    _request(client, owner.email, django_capture_on_commit_callbacks)
    path, _uid, _token = _link(mail.outbox[0])
    from django.contrib.auth.tokens import default_token_generator

    later = datetime.now() + timedelta(seconds=3601)  # the generator's clock is naive local time
    monkeypatch.setattr(default_token_generator, "_now", lambda: later)
    before = User.objects.get(pk=owner.pk).password
    # when it is opened and posted, then it is refused with a message
    response = client.get(path)
    assert response.status_code == 400
    assert "already been used or has expired" in response.content.decode()
    assert _set(client, path).status_code == 400
    assert User.objects.get(pk=owner.pk).password == before


def test_the_message_is_in_the_shoppers_language(owner, django_capture_on_commit_callbacks):
    # given a Chinese-speaking shopper
    client = Client(headers={"Accept-Language": "zh-hans"})
    _request(client, owner.email, django_capture_on_commit_callbacks)
    path, _uid, _token = _link(mail.outbox[0])
    _set(client, path)
    # when the used link is opened again, then the page is in Chinese
    response = client.get(path)
    assert response.status_code == 400
    assert 'lang="zh-hans"' in response.content.decode()


def test_unknown_address_gets_the_same_answer_and_no_mail(client, owner, django_capture_on_commit_callbacks):
    known = _request(client, owner.email, django_capture_on_commit_callbacks)
    mail.outbox.clear()
    events = OutboxEvent.objects.count()

    unknown = _request(client, "nobody@example.com", django_capture_on_commit_callbacks)

    assert (unknown.status_code, _page(unknown)) == (known.status_code, _page(known))
    assert mail.outbox == []
    assert OutboxEvent.objects.count() == events


def test_a_bad_address_is_a_field_error(client, django_capture_on_commit_callbacks):
    response = _request(client, "not-an-address", django_capture_on_commit_callbacks)
    assert response.status_code == 422
    assert "Enter a valid e-mail address." in response.content.decode()
    assert mail.outbox == []


def test_requests_are_throttled_per_address(client, owner, settings, django_capture_on_commit_callbacks):
    settings.PASSWORD_RESETS_PER_ADDRESS = 2
    for _ in range(2):
        assert _request(client, owner.email, django_capture_on_commit_callbacks).status_code == 200
    # a third request for the address, even from another client, waits
    other = Client(REMOTE_ADDR="198.51.100.7")
    response = _request(other, owner.email, django_capture_on_commit_callbacks)
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert len(mail.outbox) == 2
    # an unknown address is counted the same way (the limit reveals nothing)
    for _ in range(2):
        assert _request(client, "ghost@example.com", django_capture_on_commit_callbacks).status_code == 200
    assert _request(client, "ghost@example.com", django_capture_on_commit_callbacks).status_code == 429


def test_requests_are_throttled_per_client(client, owner, settings, django_capture_on_commit_callbacks):
    settings.PASSWORD_RESETS_PER_CLIENT = 3
    for n in range(3):
        assert _request(client, f"a{n}@example.com", django_capture_on_commit_callbacks).status_code == 200
    response = _request(client, owner.email, django_capture_on_commit_callbacks)
    assert response.status_code == 429
    assert mail.outbox == []


def test_reset_ends_other_sessions_and_api_tokens(client, api, owner, django_capture_on_commit_callbacks):
    # given the owner is logged in elsewhere, and holds an API token
    elsewhere = Client()
    elsewhere.force_login(owner)
    token = f.token_for(owner)
    assert api.get("/me", token=token).status_code == 200
    # when the password is reset by e-mail
    _request(client, owner.email, django_capture_on_commit_callbacks)
    path, _uid, _token = _link(mail.outbox[0])
    assert _set(client, path).status_code == 302
    # then the other browser is logged out and the token gets 401
    elsewhere.get(reverse("accounts:profile"))
    assert SESSION_KEY not in elsewhere.session
    assert api.get("/me", token=token).status_code == 401


def test_a_weak_password_is_a_field_error_and_the_link_stays_valid(client, owner, django_capture_on_commit_callbacks):
    _request(client, owner.email, django_capture_on_commit_callbacks)
    path, _uid, _token = _link(mail.outbox[0])
    before = User.objects.get(pk=owner.pk).password

    response = _set(client, path, "123")

    assert response.status_code == 422
    assert User.objects.get(pk=owner.pk).password == before
    assert _set(client, path).status_code == 302


@pytest.mark.parametrize("uid,token", [("x", "y"), ("MQ", "bad-token"), ("%00", "1"), ("A" * 30, "t"), ("4oCU", "t")])
def test_forged_links_are_refused(client, owner, uid, token):
    response = client.get(f"/accounts/password/reset/{uid}/{token}/")
    assert response.status_code == 400
    assert User.objects.get(pk=owner.pk).password == owner.password


# --- API ----------------------------------------------------------------------


def test_api_reset_is_202_either_way_and_the_link_works_once(api, owner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        unknown = api.post("/auth/password-reset", {"email": "nobody@example.com"})
    assert unknown.status_code == 202
    assert mail.outbox == []
    with django_capture_on_commit_callbacks(execute=True):
        known = api.post("/auth/password-reset", {"email": owner.email})
    assert (known.status_code, known.json()) == (202, unknown.json())
    _path, uid, token = _link(mail.outbox[0])

    first = api.post("/auth/password-reset/confirm", {"uid": uid, "token": token, "new_password": NEW})
    assert first.status_code == 200
    assert User.objects.get(pk=owner.pk).check_password(NEW)

    second = api.post("/auth/password-reset/confirm", {"uid": uid, "token": token, "new_password": "Other-pass-77x"})
    assert second.status_code == 422
    assert list(second.json()["fields"]) == ["token"]
    assert User.objects.get(pk=owner.pk).check_password(NEW)


def test_api_reset_is_throttled(api, owner, settings):
    settings.PASSWORD_RESETS_PER_CLIENT = 1
    assert api.post("/auth/password-reset", {"email": owner.email}).status_code == 202
    response = api.post("/auth/password-reset", {"email": owner.email})
    assert response.status_code == 429
    assert response["Retry-After"]


def test_api_confirm_with_a_weak_password_is_422_on_the_field(api, owner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        api.post("/auth/password-reset", {"email": owner.email})
    _path, uid, token = _link(mail.outbox[0])
    response = api.post("/auth/password-reset/confirm", {"uid": uid, "token": token, "new_password": "12345678"})
    assert response.status_code == 422
    assert list(response.json()["fields"]) == ["new_password"]
    assert User.objects.get(pk=owner.pk).password == owner.password


@pytest.mark.django_db(transaction=True)
def test_one_link_used_twice_at_once_sets_the_password_once():
    """Real threads: the user row is locked and the token checked again under
    the lock, so of two parallel uses of one link exactly one succeeds."""
    import threading

    from django.contrib.auth.tokens import default_token_generator
    from django.db import connection
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    from shopyard.accounts.password_reset import confirm_reset
    from shopyard.core.errors import ValidationFailed

    user = f.make_user("racer", email="racer@example.com")
    uid, token = urlsafe_base64_encode(force_bytes(user.pk)), default_token_generator.make_token(user)
    passwords = ["First-racer-pass-1", "Second-racer-pass-2"]
    barrier = threading.Barrier(2)
    outcomes = [None, None]

    def use(i):
        try:
            barrier.wait(timeout=60)
            confirm_reset(uid=uid, token=token, new_password=passwords[i])
            outcomes[i] = "ok"
        except ValidationFailed as exc:
            outcomes[i] = sorted(exc.fields)
        except Exception as exc:  # anything else is a bug: keep it for the assert message
            outcomes[i] = repr(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=use, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)

    assert sorted(outcomes, key=str) == sorted(["ok", ["token"]], key=str)
    winner = passwords[outcomes.index("ok")]
    assert User.objects.get(pk=user.pk).check_password(winner)
