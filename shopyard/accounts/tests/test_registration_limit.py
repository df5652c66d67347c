"""Sign-ups are limited per client address, on the pages and over the API,
and parallel sign-ups cannot exceed the limit."""

import threading
import time
from collections import Counter

import pytest
from django.db import connection
from django.test import Client, RequestFactory
from django.urls import reverse

from shopyard.accounts import services
from shopyard.accounts.models import User
from shopyard.accounts.throttle import TryLater
from shopyard.core.errors import ValidationFailed

PASSWORD = "Correct-horse-42"


@pytest.fixture
def limit(settings, monkeypatch):
    settings.REGISTRATIONS_PER_CLIENT = 2
    settings.REGISTRATION_WINDOW_SECONDS = 3600
    frozen = 1_800_000_000.0  # the Retry-After asserted must not depend on how long hashing took
    monkeypatch.setattr(time, "time", lambda: frozen)


def _api_register(client, username):
    return client.post(reverse("api:register"), {"username": username, "password": PASSWORD},
                       content_type="application/json")


@pytest.mark.django_db
def test_api_registration_is_limited_per_client_address(limit):
    # given one address that has created the allowed two accounts
    here = Client(REMOTE_ADDR="203.0.113.9")
    assert [_api_register(here, f"bulk{i}").status_code for i in range(2)] == [201, 201]

    # when it asks for a third
    response = _api_register(here, "bulk3")

    # then 429 with when to retry, and no account
    assert response.status_code == 429
    assert response["Retry-After"] == "3600"
    assert response.json() == {
        "code": "rate_limited",
        "message": "Too many new accounts from your network. Please try again in 60 minutes.",
        "fields": {},
    }
    assert not User.objects.filter(username="bulk3").exists()
    # while another address still signs up
    assert _api_register(Client(REMOTE_ADDR="198.51.100.4"), "neighbour").status_code == 201


@pytest.mark.django_db
def test_registration_page_is_limited_per_client_address(limit):
    here = Client(REMOTE_ADDR="203.0.113.9")
    form = {"password": PASSWORD, "password2": PASSWORD}
    for i in range(2):
        assert Client(REMOTE_ADDR="203.0.113.9").post(reverse("accounts:register"), {**form, "username": f"p{i}"}).status_code == 302

    response = here.post(reverse("accounts:register"), {**form, "username": "p3"})

    assert response.status_code == 429
    assert response["Retry-After"] == "3600"
    assert "Too many new accounts from your network. Please try again in 60 minutes." in response.content.decode()
    assert not User.objects.filter(username="p3").exists()
    assert "_auth_user_id" not in here.session


@pytest.mark.django_db
def test_refused_input_does_not_use_up_the_allowance(limit):
    here = Client(REMOTE_ADDR="203.0.113.9")
    for _ in range(5):
        bad = here.post(reverse("api:register"), {"username": "", "password": "123"}, content_type="application/json")
        assert bad.status_code == 422

    assert [_api_register(here, f"ok{i}").status_code for i in range(2)] == [201, 201]
    assert User.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_parallel_sign_ups_from_one_address_cannot_exceed_the_limit(settings):
    # given a limit of 2 per address
    settings.REGISTRATIONS_PER_CLIENT = 2
    n = 8
    barrier = threading.Barrier(n)
    outcomes = [None] * n

    def sign_up(i):
        try:
            barrier.wait(timeout=60)
            request = RequestFactory().post("/accounts/register/", REMOTE_ADDR="203.0.113.9")
            services.register_user(request=request, username=f"racer{i}", password=PASSWORD)
            outcomes[i] = "created"
        except TryLater:
            outcomes[i] = "wait"
        except ValidationFailed as exc:
            outcomes[i] = ("invalid", exc.fields)
        except Exception as exc:
            outcomes[i] = ("error", repr(exc))
        finally:
            connection.close()

    # when eight sign-ups arrive at once
    threads = [threading.Thread(target=sign_up, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not any(t.is_alive() for t in threads)

    # then exactly two accounts exist
    assert Counter(o if isinstance(o, str) else o[0] for o in outcomes) == {"created": 2, "wait": 6}, outcomes
    assert User.objects.filter(username__startswith="racer").count() == 2
