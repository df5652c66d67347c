"""After-sales statistics on a seeded data set built through the after-sales services (cases
of every type on known orders, approved by the seller, approved by the deadline job, one
disputed and decided, refunds done), with exact figures on the seller page, the operator
page, the API and the CSV; scoping; bad input; query budgets."""

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from shopyard.aftersales import services, stats
from shopyard.aftersales.models import Case
from shopyard.aftersales.tests.support import delivered, paid_order, reason
from shopyard.catalog.models import Product
from shopyard.core.errors import ValidationFailed
from shopyard.payments import refunds
from tests import factories as f

pytestmark = pytest.mark.django_db


class Clock:
    """timezone.now() as the test sets it: the services stamp every step with it."""

    def __init__(self, now):
        self.now = now

    def at(self, hours):
        self.now = self.start + timedelta(hours=hours)
        return self.now


@pytest.fixture
def clock(monkeypatch):
    # 10:00 local time, twenty days ago
    local = timezone.localtime(timezone.now() - timedelta(days=20)).replace(hour=10, minute=0, second=0,
                                                                            microsecond=0)
    c = Clock(local)
    c.start = local
    monkeypatch.setattr(timezone, "now", lambda: c.now)
    return c


def _line(order, title):
    return order.lines.get(product_title=title)


def _refund_done(case):
    case.refresh_from_db()
    refunds.perform_refund(refund_id=case.refund_id)
    services.on_refund_succeeded({"refund_id": case.refund_id})
    case.refresh_from_db()
    assert case.status == "refunded"
    return case


def _open(buyer, order, kind, code, lines, **kw):
    return services.open_case(actor=buyer, order_id=order.pk, kind=kind, reason_id=reason(code).pk, lines=lines,
                              now=timezone.now(), **kw)


