"""Reconciliation: a gateway's daily statement is matched to our payments and
refunds; what is missing on either side or differs in amount is listed and
stored per import; a file that cannot be read is refused, nothing stored."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from shopyard.checkout.services import place_order
from shopyard.core.errors import ValidationFailed
from shopyard.core.money import money_str
from shopyard.payments import reconciliation, refunds
from shopyard.payments import services as payments
from shopyard.payments.gateways import simulated
from shopyard.payments.models import Payment, StatementImport, StatementMismatch

from . import factories as f

HEADER = "date,type,reference,gateway_reference,amount,currency\n"


@pytest.fixture
def day_of_business(shopper, address, sku, seller, shop, django_capture_on_commit_callbacks):
    """Two payments captured today through the simulated gateway, and a refund of ¥10.00 on the first."""
    paid = []
    for _ in range(2):
        placed = place_order(actor=shopper, address_id=address.pk, lines=[{"sku_id": sku.pk, "quantity": 1}])
        payment = Payment.objects.get(pk=placed.payment_id)
        body, headers = simulated.build_notification(payment=payment, status="success")
        with django_capture_on_commit_callbacks(execute=True):
            payments.handle_notification(gateway="simulated", body=body, headers=headers)
        payment.refresh_from_db()
        paid.append(payment)
    order = paid[0].orders.get()
    with django_capture_on_commit_callbacks(execute=True):
        refund = refunds.refund_order_lines(actor=seller, shop=shop, order_id=order.pk, reason="破损",
                                            lines=[{"line_id": order.lines.get().pk, "amount": "10.00"}])
    refund.refresh_from_db()
    assert refund.status == "succeeded"
    return paid, refund


def _today():
    return timezone.localdate().isoformat()


def _row(kind, record, amount=None):
    amount = amount or money_str(record.amount, record.currency)
    return f"{_today()},{kind},{record.reference},{getattr(record, 'gateway_reference', '') or 'G1'},{amount},CNY\n"


def _import(text, gateway="simulated"):
    return reconciliation.import_statement(actor=None, gateway=gateway, data=text.encode("utf-8"), filename="s.csv")


def _kinds(statement):
    return sorted((m.kind, m.record_type, m.reference) for m in statement.mismatches.all())


def test_a_statement_that_agrees_has_no_mismatches(day_of_business):
    (p1, p2), refund = day_of_business
    statement = _import(HEADER + _row("payment", p1) + _row("payment", p2) + _row("refund", refund))
    assert (statement.rows, statement.matched, _kinds(statement)) == (3, 3, [])


def test_missing_here_a_statement_row_we_do_not_know(day_of_business):
    (p1, p2), refund = day_of_business
    statement = _import(HEADER + _row("payment", p1) + _row("payment", p2) + _row("refund", refund)
                        + f"{_today()},payment,PAYUNKNOWN,G9,12.00,CNY\n")
    assert _kinds(statement) == [("missing_here", "payment", "PAYUNKNOWN")]
    assert str(statement.mismatches.get().statement_amount) == "12.0000"


def test_missing_there_our_record_absent_from_the_statement(day_of_business):
    (p1, p2), refund = day_of_business
    statement = _import(HEADER + _row("payment", p1) + _row("refund", refund))
    assert _kinds(statement) == [("missing_there", "payment", p2.reference)]
    assert statement.mismatches.get().our_amount == p2.amount


def test_a_refund_missing_from_the_statement_is_listed(day_of_business):
    (p1, p2), refund = day_of_business
    statement = _import(HEADER + _row("payment", p1) + _row("payment", p2))
    assert _kinds(statement) == [("missing_there", "refund", refund.reference)]


def test_amount_differs(day_of_business):
    (p1, p2), refund = day_of_business
    statement = _import(HEADER + _row("payment", p1, "1.00") + _row("payment", p2) + _row("refund", refund, "9.99"))
    assert _kinds(statement) == sorted([("amount_differs", "payment", p1.reference),
                                        ("amount_differs", "refund", refund.reference)])
    differs = statement.mismatches.get(record_type="payment")
    assert (str(differs.statement_amount), differs.our_amount) == ("1.0000", p1.amount)
    assert statement.matched == 1


def test_alipay_trade_detail_bill(day_of_business):
    (p1, _p2), _refund = day_of_business
    Payment.objects.filter(pk=p1.pk).update(gateway="alipay")
    text = ("#支付宝业务明细查询\n"
            "支付宝交易号,商户订单号,业务类型,商品名称,创建时间,完成时间,订单金额（元）,退款批次号/请求号\n"
            f"2026000001,{p1.reference},交易,手机,{_today()} 10:00:00,{_today()} 10:01:00,"
            f"{money_str(p1.amount, 'CNY')},\n"
            f"2026000002,PAYOTHER,交易,手机,{_today()} 11:00:00,{_today()} 11:01:00,5.00,\n"
            "#业务明细列表结束\n")
    statement = _import(text, gateway="alipay")
    # the refund of p1 was made while it was a simulated payment: missing from alipay's side too
    assert _kinds(statement) == [("missing_here", "payment", "PAYOTHER"),
                                 ("missing_there", "refund", _refund.reference)]


@pytest.mark.parametrize("data, message", [
    (b"ref,amount\nPAY1,1.00\n", "The first row must be the columns"),
    ((HEADER + "2026-11-25,payment,PAY1,G1,abc,CNY\n").encode(), "Row 2: “abc” is not an amount"),
    ((HEADER + "2026-11-25,payment,PAY1,G1,1.005,CNY\n").encode(), "is not a positive CNY amount"),
    ((HEADER + "2026-11-25,payment,PAY1,G1,-3.00,CNY\n").encode(), "is not a positive CNY amount"),
    ((HEADER + "25/11/2026,payment,PAY1,G1,3.00,CNY\n").encode(), "is not a date"),
    ((HEADER + "2026-11-25,charge,PAY1,G1,3.00,CNY\n").encode(), "payment or refund"),
    ((HEADER + "2026-11-25,payment,PAY1,G1,3.00\n").encode(), "expected 6 columns"),
    ((HEADER + "2026-11-25,payment,PAY1,G1,3.00,CNY\n2026-11-26,payment,PAY2,G2,3.00,CNY\n").encode(),
     "one date"),
    ((HEADER + "2026-11-25,payment,PAY1,G1,3.00,CNY\n2026-11-25,payment,PAY1,G2,3.00,CNY\n").encode(), "twice"),
    ((HEADER + "2026-11-25,payment,支付,G1,3.00,CNY\n").encode("gbk"), "not UTF-8"),
    (HEADER.encode(), "no rows"),
    (b"", "empty"),
])
def test_a_bad_file_is_refused_and_nothing_stored(db, data, message):
    with pytest.raises(ValidationFailed) as exc:
        reconciliation.import_statement(actor=None, gateway="simulated", data=data)
    assert message in " ".join(str(m) for m in exc.value.fields["file"])
    assert not StatementImport.objects.exists() and not StatementMismatch.objects.exists()


def test_a_huge_file_is_refused(db, settings):
    settings.MAX_UPLOAD_BYTES = 1024
    data = (HEADER + "2026-11-25,payment,PAY1,G1,3.00,CNY\n" * 100).encode()
    with pytest.raises(ValidationFailed) as exc:
        reconciliation.import_statement(actor=None, gateway="simulated", data=data)
    assert "larger than 1 KB" in str(exc.value.fields["file"][0])
    assert not StatementImport.objects.exists()


def test_the_operator_page_imports_a_statement_and_shows_the_mismatches(client, day_of_business):
    (p1, p2), refund = day_of_business
    client.force_login(f.make_user("op", is_staff=True, is_superuser=True))
    text = HEADER + _row("payment", p1, "1.00") + _row("refund", refund) + f"{_today()},payment,PAYX,G9,5.00,CNY\n"
    response = client.post(reverse("payments:reconciliation"), {
        "gateway": "simulated", "file": SimpleUploadedFile("statement.csv", text.encode(), "text/csv")})
    statement = StatementImport.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "payments:reconciliation_detail", args=[statement.pk])
    html = client.get(response["Location"]).content.decode()
    table = html[html.index('id="mismatches"'):]
    assert "Amount differs" in table and "¥1.00" in table and p1.reference in table
    assert "In the statement, not in our records" in table and "PAYX" in table
    assert "In our records, not in the statement" in table and p2.reference in table
    listing = client.get(reverse("payments:reconciliation")).content.decode()
    assert 'id="statement-imports"' in listing and _today() in listing
    # a bad file: the message on the page, nothing stored
    response = client.post(reverse("payments:reconciliation"), {
        "gateway": "simulated", "file": SimpleUploadedFile("bad.csv", b"\xff\xfe\x00bad", "text/csv")})
    assert response.status_code == 422 and "not UTF-8" in response.content.decode()
    assert StatementImport.objects.count() == 1


def test_only_staff_reach_the_reconciliation_page(client, shopper):
    client.force_login(shopper)
    response = client.get(reverse("payments:reconciliation"))
    assert response.status_code == 302 and "login" in response["Location"]
