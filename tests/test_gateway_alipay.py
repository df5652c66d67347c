"""The Alipay adapter end to end against a local fake of Alipay's open API
that signs as Alipay does (RSA2 over the sorted, unencoded `k=v&...` string;
responses over the exact text of their `<method>_response` object), with
keys made here. Nothing reaches the network: the adapter's HTTP goes through
gateways.http.send, which the fake replaces."""

import base64
import json
import logging
from datetime import timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from django.urls import reverse
from django.utils import timezone

from shopyard.core.money import Money
from shopyard.orders.models import Order
from shopyard.payments import refunds
from shopyard.payments import services as payments
from shopyard.payments.gateways import alipay as alipay_module
from shopyard.payments.gateways import http
from shopyard.payments.models import Payment, PaymentNotification, PaymentStatusChange, Refund

pytestmark = pytest.mark.django_db

APP_ID = "2021000000000001"


def _content(params: dict, exclude, *, keep_empty=False) -> bytes:
    # written from Alipay's documentation and Java SDK, not copied from the adapter: a request is
    # signed without its empty values, a notification with every value it carries
    pairs = [f"{k}={params[k]}" for k in sorted(params) if k not in exclude and (keep_empty or params[k] != "")]
    return "&".join(pairs).encode("utf-8")


class FakeAlipay:
    """Alipay's side: its own key pair, the merchant's public key, a trade ledger."""

    def __init__(self, merchant_public_key):
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.merchant_public_key = merchant_public_key
        self.trades = {}
        self.refunds = {}
        self.calls = []
        self.next_trade_no = 2026112622001400000

    def _sign(self, message: bytes) -> str:
        return base64.b64encode(self.key.sign(message, padding.PKCS1v15(), hashes.SHA256())).decode()

    def _check_request(self, params):
        assert params["app_id"] == APP_ID and params["sign_type"] == "RSA2" and params["charset"] == "utf-8"
        self.merchant_public_key.verify(base64.b64decode(params["sign"]), _content(params, {"sign"}),
                                        padding.PKCS1v15(), hashes.SHA256())  # raises when the signature is wrong

    def open_cashier(self, url):
        """The shopper's browser arrives with the signed page.pay / wap.pay request."""
        parts = urlsplit(url)
        params = dict(parse_qsl(parts.query, keep_blank_values=True))
        self._check_request(params)
        biz = json.loads(params["biz_content"])
        self.trades[biz["out_trade_no"]] = {
            "method": params["method"], "product_code": biz["product_code"], "total_amount": biz["total_amount"],
            "time_expire": biz.get("time_expire"),
            "notify_url": params["notify_url"], "return_url": params["return_url"], "status": "WAIT_BUYER_PAY",
            "trade_no": "",
        }
        return parts.scheme + "://" + parts.netloc + parts.path, self.trades[biz["out_trade_no"]]

    def pay(self, out_trade_no):
        trade = self.trades[out_trade_no]
        self.next_trade_no += 1
        trade.update(status="TRADE_SUCCESS", trade_no=str(self.next_trade_no))
        return self.notification(out_trade_no)

    def notification(self, out_trade_no, **overrides):
        """The form Alipay POSTs to notify_url: (path, urlencoded body)."""
        trade = self.trades.get(out_trade_no, {"trade_no": "2026000000", "total_amount": "1.00",
                                               "notify_url": "http://127.0.0.1:8000/pay/notify/alipay/"})
        params = {
            "notify_time": "2026-11-26 10:00:00", "notify_type": "trade_status_sync",
            "notify_id": f"ac05099524730693a8b330c5ecf72da{len(self.calls)}", "app_id": APP_ID, "charset": "utf-8",
            "version": "1.0", "sign_type": "RSA2", "trade_no": trade["trade_no"], "out_trade_no": out_trade_no,
            "trade_status": "TRADE_SUCCESS", "total_amount": trade["total_amount"],
            "receipt_amount": trade["total_amount"], "buyer_id": "2088102122524333", "seller_id": "2088101106499364",
            "subject": "Shopyard {order}", "gmt_payment": "2026-11-26 09:59:58", "body": "",
        }
        params.update(overrides)
        params["sign"] = self._sign(_content(params, {"sign", "sign_type"}, keep_empty=True))
        return urlsplit(trade["notify_url"]).path, urlencode(params)

    def send(self, method, url, *, headers, body):
        """The open API gateway: verify our signed form, answer signed JSON."""
        assert method == "POST" and url.startswith(alipay_module.SANDBOX_URL)
        params = dict(parse_qsl(body.decode(), keep_blank_values=True))
        self._check_request(params)
        self.calls.append(params["method"])
        biz = json.loads(params["biz_content"])
        trade = self.trades.get(biz.get("out_trade_no"))
        if params["method"] == "alipay.trade.query":
            if trade is None:
                answer = {"code": "40004", "msg": "Business Failed", "sub_code": "ACQ.TRADE_NOT_EXIST",
                          "sub_msg": "交易不存在"}
            else:
                answer = {"code": "10000", "msg": "Success", "trade_no": trade["trade_no"],
                          "out_trade_no": biz["out_trade_no"], "trade_status": trade["status"],
                          "total_amount": trade["total_amount"], "subject": "braces {in} a } value"}
        elif params["method"] == "alipay.trade.refund":
            done = self.refunds.setdefault(biz["out_request_no"], {"amount": biz["refund_amount"],
                                                                   "out_trade_no": biz["out_trade_no"]})
            answer = {"code": "10000", "msg": "Success", "trade_no": trade["trade_no"],
                      "out_trade_no": biz["out_trade_no"], "refund_fee": done["amount"], "fund_change": "Y"}
        else:
            raise AssertionError(params["method"])
        text = json.dumps(answer, ensure_ascii=False)
        key = params["method"].replace(".", "_") + "_response"
        document = '{"' + key + '":' + text + ',"sign":"' + self._sign(text.encode("utf-8")) + '"}'
        return http.Response(200, document.encode("utf-8"), {"Content-Type": "application/json;charset=utf-8"})