@pytest.fixture
def seeded(clock, shopper, address, shop, seller, other_shop, home_operator):
    """Shop 星河数码 sells 耳机 (100.00) and 充电宝 (50.00); 青木家居 sells 台灯 (35.50).

    hour  0  orders paid: O1 耳机×3, O2 耳机×2 + 充电宝×2, O3 充电宝×4 (not shipped); O4 台灯×1 (other shop)
    C1 return_refund  O1 耳机×2, quality        opened h1, seller approves, return, inspects; refunded h26 (25 h)
    C2 refund_only    O3 充电宝×4, not_received opened h2, the shop is silent: the job approves h51 (49 h, late)
    C7 refund_only    O4 台灯×1, quality        other shop, opened h3, approved and refunded h4 (1 h)
    C3 exchange       O2 充电宝×1, wrong_item   opened h4, ... the buyer confirms the replacement h52 (48 h)
    C4 compensation   O2 耳机 30.00, damaged     opened h5, rejected, disputed, decided 20.00, refunded h21 (16 h)
    C5 return_refund  O2 耳机×1, changed_mind   opened h6, approved h7, never shipped: closed by the job h176
    C6 repair         O1 耳机×1, quality        opened h180, still waiting for the shop
    """
    headphones = f.make_product(shop, price="100.00", stock=50, title="耳机").skus.get()
    powerbank = f.make_product(shop, price="50.00", stock=50, title="充电宝").skus.get()
    lamp = f.make_product(other_shop, price="35.50", stock=5, title="台灯").skus.get()
    # no English titles: the pages and the CSV show the Chinese ones in every language
    Product.objects.filter(pk__in=[headphones.product_id, powerbank.product_id, lamp.product_id]).update(title_en="")
    other_seller = other_shop.members.first().user
    o1 = delivered(paid_order(shopper, address, [(headphones, 3)]))
    o2 = delivered(paid_order(shopper, address, [(headphones, 2), (powerbank, 2)]))
    o3 = paid_order(shopper, address, [(powerbank, 4)])
    o4 = delivered(paid_order(shopper, address, [(lamp, 1)]))

    clock.at(1)
    c1 = _open(shopper, o1, "return_refund", "quality", [{"line_id": _line(o1, "耳机").pk, "quantity": 2}])
    clock.at(2)
    c2 = _open(shopper, o3, "refund_only", "not_received", [{"line_id": _line(o3, "充电宝").pk, "quantity": 4}])
    clock.at(3)
    c7 = _open(shopper, o4, "refund_only", "quality", [{"line_id": _line(o4, "台灯").pk, "quantity": 1}])
    clock.at(4)
    c3 = _open(shopper, o2, "exchange", "wrong_item", [{"line_id": _line(o2, "充电宝").pk, "quantity": 1}])
    services.approve(actor=other_seller, shop=other_shop, case_id=c7.pk)
    _refund_done(c7)
    clock.at(5)
    c4 = _open(shopper, o2, "compensation", "damaged", [{"line_id": _line(o2, "耳机").pk, "quantity": 1}],
               amount="30.00", compensation="refund")
    clock.at(6)
    c5 = _open(shopper, o2, "return_refund", "changed_mind", [{"line_id": _line(o2, "耳机").pk, "quantity": 1}])
    services.approve(actor=seller, shop=shop, case_id=c3.pk)
    clock.at(7)
    services.approve(actor=seller, shop=shop, case_id=c5.pk)
    services.reject(actor=seller, shop=shop, case_id=c4.pk, note="包装完好")
    clock.at(8)
    services.escalate(actor=shopper, case_id=c4.pk, note="收到时外壳破损")
    services.approve(actor=seller, shop=shop, case_id=c1.pk)
    clock.at(9)
    services.ship_return(actor=shopper, case_id=c1.pk, carrier="sf", tracking_number="SF1234567890123")
    clock.at(10)
    services.ship_return(actor=shopper, case_id=c3.pk, carrier="sf", tracking_number="SF1234567890124")
    clock.at(20)
    services.decide(actor=home_operator, case_id=c4.pk, decision="partial", amount="20.00", note="部分补偿")
    clock.at(21)
    _refund_done(c4)
    clock.at(24)
    services.receive(actor=seller, shop=shop, case_id=c1.pk)
    clock.at(25)
    services.inspect(actor=seller, shop=shop, case_id=c1.pk, resaleable=True)
    clock.at(26)
    _refund_done(c1)
    clock.at(30)
    services.receive(actor=seller, shop=shop, case_id=c3.pk)
    clock.at(31)
    services.inspect(actor=seller, shop=shop, case_id=c3.pk, resaleable=True)
    clock.at(32)
    services.ship_replacement(actor=seller, shop=shop, case_id=c3.pk, carrier="sf",
                              tracking_number="SF1234567890125")
    # the shop never answered C2: 48 hours after opening the job approves it (and refunds)
    assert services.run_deadlines(now=clock.at(51)) == 1
    _refund_done(c2)
    clock.at(52)
    services.confirm_case(actor=shopper, case_id=c3.pk)
    # C5's buyer never ships the return: seven days after approval the job closes the case
    assert services.run_deadlines(now=clock.at(176)) == 1
    clock.at(180)
    c6 = _open(shopper, o1, "repair", "quality", [{"line_id": _line(o1, "耳机").pk, "quantity": 1}])
    clock.at(240)
    cases = {n: Case.objects.get(pk=c.pk) for n, c in
             {"c1": c1, "c2": c2, "c3": c3, "c4": c4, "c5": c5, "c6": c6, "c7": c7}.items()}
    assert {n: c.status for n, c in cases.items()} == {
        "c1": "refunded", "c2": "refunded", "c3": "completed", "c4": "refunded", "c5": "closed",
        "c6": "requested", "c7": "refunded"}
    return {"cases": cases, "start": clock.start.date(), "end": (clock.start + timedelta(days=9)).date(),
            "products": {"耳机": headphones.product_id, "充电宝": powerbank.product_id, "台灯": lamp.product_id}}


def _period(seeded):
    return stats.Period(start=seeded["start"], end=seeded["end"])


def _query(seeded):
    return f"from={seeded['start'].isoformat()}&to={seeded['end'].isoformat()}"


# --- the figures ----------------------------------------------------------------------------


