"""API tokens: they expire, can be revoked one by one or all at once, die
when the password changes by any path, and their owner can list them."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from shopyard.accounts.models import ApiToken, User
from shopyard.accounts.services import purge_expired_tokens
from shopyard.core.models import OutboxEvent
from tests import factories as f

pytestmark = pytest.mark.django_db


def _login(api, username="shopper", password=f.PASSWORD):
    response = api.post("/auth/token", {"username": username, "password": password})
    assert response.status_code == 200, response.content
    return response.json()["token"]


def _works(api, token) -> bool:
    response = api.get("/me", token=token)
    assert response.status_code in (200, 401), response.content
    return response.status_code == 200


# --- expiry ---------------------------------------------------------------------------


def test_token_lifetime_is_configurable(api, shopper, settings):
    settings.API_TOKEN_DAYS = 7
    before = timezone.now()

    _login(api)

    token = ApiToken.objects.get(user=shopper)
    assert before + timedelta(days=7) <= token.expires_at <= timezone.now() + timedelta(days=7)


def test_an_expired_token_gets_401(api, shopper):
    token = _login(api)
    assert _works(api, token)

    ApiToken.objects.filter(user=shopper).update(expires_at=timezone.now() - timedelta(seconds=1))

    response = api.get("/me", token=token)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_the_periodic_job_purges_expired_tokens_only(shopper):
    live = f.token_for(shopper)
    f.token_for(shopper)
    ApiToken.objects.exclude(key_hash=ApiToken.hash(live)).update(expires_at=timezone.now() - timedelta(days=1))

    assert purge_expired_tokens() == 1

    assert list(ApiToken.objects.values_list("key_hash", flat=True)) == [ApiToken.hash(live)]


# --- revocation -------------------------------------------------------------------------


def test_delete_auth_token_revokes_only_the_token_used(api, shopper):
    phone, laptop = _login(api), _login(api)

    response = api.delete("/auth/token", token=phone)

    assert response.status_code == 204
    assert not _works(api, phone)
    assert _works(api, laptop)
    assert ApiToken.objects.filter(user=shopper).count() == 1
    event = OutboxEvent.objects.get(name="api_token.revoked")
    assert event.payload["user_id"] == shopper.pk and event.payload["reason"] == "revoked"


def test_delete_auth_tokens_logs_out_everywhere_but_not_other_users(api, shopper, other_shopper):
    mine = [_login(api) for _ in range(3)]
    theirs = _login(api, "other")

    response = api.delete("/auth/tokens", token=mine[0])

    assert response.status_code == 200
    assert response.json() == {"revoked": 3}
    assert [_works(api, t) for t in mine] == [False, False, False]
    assert _works(api, theirs)


def test_revoke_one_token_by_id_and_another_users_id_is_404(api, shopper, other_shopper):
    mine, spare = _login(api), _login(api)
    theirs = _login(api, "other")
    their_id = ApiToken.objects.get(user=other_shopper).pk
    spare_id = ApiToken.objects.get(key_hash=ApiToken.hash(spare)).pk

    assert api.delete(f"/auth/tokens/{their_id}", token=mine).status_code == 404
    assert _works(api, theirs)  # untouched

    assert api.delete(f"/auth/tokens/{spare_id}", token=mine).status_code == 204
    assert not _works(api, spare)
    assert _works(api, mine)


def test_revoked_or_missing_token_cannot_revoke(api, shopper):
    token = _login(api)
    assert api.delete("/auth/token", token=token).status_code == 204

    assert api.delete("/auth/token", token=token).status_code == 401
    assert api.delete("/auth/tokens").status_code == 401


# --- a password change revokes every token --------------------------------------------


def test_set_password_in_a_shell_revokes_every_token(api, shopper):
    tokens = [_login(api), _login(api)]

    user = User.objects.get(pk=shopper.pk)
    user.set_password("A-new-long-password-7")
    user.save()

    assert [_works(api, t) for t in tokens] == [False, False]
    fresh = _login(api, password="A-new-long-password-7")
    assert _works(api, fresh)


def test_password_change_in_the_admin_revokes_every_token(api, shopper, client):
    token = _login(api)
    operator = User.objects.create_superuser("root", "root@example.com", f.PASSWORD)
    client.force_login(operator)

    response = client.post(
        reverse("admin:auth_user_password_change", args=[shopper.pk]),
        {"password1": "A-new-long-password-7", "password2": "A-new-long-password-7", "usable_password": "true"},
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    assert not _works(api, token)


def test_a_password_change_back_and_forth_still_revokes(api, shopper):
    # the fingerprint is of the salted hash: setting the same password again gives a new salt
    token = _login(api)
    user = User.objects.get(pk=shopper.pk)
    user.set_password(f.PASSWORD)
    user.save()

    assert not _works(api, token)


def test_a_deactivated_user_gets_401(api, shopper):
    token = _login(api)
    User.objects.filter(pk=shopper.pk).update(is_active=False)

    assert not _works(api, token)


def test_rotating_the_secret_key_with_a_fallback_keeps_tokens(api, shopper, settings):
    token = _login(api)
    old = settings.SECRET_KEY

    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "a-brand-new-secret-key-" + "x" * 40, [old]
    assert _works(api, token)
    settings.SECRET_KEY_FALLBACKS = []
    assert not _works(api, token)


# --- listing --------------------------------------------------------------------------------


def test_a_user_lists_their_active_tokens_without_secrets(api, shopper, other_shopper):
    older, current = _login(api), _login(api)
    expired = _login(api)
    revoked = _login(api)
    _login(api, "other")
    ApiToken.objects.filter(key_hash=ApiToken.hash(expired)).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert api.delete("/auth/token", token=revoked).status_code == 204
    assert _works(api, older)  # marks it used

    response = api.get("/auth/tokens", token=current)

    assert response.status_code == 200
    rows = response.json()
    by_key = {t.key_hash: t for t in ApiToken.objects.filter(user=shopper)}
    expected = [by_key[ApiToken.hash(current)], by_key[ApiToken.hash(older)]]
    assert [r["id"] for r in rows] == [t.pk for t in expected]
    assert [r["prefix"] for r in rows] == [current[:8], older[:8]]
    assert [r["current"] for r in rows] == [True, False]
    assert set(rows[0]) == {"id", "prefix", "created_at", "last_used_at", "expires_at", "current"}
    assert rows[1]["last_used_at"] is not None
    body = response.content.decode()
    for raw in (older, current, expired, revoked):
        assert raw not in body
        assert ApiToken.hash(raw) not in body


def test_a_tokens_last_use_is_written_at_most_every_few_minutes(api, shopper, settings):
    settings.SESSION_TOUCH_SECONDS = 300
    raw = _login(api)
    token = ApiToken.objects.get(user=shopper)
    assert token.last_used_at is None
    # the first call records its use
    before = timezone.now()
    assert _works(api, raw)
    first = ApiToken.objects.get(pk=token.pk).last_used_at
    assert before <= first <= timezone.now()
    # a call a minute later writes nothing
    recent = timezone.now() - timedelta(seconds=60)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=recent)
    assert _works(api, raw)
    assert ApiToken.objects.get(pk=token.pk).last_used_at == recent
    # one after the few minutes writes the time again
    old = timezone.now() - timedelta(seconds=301)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=old)
    assert _works(api, raw)
    assert ApiToken.objects.get(pk=token.pk).last_used_at > recent


def test_the_token_endpoints_are_documented_with_their_errors(api, db):
    paths = api.get("/openapi.json").json()["paths"]

    assert set(paths["/api/v1/auth/token"]) == {"post", "delete"}
    assert set(paths["/api/v1/auth/tokens"]) == {"get", "delete"}
    assert set(paths["/api/v1/auth/tokens/{token_id}"]) == {"delete"}
    for path, method, ok in [
        ("/api/v1/auth/token", "delete", "204"), ("/api/v1/auth/tokens", "get", "200"),
        ("/api/v1/auth/tokens", "delete", "200"), ("/api/v1/auth/tokens/{token_id}", "delete", "204"),
    ]:
        documented = set(paths[path][method]["responses"])
        assert {ok, "401", "404", "422", "429"} <= documented, (path, method, documented)
        assert paths[path][method]["security"] == [{"BearerAuth": []}]
    assert "Retry-After" in paths["/api/v1/auth/token"]["post"]["description"]


def test_password_change_on_the_storefront_revokes_every_token_and_keeps_this_session(api, shopper, client):
    tokens = [_login(api), _login(api)]
    client.force_login(shopper)
    url = reverse("accounts:password_change")
    assert client.get(url).status_code == 200

    response = client.post(url, {
        "old_password": f.PASSWORD, "new_password": "A-new-long-password-7", "new_password2": "A-new-long-password-7",
    })

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:profile")
    assert client.get(reverse("accounts:profile")).status_code == 200  # still logged in here
    assert [_works(api, t) for t in tokens] == [False, False]
    assert OutboxEvent.objects.filter(name="user_password.changed", payload__user_id=shopper.pk).count() == 1


def test_a_wrong_current_password_changes_nothing_and_is_throttled(api, shopper, client):
    token = _login(api)
    client.force_login(shopper)
    url = reverse("accounts:password_change")
    form = {"old_password": "guess", "new_password": "A-new-long-password-7", "new_password2": "A-new-long-password-7"}
    password_hash = User.objects.get(pk=shopper.pk).password

    for _ in range(5):
        response = client.post(url, form)
        assert response.status_code == 422
        assert "The current password is wrong." in response.content.decode()
    refused = client.post(url, {**form, "old_password": f.PASSWORD})

    assert refused.status_code == 429
    assert int(refused["Retry-After"]) >= 1
    assert User.objects.get(pk=shopper.pk).password == password_hash
    assert _works(api, token)
    assert not OutboxEvent.objects.filter(name="user_password.changed").exists()