@pytest.fixture
def fake(settings, monkeypatch, rsa_key_file):
    merchant_key, merchant_private, _merchant_public = rsa_key_file("merchant")
    provider = FakeAlipay(merchant_key.public_key())
    alipay_public = rsa_key_file("alipay")[2]
    from cryptography.hazmat.primitives import serialization

    with open(alipay_public, "wb") as fh:
        fh.write(provider.key.public_key().public_bytes(serialization.Encoding.PEM,
                                                         serialization.PublicFormat.SubjectPublicKeyInfo))
    settings.ALIPAY_APP_ID = APP_ID
    settings.ALIPAY_PRIVATE_KEY_PATH = merchant_private
    settings.ALIPAY_PUBLIC_KEY_PATH = alipay_public
    settings.ALIPAY_SANDBOX = True
    monkeypatch.setattr(http, "send", provider.send)
    return provider


def _pay_with_alipay(client, checkout, fake, channel="page"):
    """The shopper picks Alipay on the payment page and is sent to Alipay's cashier."""
    client.force_login(checkout.payment.user)
    page = client.get(payments.gateway_url(checkout.payment))
    assert page.status_code == 200
    assert f'data-method="alipay" data-channel="{channel}"' in page.content.decode()
    chosen = client.post(reverse("payments:choose", args=[checkout.payment.reference]) + f"?channel={channel}",
                         {"method": "alipay"})
    payment = Payment.objects.get(status="pending")
    assert payment.gateway == "alipay"
    assert chosen["Location"] == reverse("payments:go", args=[payment.reference]) + f"?channel={channel}"
    to_alipay = client.get(chosen["Location"])
    assert to_alipay.status_code == 302
    endpoint, trade = fake.open_cashier(to_alipay["Location"])
    assert endpoint == alipay_module.SANDBOX_URL
    return payment, trade


def _world(payment):
    return {
        "payment": Payment.objects.values_list("status", "completed_at").get(pk=payment.pk),
        "orders": list(Order.objects.filter(payments=payment).order_by("pk").values_list("status", "paid_at")),
        "history": PaymentStatusChange.objects.count(),
    }


