"""The management dashboard and the report downloads in the admin, through Django's test client."""

import datetime
import re
import zoneinfo
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from compliance.models import Alert
from tests.compliance.workbooks import approved_order
from tests.factories import D, InvoiceFactory

DASHBOARD = "/admin/dashboard/"
HONG_KONG = zoneinfo.ZoneInfo("Asia/Hong_Kong")


@pytest.fixture
def mid_march():
    with time_machine.travel(datetime.datetime(2026, 3, 15, 10, 0, tzinfo=HONG_KONG)):
        yield


def panel(html: str, cap) -> str:
    start = html.index(f'data-cap="{cap.pk}"')
    return html[start : html.index("</section>", start)]


def bar(section: str, key: str) -> str:
    return re.search(rf'cct-bar-{key}" data-pct="([^"]+)"', section).group(1)


def test_management_sees_each_live_caps_actual_committed_and_forecast_as_at_today(
    client, ledger, management_user, mid_march
):
    order = approved_order(ledger, "1700000.00", order_date=D("2026-03-02"))
    InvoiceFactory(purchase_order=order, amount=Decimal("400000.00"), invoice_date=D("2026-03-10"))
    approved_order(ledger, "100000.00", order_date=D("2026-03-20"))  # dated after today: not counted yet
    client.force_login(management_user)

    html = client.get(DASHBOARD).content.decode()

    assert f'data-cap="{ledger.caps[0].pk}"' not in html  # the 2025 period is over
    section = panel(html, ledger.caps[1])
    assert (bar(section, "actual"), bar(section, "committed")) == ("20", "85")
    # A one-off order recognised on its order date is not a run rate: neither its commitment nor its
    # invoice is carried on, so the forecast is the committed 1,700,000.00, 85% of the cap (compliance.rules.forecast).
    assert bar(section, "forecast") == "85"
    assert "Forecast at 2026-12-31: CNY 1,700,000.00" in section
    assert "report to the board" not in section
    assert "At or above 80%" in section
    assert f'href="/admin/compliance/annualcap/{ledger.caps[1].pk}/change/"' in section
    assert 'style="width:85.00%"' in section


def test_a_forecast_above_the_cap_says_so(client, ledger, management_user, mid_march):
    order = approved_order(ledger, "600000.00", order_date=D("2026-01-01"), service_start=D("2026-01-01"),
                           service_end=D("2026-12-31"))  # fmt: skip
    InvoiceFactory(purchase_order=order, amount=Decimal("600000.00"), invoice_date=D("2026-02-01"))
    client.force_login(management_user)

    section = panel(client.get(DASHBOARD).content.decode(), ledger.caps[1])

    # Hosting invoiced at 600,000.00 in 74 days runs on: 2,959,459.46 by the year end, 959,459.46 above the cap
    # of 2,000,000.00.
    assert "above the cap by CNY 959,459.46: report to the board" in section
    assert "Forecast above cap: report to the board" in section
    assert 'style="width:100.00%"' in section  # the forecast bar stops at the end of the track


def test_the_latest_alerts_are_listed_newest_first_with_their_sending(client, ledger, auditor_user, mid_march):
    for threshold, minutes, sent in (("80.00", 1, True), ("90.00", 2, False)):
        alert = Alert.objects.create(
            cap=ledger.caps[1], threshold=Decimal(threshold), basis="committed", utilisation_pct=Decimal(threshold),
            used_amount=Decimal("1.00"), cap_amount=Decimal("2000000.00"), sent_at=timezone.now() if sent else None,
        )  # fmt: skip
        Alert.objects.filter(pk=alert.pk).update(created_at=timezone.now() - datetime.timedelta(minutes=10 - minutes))
    client.force_login(auditor_user)

    html = client.get(DASHBOARD).content.decode()

    alerts = re.findall(r'<tr class="alert-row">.*?</tr>', html, re.S)
    assert ["90.00%" in alerts[0], "80.00%" in alerts[1]] == [True, True]
    assert ("pending" in alerts[0], "pending" in alerts[1]) == (True, False)


def test_the_dashboard_offers_the_report_downloads_and_links_to_orders_waiting_for_approval(
    client, ledger, finance_user, mid_march
):
    ledger.order("100.00")
    client.force_login(finance_user)

    html = client.get(DASHBOARD).content.decode()

    assert '<form method="get" action="/api/reports/monthly/">' in html
    assert 'name="month" value="2026-02"' in html  # last month
    assert '<option value="2025-H2" selected>' in html  # the last complete half year
    assert 'name="year" value="2025"' in html
    assert re.search(r'href="/admin/transactions/purchaseorder/\?status__exact=draft" id="drafts-link">1 order ', html)


def test_a_user_without_a_role_is_sent_to_log_in(client, norole_user):
    client.force_login(norole_user)

    response = client.get(DASHBOARD)

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_the_admin_front_page_links_to_the_dashboard_and_offers_the_downloads(client, ledger, compliance_user):
    client.force_login(compliance_user)

    html = client.get("/admin/").content.decode()

    assert 'href="/admin/dashboard/"' in html
    assert 'id="download-monthly-report"' in html and 'action="/api/reports/monthly/"' in html


@pytest.mark.parametrize("language", ["zh-hant", "zh-hans", "zh-hk", "zh-cn"])
def test_in_chinese_money_keeps_its_separators_and_dates_read_as_days(
    client, ledger, management_user, mid_march, language
):
    approved_order(ledger, "1700000.00", order_date=D("2026-03-02"))
    client.force_login(management_user)

    html = client.get(DASHBOARD, HTTP_ACCEPT_LANGUAGE=language).content.decode()
    caps = client.get("/admin/compliance/annualcap/", HTTP_ACCEPT_LANGUAGE=language).content.decode()

    section = panel(html, ledger.caps[1])
    # The words are the language's (tests/compliance/test_dashboard_languages.py); the figures read the same.
    assert " 2026-12-31: CNY 1,700,000.00" in section
    assert " CNY 2,000,000.00" in section
    assert "1700000.00" not in section and "十二月" not in html and "12月 2026" not in html
    assert "2,000,000.00" in caps and "2000000.00" not in caps.replace('value="2000000.00"', "")