def test_the_shops_figures_on_the_seeded_data_set(seeded, shop, django_assert_num_queries):
    # when the figures of the seller's shop are read, with a fixed number of queries
    with django_assert_num_queries(8):
        data = stats.figures(shop=shop, period=_period(seeded))
    # then every figure is exact
    assert (data.cases, data.units, data.ended, data.within_deadline, data.disputed) == (6, 8, 5, 3, 1)
    assert (data.within_deadline_rate, data.dispute_rate) == (Decimal("0.6000"), Decimal("0.1667"))
    # (25 + 49 + 48 + 16 + 170) hours ÷ 5
    assert data.average_handling == timedelta(hours=61.6)
    assert data.average_handling_hours == Decimal("61.6")
    assert [(a.currency, a.amount) for a in data.refunded] == [("CNY", Decimal("420.00"))]
    assert data.credited == []
    assert [(g.key, g.cases, g.units, g.share) for g in data.by_kind] == [
        ("refund_only", 1, 4, Decimal("0.1667")), ("return_refund", 2, 2, Decimal("0.3333")),
        ("exchange", 1, 1, Decimal("0.1667")), ("repair", 1, 1, Decimal("0.1667")),
        ("compensation", 1, 0, Decimal("0.1667"))]
    assert [(g.label, g.cases, g.units) for g in data.by_reason] == [
        ("Quality problem", 2, 3), ("Changed my mind (no-reason return)", 1, 0), ("Damaged in transit", 1, 0),
        ("Not received", 1, 4), ("Wrong item sent", 1, 1)]
    products = seeded["products"]
    assert [(p.product_id, p.title, p.units_sold, p.cases, p.units, p.rate) for p in data.by_product] == [
        (products["耳机"], "耳机", 5, 4, 3, Decimal("0.6000")),
        (products["充电宝"], "充电宝", 6, 2, 5, Decimal("0.8333"))]
    assert [(s.name, s.cases, s.disputed, [str(a) for a in s.refunded]) for s in data.by_shop] == [
        (shop.name_en or shop.name, 6, 1, ["¥420.00"])]
    day = seeded["start"]
    assert [(d - day).days for d, n in data.by_day if n] == [0, 7]
    assert [n for _d, n in data.by_day] == [5, 0, 0, 0, 0, 0, 0, 1, 0, 0]


def test_every_shops_figures_on_the_seeded_data_set(seeded, shop, other_shop):
    data = stats.figures(shop=None, period=_period(seeded))
    assert (data.cases, data.units, data.ended, data.within_deadline, data.disputed) == (7, 9, 6, 4, 1)
    assert (data.within_deadline_rate, data.dispute_rate) == (Decimal("0.6667"), Decimal("0.1429"))
    assert data.average_handling == timedelta(hours=51.5)  # (308 + 1) ÷ 6
    assert [str(a) for a in data.refunded] == ["¥455.50"]
    assert [(s.shop_id, s.cases, s.disputed, s.dispute_rate, [a.text for a in s.refunded]) for s in data.by_shop] == [
        (shop.pk, 6, 1, Decimal("0.1667"), ["420.00"]), (other_shop.pk, 1, 0, Decimal("0.0000"), ["35.50"])]
    assert [(p.title, p.units_sold, p.cases, p.units, p.rate) for p in data.by_product] == [
        ("耳机", 5, 4, 3, Decimal("0.6000")), ("充电宝", 6, 2, 5, Decimal("0.8333")),
        ("台灯", 1, 1, 1, Decimal("1.0000"))]


def test_a_deadline_the_job_applied_counts_against_resolution_within_deadline(seeded):
    # C2 (auto-approved) and C5 (return expired) ended after a deadline fired; C1, C3, C4 did not
    cases = seeded["cases"]
    fired = {n for n, c in cases.items() if c.events.filter(role="system", action__in=stats.DEADLINE_ACTIONS)}
    assert fired == {"c2", "c5"}
    assert stats.DEADLINE_ACTIONS == ["auto_approve", "auto_inspect", "expire_return"]


def test_the_preset_periods_count_back_from_today(seeded, shop):
    # today is the tenth day after the seeded start: the last 7 days hold only C6
    data = stats.figures(shop=shop, period=stats.parse_period(days="7"))
    assert (data.period.start, data.period.end) == (seeded["start"] + timedelta(days=4),
                                                    seeded["start"] + timedelta(days=10))
    assert (data.cases, data.units, data.ended, data.average_handling, data.refunded) == (1, 1, 0, None, [])
    assert (data.within_deadline_rate, data.dispute_rate) == (None, Decimal("0.0000"))
    assert stats.parse_period().days == 30 and stats.parse_period(days="90").length == 90


# --- the seller's page ----------------------------------------------------------------------