def test_shopper_pays_with_alipay_page_pay_and_the_notify_marks_every_order_paid(client, unpaid_checkout, fake):
    payment, trade = _pay_with_alipay(client, unpaid_checkout, fake)
    assert trade["method"] == "alipay.trade.page.pay" and trade["product_code"] == "FAST_INSTANT_TRADE_PAY"
    assert trade["total_amount"] == "173.30"
    deadline = min(o.placed_at for o in unpaid_checkout.orders) + timedelta(minutes=30)
    beijing = deadline.astimezone(timezone.get_fixed_timezone(8 * 60))
    assert trade["time_expire"] == beijing.strftime("%Y-%m-%d %H:%M:%S")  # closed when our orders expire
    assert trade["return_url"].endswith(reverse("payments:return", args=[payment.reference]))

    path, body = fake.pay(payment.reference)
    response = client.post(path, body, content_type="application/x-www-form-urlencoded")

    assert response.status_code == 200 and response.content == b"success"
    payment.refresh_from_db()
    assert payment.status == "succeeded"
    assert set(Order.objects.filter(payments=payment).values_list("status", flat=True)) == {"paid"}
    assert PaymentNotification.objects.get(payment=payment).outcome == "applied"
    unpaid_checkout.payment.refresh_from_db()
    assert unpaid_checkout.payment.status == "cancelled"  # the simulated one it replaced can no longer be paid


def test_wap_pay_request_for_phones(client, unpaid_checkout, fake):
    _payment, trade = _pay_with_alipay(client, unpaid_checkout, fake, channel="wap")
    assert trade["method"] == "alipay.trade.wap.pay" and trade["product_code"] == "QUICK_WAP_WAY"


@pytest.mark.parametrize("change, outcome", [
    ("bad_signature", "bad_signature"),
    ("wrong_app_id", "wrong_account"),
    ("unknown_trade", "unknown_payment"),
    ("different_amount", "amount_mismatch"),
])
def test_a_refused_notify_changes_nothing_and_is_logged(client, unpaid_checkout, fake, caplog, change, outcome):
    payment, _trade = _pay_with_alipay(client, unpaid_checkout, fake)
    fake.pay(payment.reference)
    if change == "bad_signature":
        path, body = fake.notification(payment.reference)
        body = body.replace("total_amount=173.30", "total_amount=0.01")  # tampered after signing
    elif change == "wrong_app_id":
        path, body = fake.notification(payment.reference, app_id="2021999999999999")
    elif change == "unknown_trade":
        path, body = fake.notification("PAYNOSUCHPAYMENT")
    else:
        path, body = fake.notification(payment.reference, total_amount="17.33")
    before = _world(payment)

    with caplog.at_level(logging.INFO, logger="shopyard.payments"):
        response = client.post(path, body, content_type="application/x-www-form-urlencoded")

    assert response.status_code == 400 and response.content == b"fail"
    assert _world(payment) == before
    assert list(PaymentNotification.objects.values_list("outcome", flat=True)) == [outcome]
    # besides the request's own access line (shopyard.requests), only payments logged
    logged = [r for r in caplog.records if r.name != "shopyard.requests"]
    assert logged and all(r.name == "shopyard.payments" for r in logged)


def test_a_replayed_notify_answers_success_and_changes_nothing_further(client, unpaid_checkout, fake, caplog):
    payment, _trade = _pay_with_alipay(client, unpaid_checkout, fake)
    path, body = fake.pay(payment.reference)
    client.post(path, body, content_type="application/x-www-form-urlencoded")
    after_first = _world(payment)

    with caplog.at_level(logging.INFO, logger="shopyard.payments"):
        again = client.post(path, body, content_type="application/x-www-form-urlencoded")

    assert again.content == b"success"
    assert _world(payment) == after_first
    assert list(PaymentNotification.objects.order_by("pk").values_list("outcome", flat=True)) == ["applied", "duplicate"]
    assert "duplicate" in caplog.text


