"""The shoppers of `bench/soak.py`, for locust (not a benchmark on its own:
soak.py writes the data file and starts locust with this file).

Each simulated shopper is a signed-in user with a session cookie (pages) and
a bearer token (API). Task weights give the mix of issue 12: browsing 80 %
(anonymous, as most catalogue traffic is: home, category listings, product
pages, search), cart 15 % (add, view, change quantity, remove, the cart
page) and checkout 5 % (place an order over the API, then pay it on the
simulated gateway's page, whose signed notification the Celery worker
delivers).

A 4xx that a real shop answers in normal business (sold out, cart cap, a
payment closed meanwhile) is counted apart, as `business_4xx`, and not as an
error; every other non-2xx/3xx answer, and every connection error, is a
failure in locust's statistics."""

import json
import os
import random
import re
import uuid

from locust import HttpUser, between, events, task
from locust.clients import HttpSession

DATA = json.loads(open(os.environ["SOAK_DATA"], encoding="utf-8").read())
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
BUSINESS = {"business_4xx": 0}
# the answers that are business, not failure: stock ran out (409), a cart or order rule said no (409/422)
EXPECTED = {"cart_add": (409, 422), "cart_change": (409, 422), "order": (409, 422), "pay": (409,)}


@events.quitting.add_listener
def _write_business_count(environment, **_kw):
    path = os.environ.get("SOAK_BUSINESS_OUT")
    if path:
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(BUSINESS, fh)


def _check(resp, kind=None):
    """Mark a response: 2xx/3xx pass, an expected business 4xx passes and is counted, anything else fails."""
    if resp.status_code and resp.status_code < 400:
        resp.success()
    elif kind and resp.status_code in EXPECTED.get(kind, ()):
        BUSINESS["business_4xx"] += 1
        resp.success()
    else:
        resp.failure(f"HTTP {resp.status_code}")


class Shopper(HttpUser):
    wait_time = between(float(os.environ.get("SOAK_WAIT_MIN", "0.5")), float(os.environ.get("SOAK_WAIT_MAX", "2.0")))

    def on_start(self):
        me = DATA["users"][random.randrange(len(DATA["users"]))]
        self.api = {"Authorization": f"Bearer {me['token']}", "Content-Type": "application/json"}
        self.address = me["address"]
        self.client.cookies.set("sessionid", me["session"])
        # anonymous browsing: its own cookie jar, so the catalogue pages are served as to a visitor
        self.anon = HttpSession(base_url=self.host, request_event=self.environment.events.request, user=self)

    # --- browsing 80 % -----------------------------------------------------
    def _get(self, path, name):
        with self.anon.get(path, name=name, catch_response=True) as r:
            _check(r)

    @task(10)
    def home(self):
        self._get("/", "home")

    @task(28)
    def listing(self):
        self._get(random.choice(DATA["listings"]), "listing")

    @task(30)
    def product(self):
        self._get(f"/p/{random.choice(DATA['products'])}/", "product")

    @task(12)
    def search(self):
        self._get(f"/search/?q={random.choice(DATA['queries'])}", "search")

    # --- cart 15 % ---------------------------------------------------------
    def _cart(self):
        with self.client.get("/api/v1/cart", headers=self.api, name="cart view (API)", catch_response=True) as r:
            _check(r)
            try:
                return [ln for g in r.json()["groups"] for ln in g["lines"]]
            except (ValueError, KeyError, TypeError):
                return []

    @task(6)
    def cart_add(self):
        body = {"sku_id": random.choice(DATA["skus"]), "quantity": random.randint(1, 2)}
        with self.client.post("/api/v1/cart/lines", json=body, headers=self.api, name="cart add (API)",
                              catch_response=True) as r:
            _check(r, "cart_add")

    @task(4)
    def cart_change(self):
        lines = self._cart()
        if not lines:
            return
        line = random.choice(lines)
        if len(lines) > 6 or random.random() < 0.3:  # keep a cart the size a real one is
            with self.client.delete(f"/api/v1/cart/lines/{line['id']}", headers=self.api, name="cart remove (API)",
                                    catch_response=True) as r:
                _check(r, "cart_change")
        else:
            with self.client.patch(f"/api/v1/cart/lines/{line['id']}", json={"quantity": random.randint(1, 3)},
                                   headers=self.api, name="cart change (API)", catch_response=True) as r:
                _check(r, "cart_change")

    @task(5)
    def cart_page(self):
        with self.client.get("/cart/", name="cart page", catch_response=True) as r:
            _check(r)

    # --- checkout and pay 5 % ----------------------------------------------
    @task(5)
    def checkout_and_pay(self):
        body = {"address_id": self.address, "lines": [{"sku_id": random.choice(DATA["skus"]), "quantity": 1}]}
        headers = dict(self.api, **{"Idempotency-Key": f"soak-{uuid.uuid4().hex}"})
        with self.client.post("/api/v1/orders", json=body, headers=headers, name="order (API)", catch_response=True) as r:
            _check(r, "order")
            if r.status_code != 201:
                return
            pay_url = r.json()["payment"]["gateway_url"]
        with self.client.get(pay_url, name="gateway page", catch_response=True) as r:
            _check(r, "pay")
            token = CSRF.search(r.text or "")
            if r.status_code != 200 or not token:
                if r.status_code == 200:
                    r.failure("no CSRF token on the gateway page")
                return
        with self.client.post(pay_url, data={"csrfmiddlewaretoken": token.group(1), "action": "approve"},
                              headers={"Referer": self.host + pay_url}, allow_redirects=False,
                              name="gateway approve", catch_response=True) as r:
            _check(r, "pay")
