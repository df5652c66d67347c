"""When an API token works: one rule on ApiToken, for one token (`works`) and as a filter
(`works_q`, `expired_q`). The sign-in check, the list of a user's tokens and the purge
of expired ones all ask it, and the two forms give the same answers, at the expiry
instant too."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from shopyard.accounts.models import ApiToken
from shopyard.accounts.queries import active_tokens
from shopyard.accounts.services import current_fingerprints, purge_expired_tokens, token_for_key

from . import factories as f

pytestmark = pytest.mark.django_db


def test_one_token_and_the_filter_agree_around_the_expiry_and_a_password_change():
    user = f.make_user()
    raw = f.token_for(user)
    token = ApiToken.objects.get(key_hash=ApiToken.hash(raw))
    fingerprints = current_fingerprints(user)
    moments = [token.expires_at - timedelta(seconds=1), token.expires_at - timedelta(microseconds=1),
               token.expires_at, token.expires_at + timedelta(microseconds=1)]

    answers = [(token.works(now, fingerprints),
                ApiToken.objects.filter(ApiToken.works_q(now, fingerprints), pk=token.pk).exists(),
                ApiToken.objects.filter(ApiToken.expired_q(now), pk=token.pk).exists()) for now in moments]

    assert answers == [(True, True, False), (True, True, False), (False, False, True), (False, False, True)]
    stale = ["0" * 64]  # the fingerprints after a password change
    assert not token.works(moments[0], stale)
    assert not ApiToken.objects.filter(ApiToken.works_q(moments[0], stale), pk=token.pk).exists()


def test_sign_in_the_token_list_and_the_purge_follow_the_same_expiry():
    user = f.make_user()
    live, due = f.token_for(user), f.token_for(user)
    ApiToken.objects.filter(key_hash=ApiToken.hash(due)).update(expires_at=timezone.now())

    assert token_for_key(live) is not None and token_for_key(due) is None
    assert [t.key_hash for t in active_tokens(user)] == [ApiToken.hash(live)]
    assert Client().get("/api/v1/me", **f.auth(due)).status_code == 401
    assert Client().get("/api/v1/me", **f.auth(live)).status_code == 200

    assert purge_expired_tokens() == 1
    assert list(ApiToken.objects.filter(user=user).values_list("key_hash", flat=True)) == [ApiToken.hash(live)]


def test_a_password_change_ends_every_token_in_the_list_and_at_sign_in():
    user = f.make_user()
    raw = f.token_for(user)
    user.set_password("An-other-pass-456")
    user.save()

    assert token_for_key(raw) is None
    assert active_tokens(user) == []