def test_a_missed_notify_is_filled_in_by_the_status_query(client, unpaid_checkout, fake, settings):
    payment, _trade = _pay_with_alipay(client, unpaid_checkout, fake)
    path, body = fake.pay(payment.reference)  # the notify never reaches us

    assert payments.query_unconfirmed_payments(now=timezone.now()) == 0  # not yet due
    later = timezone.now() + timedelta(minutes=settings.PAYMENT_QUERY_AFTER_MINUTES + 1)
    assert payments.query_unconfirmed_payments(now=later) == 1

    assert "alipay.trade.query" in fake.calls
    payment.refresh_from_db()
    assert payment.status == "succeeded"
    assert set(Order.objects.filter(payments=payment).values_list("status", flat=True)) == {"paid"}
    late = client.post(path, body, content_type="application/x-www-form-urlencoded")  # it arrives after all
    assert late.content == b"success"
    assert PaymentNotification.objects.filter(payment=payment, outcome="duplicate").count() == 1


def test_query_of_a_trade_alipay_never_saw_leaves_the_payment_pending(client, unpaid_checkout, fake, settings):
    payment, _trade = _pay_with_alipay(client, unpaid_checkout, fake)
    fake.trades.clear()
    later = timezone.now() + timedelta(minutes=settings.PAYMENT_QUERY_AFTER_MINUTES + 1)

    assert payments.query_unconfirmed_payments(now=later) == 0
    payment.refresh_from_db()
    assert payment.status == "pending"


def test_a_query_answer_with_a_bad_signature_is_not_applied(client, unpaid_checkout, fake, settings, monkeypatch):
    payment, _trade = _pay_with_alipay(client, unpaid_checkout, fake)
    fake.pay(payment.reference)
    real_send = fake.send

    def forged(method, url, *, headers, body):
        reply = real_send(method, url, headers=headers, body=body)
        return http.Response(200, reply.body.replace(b'"trade_status": "TRADE_SUCCESS"', b'"trade_status":"TRADE_SUCCESS"'))

    monkeypatch.setattr(http, "send", forged)
    later = timezone.now() + timedelta(minutes=settings.PAYMENT_QUERY_AFTER_MINUTES + 1)

    assert payments.query_unconfirmed_payments(now=later) == 0
    payment.refresh_from_db()
    assert payment.status == "pending"


def test_refund_is_a_signed_trade_refund_and_its_answer_is_applied(
    client, unpaid_checkout, fake, django_capture_on_commit_callbacks
):
    payment, _trade = _pay_with_alipay(client, unpaid_checkout, fake)
    path, body = fake.pay(payment.reference)
    client.post(path, body, content_type="application/x-www-form-urlencoded")
    order = Order.objects.filter(payments=payment).order_by("pk").first()

    from django.db import transaction

    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        refund = refunds.request_refund(payment=payment, order=order, amount=Money("30.00", "CNY"),
                                        reason="a line was out of stock")

    refund.refresh_from_db()
    assert refund.status == "succeeded"
    assert fake.refunds == {refund.reference: {"amount": "30.00", "out_trade_no": payment.reference}}
    assert refund.gateway_reference.endswith(refund.reference)
    refunds.perform_refund(refund_id=refund.pk)  # done: not sent again
    assert fake.calls.count("alipay.trade.refund") == 1


def test_refund_notification_for_an_unknown_refund_is_rejected(client, unpaid_checkout, fake, caplog):
    payment, _trade = _pay_with_alipay(client, unpaid_checkout, fake)
    fake.pay(payment.reference)
    _path, body = fake.notification(payment.reference, out_biz_no="RFNOSUCHREFUND", refund_fee="10.00")

    with caplog.at_level(logging.WARNING, logger="shopyard.payments"):
        response = client.post(reverse("payments:refund_notify", args=["alipay"]), body,
                               content_type="application/x-www-form-urlencoded")

    assert response.status_code == 400 and response.content == b"fail"
    assert "unknown refund" in caplog.text
    assert not Refund.objects.exists()