def _cells(html, table_id):
    """The rows of one table of the page as lists of cell texts."""
    import re

    body = html.split(f'id="{table_id}"', 1)[1].split("</table>", 1)[0].split("<tbody>", 1)[1]
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
    return [[re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", r, re.S)]
            for r in rows]


def test_the_seller_page_shows_the_shops_figures(seeded, seller_client, django_assert_max_num_queries):
    # the console's own (session, user, membership, header counts) and the statistics' eight
    with django_assert_max_num_queries(18):
        r = seller_client.get(f"/console/aftersales/statistics/?{_query(seeded)}")
    assert r.status_code == 200
    html = r.content.decode()
    assert 'data-stat="cases">6<' in html and 'data-stat="units">8<' in html
    assert 'data-stat="refunded">¥420.00<' in html and 'data-stat="handling">61.6 h<' in html
    assert 'data-stat="within_deadline">60.0% <small>(3/5)</small>' in html
    assert 'data-stat="dispute_rate">16.7% <small>(1/6)</small>' in html
    assert _cells(html, "stats-by-kind") == [
        ["Refund only", "1", "4", "16.7%"], ["Return and refund", "2", "2", "33.3%"],
        ["Exchange", "1", "1", "16.7%"], ["Repair", "1", "1", "16.7%"], ["Compensation", "1", "0", "16.7%"]]
    assert _cells(html, "stats-by-reason")[0] == ["Quality problem", "2", "3", "33.3%"]
    assert _cells(html, "stats-by-product") == [["耳机", "5", "4", "3", "60.0%"], ["充电宝", "6", "2", "5", "83.3%"]]
    # the other shop's product and the by-shop table are not on the seller's page
    assert "台灯" not in html and 'id="stats-by-shop"' not in html
    # the charts: the vendored Chart.js (no CDN) fed by json_script
    assert '<script id="aftersales-chart-data" type="application/json">' in html
    assert "/static/shopyard/vendor/chart.umd.min.js" in html and "cdn" not in html.lower()
    assert f"/console/aftersales/statistics/export/?{_query(seeded)}" in html.replace("&amp;", "&")


def _csv(response):
    raw = response.content
    assert raw.startswith("\ufeff".encode())  # the BOM: Excel reads the Chinese right
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))


def test_the_seller_csv_has_the_same_figures(seeded, seller_client, shop):
    r = seller_client.get(f"/console/aftersales/statistics/export/?{_query(seeded)}")
    assert r.status_code == 200 and r["Content-Type"] == "text/csv; charset=utf-8"
    start, end = seeded["start"], seeded["end"]
    assert r["Content-Disposition"] == (
        f'attachment; filename="aftersales-stats-shop{shop.pk}-{start:%Y%m%d}-{end:%Y%m%d}.csv"')
    rows = _csv(r)
    assert rows[:16] == [
        ["After-sales statistics"], ["Shop", shop.name], ["From", start.isoformat()], ["To", end.isoformat()], [],
        ["Figure", "Value"], ["Cases", "6"], ["Units in after-sales", "8"], ["Cases ended", "5"],
        ["Ended within deadline", "3"], ["Share resolved within deadline", "60.0%"], ["Cases disputed", "1"],
        ["Dispute rate", "16.7%"], ["Average handling time (hours)", "61.6"], ["Refunded", "420.00 CNY"],
        ["Store credit", "0"]]
    at = rows.index(["Product", "Units sold", "Cases", "Units in after-sales", "After-sales rate"])
    assert rows[at + 1:at + 4] == [["耳机", "5", "4", "3", "60.0%"], ["充电宝", "6", "2", "5", "83.3%"], []]
    at = rows.index(["Type", "Cases", "Units", "Share of cases"])
    assert rows[at + 1] == ["Refund only", "1", "4", "16.7%"]
    assert rows[-10:] == [[d.isoformat(), str(n)] for d, n in
                          [(start + timedelta(days=i), 5 if i == 0 else 1 if i == 7 else 0) for i in range(10)]]


# --- the operator's page --------------------------------------------------------------------


