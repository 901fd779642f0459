"""The management dashboard and the admin's front page speak the reader's Chinese: headings, figures'
labels and sentences, not the English (nor, under Simplified Chinese, the Traditional of the bilingual
headings). Figures by hand: one approved order of CNY 1,700,000.00 on 2 Mar 2026 against the 2026 cap of
2,000,000.00 leaves 300,000.00."""

import datetime
import zoneinfo

import pytest
import time_machine

from tests.compliance.workbooks import approved_order
from tests.factories import D

HONG_KONG = zoneinfo.ZoneInfo("Asia/Hong_Kong")
WORDS = {
    "zh-hk": ("管理層儀表板", "現行年度上限", "剩餘額度", "最近警示", "1 張訂單待批准", "期末預測"),
    "zh-cn": ("管理层仪表板", "现行年度上限", "剩余额度", "最近警示", "1 张订单待批准", "期末预测"),
}
ENGLISH = ("Management dashboard", "Live annual caps", "Remaining", "Recent alerts", "Forecast at")


@pytest.fixture
def mid_march():
    with time_machine.travel(datetime.datetime(2026, 3, 15, 10, 0, tzinfo=HONG_KONG)):
        yield


@pytest.mark.parametrize("accept", sorted(WORDS))
def test_the_dashboard_reads_in_the_browsers_chinese(client, ledger, management_user, mid_march, accept):
    approved_order(ledger, "1700000.00", order_date=D("2026-03-02"))
    ledger.order("1000.00")  # a draft waiting for approval
    client.force_login(management_user)

    page = client.get("/admin/dashboard/", HTTP_ACCEPT_LANGUAGE=accept).content.decode()

    for words in WORDS[accept]:
        assert words in page
    assert "CNY 300,000.00" in page
    for english in ENGLISH:
        assert english not in page


def test_the_front_page_heads_its_caps_in_simplified_chinese(client, ledger, management_user, mid_march):
    client.force_login(management_user)

    page = client.get("/admin/", HTTP_ACCEPT_LANGUAGE="zh-cn").content.decode()

    assert "<caption>现行年度上限</caption>" in page
    assert "關連交易合規追蹤" not in page and "关连交易合规追踪" in page