def test_alipay_is_not_offered_and_its_notify_endpoint_is_404_until_configured(client, unpaid_checkout, settings):
    settings.ALIPAY_APP_ID = ""
    client.force_login(unpaid_checkout.payment.user)

    assert payments.gateway_url(unpaid_checkout.payment) == reverse("payments:simulated",
                                                                    args=[unpaid_checkout.payment.reference])
    assert client.post(reverse("payments:notify", args=["alipay"]), "a=b",
                       content_type="application/x-www-form-urlencoded").status_code == 404
    chosen = client.post(reverse("payments:choose", args=[unpaid_checkout.payment.reference]), {"method": "alipay"})
    assert chosen.status_code == 422
    assert "This payment method is not available." in chosen.content.decode()


@pytest.mark.django_db(transaction=True)
def test_notify_retries_racing_the_status_query_apply_once(client, unpaid_checkout, fake, settings):
    # given a payment made at Alipay whose notify arrives three times while the late-payment job queries it
    import threading

    from django.db import connection

    from shopyard.core.errors import BadRequest

    payment, _trade = _pay_with_alipay(client, unpaid_checkout, fake)
    _path, body = fake.pay(payment.reference)
    later = timezone.now() + timedelta(minutes=settings.PAYMENT_QUERY_AFTER_MINUTES + 1)
    barrier = threading.Barrier(4)
    results = [None] * 4

    def notify(i):
        try:
            barrier.wait(timeout=60)
            results[i] = payments.handle_notification(gateway="alipay", body=body.encode(), headers={})
        except BadRequest as exc:
            results[i] = exc.code
        except Exception as exc:
            results[i] = repr(exc)
        finally:
            connection.close()

    def query():
        try:
            barrier.wait(timeout=60)
            results[3] = f"query applied {payments.query_unconfirmed_payments(now=later)}"
        except Exception as exc:
            results[3] = repr(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=notify, args=(i,)) for i in range(3)] + [threading.Thread(target=query)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    # then exactly one of them applied it and every other one was a duplicate
    applied = results[:3].count("applied") + (results[3] == "query applied 1")
    assert applied == 1, results
    assert sorted(results[:3]).count("duplicate") == 3 - results[:3].count("applied"), results
    payment.refresh_from_db()
    assert payment.status == "succeeded"
    assert PaymentNotification.objects.filter(outcome="applied").count() == 1
    assert set(Order.objects.filter(payments=payment).values_list("status", flat=True)) == {"paid"}


def test_a_capture_for_a_payment_we_closed_is_found_by_the_query_and_pays_the_orders(
    client, unpaid_checkout, fake, settings, django_capture_on_commit_callbacks
):
    # given the shopper paid at Alipay, the notify was lost, and then switched to another method
    payment, _trade = _pay_with_alipay(client, unpaid_checkout, fake)
    fake.pay(payment.reference)
    switched = payments.choose_method(actor=payment.user, reference=payment.reference, method="simulated")
    payment.refresh_from_db()
    assert payment.status == "cancelled" and switched.status == "pending"

    # when the late-payment job runs
    later = timezone.now() + timedelta(minutes=settings.PAYMENT_QUERY_AFTER_MINUTES + 1)
    with django_capture_on_commit_callbacks(execute=True):  # order.paid closes the other payment
        assert payments.query_unconfirmed_payments(now=later) == 1

    # then the capture is kept, every order is paid and the other payment can no longer be approved
    payment.refresh_from_db()
    switched.refresh_from_db()
    assert payment.status == "succeeded"
    assert set(Order.objects.filter(payments=payment).values_list("status", flat=True)) == {"paid"}
    assert switched.status == "cancelled"
    assert not Refund.objects.exists()
    # and after SHOPYARD_PAYMENT_QUERY_CLOSED_HOURS a closed payment is no longer asked about
    fake.calls.clear()
    much_later = timezone.now() + timedelta(hours=settings.PAYMENT_QUERY_CLOSED_HOURS + 1)
    payments.query_unconfirmed_payments(now=much_later)
    assert fake.calls == []