def test_the_operator_page_shows_every_shop_and_filters_by_shop(seeded, client, home_operator, shop, other_shop,
                                                                django_assert_max_num_queries):
    client.force_login(home_operator)
    # session, user, the statistics' eight, the shop list (and the login's session writes)
    with django_assert_max_num_queries(16):
        r = client.get(f"/disputes/statistics/?{_query(seeded)}")
    assert r.status_code == 200
    html = r.content.decode()
    assert 'data-stat="cases">7<' in html and 'data-stat="refunded">¥455.50<' in html
    assert 'data-stat="handling">51.5 h<' in html and 'data-stat="within_deadline">66.7% <small>(4/6)</small>' in html
    assert _cells(html, "stats-by-shop") == [[shop.name_en or shop.name, "6", "1", "16.7%", "¥420.00"],
                                            [other_shop.name_en or other_shop.name, "1", "0", "0.0%", "¥35.50"]]
    # one shop
    r = client.get(f"/disputes/statistics/?{_query(seeded)}&shop_id={other_shop.pk}")
    html = r.content.decode()
    assert 'data-stat="cases">1<' in html and _cells(html, "stats-by-product") == [["台灯", "1", "1", "1", "100.0%"]]
    rows = _csv(client.get(f"/disputes/statistics/export/?{_query(seeded)}&shop_id={other_shop.pk}"))
    assert rows[1] == ["Shop", other_shop.name] and rows[6] == ["Cases", "1"]
    r = client.get(f"/disputes/statistics/export/?{_query(seeded)}")
    assert 'filename="aftersales-stats-all-shops-' in r["Content-Disposition"]
    rows = _csv(r)
    assert rows[1] == ["Shop", "All shops"] and rows[6:8] == [["Cases", "7"], ["Units in after-sales", "9"]]


def test_only_operators_open_the_operator_page(seeded, client, seller):
    assert client.get("/disputes/statistics/").status_code == 302  # to the login page
    client.force_login(seller)
    assert client.get("/disputes/statistics/").status_code == 403
    assert client.get("/disputes/statistics/export/").status_code == 403


@pytest.mark.parametrize("shop_id", ["abc", str(2**64), "-1", "%EF%BC%91"])
def test_the_operator_page_and_api_refuse_a_malformed_shop(shop_id, client, api, home_operator):
    client.force_login(home_operator)
    r = client.get(f"/disputes/statistics/?shop_id={shop_id}")
    assert r.status_code == 422 and "Choose a shop from the list." in r.content.decode()
    assert 'id="stats-summary"' not in r.content.decode()
    r = api.get(f"/operator/aftersales/stats?shop_id={shop_id}", token=f.token_for(home_operator))
    assert (r.status_code, r.json()["fields"]) == (422, {"shop_id": ["Choose a shop from the list."]})


def test_an_unknown_shop_is_404(client, api, home_operator, seller_token, shop):
    client.force_login(home_operator)
    assert client.get("/disputes/statistics/?shop_id=999999").status_code == 404
    assert client.get("/disputes/statistics/export/?shop_id=999999").status_code == 404
    assert api.get("/operator/aftersales/stats?shop_id=999999", token=f.token_for(home_operator)).status_code == 404
    assert api.get("/seller/aftersales/stats?shop_id=999999", token=seller_token).status_code == 404
    # the seller's own shop by id is theirs
    r = api.get(f"/seller/aftersales/stats?shop_id={shop.pk}", token=seller_token)
    assert (r.status_code, r.json()["shop_id"]) == (200, shop.pk)


# --- the API --------------------------------------------------------------------------------


def test_the_seller_api_gives_the_shops_figures(seeded, api, seller_token, shop):
    r = api.get(f"/seller/aftersales/stats?{_query(seeded)}", token=seller_token)
    assert r.status_code == 200, r.json()
    body = r.json()
    assert {k: body[k] for k in ("shop_id", "days", "cases", "units", "ended", "within_deadline",
                                 "within_deadline_rate", "disputed", "dispute_rate", "average_handling_seconds",
                                 "refunded", "credited")} == {
        "shop_id": shop.pk, "days": None, "cases": 6, "units": 8, "ended": 5, "within_deadline": 3,
        "within_deadline_rate": "0.6000", "disputed": 1, "dispute_rate": "0.1667",
        "average_handling_seconds": 61.6 * 3600, "refunded": [{"currency": "CNY", "amount": "420.00"}],
        "credited": []}
    assert (body["date_from"], body["date_to"]) == (seeded["start"].isoformat(), seeded["end"].isoformat())
    assert [(k["key"], k["cases"], k["units"], k["share"]) for k in body["by_kind"]][:2] == [
        ("refund_only", 1, 4, "0.1667"), ("return_refund", 2, 2, "0.3333")]
    assert [(p["title"], p["units_sold"], p["cases"], p["units"], p["rate"]) for p in body["by_product"]] == [
        ("耳机", 5, 4, 3, "0.6000"), ("充电宝", 6, 2, 5, "0.8333")]
    assert sum(d["cases"] for d in body["by_day"]) == 6 and len(body["by_day"]) == 10


