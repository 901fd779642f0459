"""A refusal's `detail` is in the request's language (Accept-Language: zh-hk and zh-tw read Traditional
Chinese, zh-cn Simplified); its `code` never changes. Figures by hand: the 2026 cap of IDC services is
CNY 2,000,000.00 with nothing used, so an order of CNY 2,500,000.00 dated 2 Mar 2026 takes it to
2,500,000.00, over by 500,000.00, with 2,000,000.00 of headroom left."""

import datetime

import pytest

pytestmark = pytest.mark.django_db

CAP_EXCEEDED = {
    "en": "Approving order {number} would take the annual cap of “IDC services” for 1 Jan 2026 to 31 Dec 2026 to "
    "CNY 2,500,000.00, above the cap of CNY 2,000,000.00 by CNY 500,000.00. Headroom left: CNY 2,000,000.00.",
    "zh-hk": "批准訂單 {number} 將令「IDC services」在 2026年1月1日 至 2026年12月31日 的年度上限使用金額增至 "
    "CNY 2,500,000.00，超出上限 CNY 2,000,000.00 達 CNY 500,000.00。剩餘額度：CNY 2,000,000.00。",
    "zh-tw": "批准訂單 {number} 將令「IDC services」在 2026年1月1日 至 2026年12月31日 的年度上限使用金額增至 "
    "CNY 2,500,000.00，超出上限 CNY 2,000,000.00 達 CNY 500,000.00。剩餘額度：CNY 2,000,000.00。",
    "zh-cn": "批准订单 {number} 将令“IDC services”在 2026年1月1日 至 2026年12月31日 的年度上限使用金额增至 "
    "CNY 2,500,000.00，超出上限 CNY 2,000,000.00 达 CNY 500,000.00。剩余额度：CNY 2,000,000.00。",
}


@pytest.mark.parametrize("accept", sorted(CAP_EXCEEDED))
def test_a_cap_refusal_speaks_the_requests_language_with_the_same_code(ledger, compliance_api, accept):
    order = ledger.order("2500000.00", quotes=("2600000.00", "2700000.00"))

    response = compliance_api.post(f"/api/purchase-orders/{order.pk}/approve/", HTTP_ACCEPT_LANGUAGE=accept)

    assert response.status_code == 409
    assert response.json() == {"code": "cap_exceeded", "detail": CAP_EXCEEDED[accept].format(number=order.number)}


@pytest.mark.parametrize(
    ("accept", "detail"),
    [
        ("zh-tw", "訂單 {number} 的日期為 2027年1月4日，在「IDC services」的期限"
                  "（2025年7月29日 至 2026年12月31日）之外。只可在框架協議期限內根據該協議下訂單。"),
        ("zh-cn", "订单 {number} 的日期为 2027年1月4日，在“IDC services”的期限"
                  "（2025年7月29日 至 2026年12月31日）之外。只可在框架协议期限内根据该协议下订单。"),
    ],
)  # fmt: skip
def test_an_out_of_term_refusal_reads_its_days_as_chinese_dates(ledger, compliance_api, accept, detail):
    order = ledger.order(order_date=datetime.date(2027, 1, 4))

    response = compliance_api.post(f"/api/purchase-orders/{order.pk}/approve/", HTTP_ACCEPT_LANGUAGE=accept)

    assert response.json() == {"code": "outside_term", "detail": detail.format(number=order.number)}


def test_a_quote_rule_refusal_names_the_quotes_not_counted_in_simplified_chinese(ledger, compliance_api):
    order = ledger.order("1000.00", quotes=("1100.00",))
    order.quotes.create(supplier=ledger.connected, quoted_on=datetime.date(2026, 2, 20), amount="1200.00")

    response = compliance_api.post(f"/api/purchase-orders/{order.pk}/approve/", HTTP_ACCEPT_LANGUAGE="zh-cn")

    assert response.json() == {
        "code": "quote_rule",
        "detail": f"订单 {order.number} 须有至少 2 个独立第三方的报价，且报价日期须在订单前 90 日内；现有 1 个。"
        "不予计算：来自 Xiaomi Corporation 的报价（报价来自订单本身的交易对手）。",
    }


@pytest.mark.parametrize(
    ("accept", "message"),
    [
        ("en", "Enter the month as YYYY-MM, e.g. 2026-03."),
        ("zh-hk", "請以 YYYY-MM 格式輸入月份，例如 2026-03。"),
        ("zh-cn", "请以 YYYY-MM 格式输入月份，例如 2026-03。"),
    ],
)
def test_a_validation_message_of_the_api_speaks_the_requests_language(finance_api, accept, message):
    response = finance_api.post("/api/monthly-signoffs/", {"month": "March 2026"}, format="json",
                                HTTP_ACCEPT_LANGUAGE=accept)  # fmt: skip

    assert response.status_code == 400
    assert response.json()["month"] == [message]