def test_the_operator_api_gives_every_shop_or_one(seeded, api, home_operator, other_shop):
    token = f.token_for(home_operator)
    body = api.get(f"/operator/aftersales/stats?{_query(seeded)}", token=token).json()
    assert (body["shop_id"], body["cases"], body["refunded"], body["average_handling_seconds"]) == (
        None, 7, [{"currency": "CNY", "amount": "455.50"}], 51.5 * 3600)
    body = api.get(f"/operator/aftersales/stats?{_query(seeded)}&shop_id={other_shop.pk}", token=token).json()
    assert (body["shop_id"], body["cases"], body["dispute_rate"]) == (other_shop.pk, 1, "0.0000")
    assert api.get("/operator/aftersales/stats?shop_id=999999", token=token).status_code == 404


def test_the_stats_api_is_scoped_to_the_caller(seeded, api, seller_token, other_shop, shopper_token):
    # a seller never reads the operator figures, nor another shop's
    r = api.get("/operator/aftersales/stats", token=seller_token)
    assert (r.status_code, r.json()["code"]) == (403, "permission_denied")
    r = api.get(f"/seller/aftersales/stats?shop_id={other_shop.pk}", token=seller_token)
    assert (r.status_code, r.json()["code"]) == (404, "not_found")
    # a shopper is no seller; no token is 401
    assert api.get("/seller/aftersales/stats", token=shopper_token).status_code == 403
    assert api.get("/seller/aftersales/stats").status_code == 401
    # the other shop's seller sees their one case only
    other = f.token_for(other_shop.members.first().user)
    body = api.get(f"/seller/aftersales/stats?{_query(seeded)}", token=other).json()
    assert (body["cases"], body["refunded"]) == (1, [{"currency": "CNY", "amount": "35.50"}])


def test_a_seller_sees_only_their_shop_on_the_console(seeded, client, other_shop):
    other_seller = other_shop.members.first().user
    client.force_login(other_seller)
    html = client.get(f"/console/aftersales/statistics/?{_query(seeded)}").content.decode()
    assert 'data-stat="cases">1<' in html and "耳机" not in html and "台灯" in html
    # naming a shop they are not a member of is 404
    assert client.get(f"/console/aftersales/statistics/?shop={seeded['cases']['c1'].shop_id}").status_code == 404


# --- bad input ------------------------------------------------------------------------------

BAD_PERIODS = [
    ("from=2026-02-30&to=2026-03-01", {"from": ["“2026-02-30” is not a date (YYYY-MM-DD)."]}),
    ("from=yesterday&to=2026-03-01", {"from": ["“yesterday” is not a date (YYYY-MM-DD)."]}),
    ("from=2026-03-01", {"to": ["Enter a date (YYYY-MM-DD)."]}),
    ("from=2026-03-05&to=2026-03-01", {"to": ["The end date is before the start date."]}),
    ("from=2024-01-01&to=2025-01-01", {"from": ["A period can be at most 366 days long."]}),
    ("days=14", {"days": ["Choose the last 7, 30 or 90 days, or enter dates."]}),
    ("days=abc", {"days": ["Choose the last 7, 30 or 90 days, or enter dates."]}),
    ("days=%EF%BC%93%EF%BC%90", {"days": ["Choose the last 7, 30 or 90 days, or enter dates."]}),  # "３０"
]


@pytest.mark.parametrize(("query", "fields"), BAD_PERIODS)
def test_a_bad_period_is_a_clear_422_everywhere(query, fields, api, seller_client, seller_token, home_operator):
    # the API names the field
    r = api.get(f"/seller/aftersales/stats?{query}", token=seller_token)
    assert (r.status_code, r.json()["fields"]) == (422, fields)
    r = api.get(f"/operator/aftersales/stats?{query}", token=f.token_for(home_operator))
    assert (r.status_code, r.json()["fields"]) == (422, fields)
    # the pages say it beside the form, with no figures and no export
    message = next(iter(fields.values()))[0]
    for url in ("/console/aftersales/statistics/", "/console/aftersales/statistics/export/"):
        r = seller_client.get(f"{url}?{query}")
        html = r.content.decode()
        assert r.status_code == 422 and r["Content-Type"].startswith("text/html")
        assert message.replace("“", "&ldquo;").replace("”", "&rdquo;") in html or message in html
        assert 'id="stats-summary"' not in html and 'id="stats-export"' not in html


@pytest.mark.parametrize("query", ["days=3%000", "from=2026-01-01%00&to=2026-01-02", "shop_id=1%00"])
def test_a_nul_character_is_refused_by_the_platforms_rule(query, api, client, home_operator):
    # (the NUL rule is core's, for every page and API call)
    r = api.get(f"/operator/aftersales/stats?{query}", token=f.token_for(home_operator))
    assert r.status_code == 422 and "Remove the NUL character" in str(r.json()["fields"])
    client.force_login(home_operator)
    assert client.get(f"/disputes/statistics/?{query}").status_code == 400


def test_a_period_may_not_end_after_today():
    today = timezone.localdate()
    tomorrow = today + timedelta(days=1)
    with pytest.raises(ValidationFailed) as exc:
        stats.parse_period(date_from=today.isoformat(), date_to=tomorrow.isoformat())
    assert exc.value.fields == {"to": [f"The period cannot end after today ({today.isoformat()})."]}
    # 366 days is allowed
    period = stats.parse_period(date_from=(today - timedelta(days=365)).isoformat(), date_to=today.isoformat())
    assert (period.length, period.days) == (366, None)


def test_no_cases_gives_zeros_not_errors(seller_client, shop, django_assert_num_queries):
    # the same eight queries with no case as with many
    with django_assert_num_queries(8):
        data = stats.figures(shop=shop, period=stats.parse_period())
    assert (data.cases, data.units, data.within_deadline_rate, data.dispute_rate, data.average_handling) == (
        0, 0, None, None, None)
    assert [g.cases for g in data.by_kind] == [0, 0, 0, 0, 0] and data.by_reason == data.by_product == []
    r = seller_client.get("/console/aftersales/statistics/")
    assert r.status_code == 200 and 'data-stat="dispute_rate">— <small>(0/0)</small>' in r.content.decode()
    rows = _csv(seller_client.get("/console/aftersales/statistics/export/"))
    assert rows[6:8] == [["Cases", "0"], ["Units in after-sales", "0"]]


def test_store_credit_is_counted_apart_from_refunds(shopper, address, shop, seller):
    # given a compensation paid as store credit and an open refund request
    sku = f.make_product(shop, price="80.00", stock=5).skus.get()
    order = delivered(paid_order(shopper, address, [(sku, 2)]))
    line = order.lines.get()
    credit = _open(shopper, order, "compensation", "price_protection", [{"line_id": line.pk, "quantity": 1}],
                   amount="12.50", compensation="credit")
    services.approve(actor=seller, shop=shop, case_id=credit.pk)
    _open(shopper, order, "refund_only", "quality", [{"line_id": line.pk, "quantity": 1}])
    # when the figures are read
    data = stats.figures(shop=shop, period=stats.parse_period(days="7"))
    # then the credit is store credit, not a refund; the open request refunded nothing yet
    assert [str(a) for a in data.credited] == ["¥12.50"] and data.refunded == []
    assert (data.cases, data.units, data.ended, data.within_deadline) == (2, 1, 1, 1)
    assert [(g.key, g.cases, g.units) for g in data.by_kind if g.cases] == [("refund_only", 1, 1),
                                                                         ("compensation", 1, 0)]


def test_the_form_shows_the_period_asked_for(seller_client):
    html = seller_client.get("/console/aftersales/statistics/?days=90").content.decode()
    assert '<option value="90" selected>Last 90 days</option>' in html
    assert '<option value="">The dates below</option>' in html
    today = timezone.localdate().isoformat()
    html = seller_client.get(f"/console/aftersales/statistics/?from={today}&to={today}").content.decode()
    assert '<option value="" selected>The dates below</option>' in html and " selected>Last" not in html
    assert f'name="from" value="{today}"' in html and f'name="to" value="{today}"' in html
