"""The management dashboard in a real headless Chromium against a live server, with a screenshot."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone
from selenium.webdriver.common.by import By

from tests.compliance.test_admin_browser import log_in
from tests.compliance.workbooks import approved_order
from tests.conftest import ARTIFACTS
from tests.factories import CapFactory, CategoryFactory, InvoiceFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_management_opens_the_dashboard_from_the_admin_and_sees_each_live_cap_as_bars(
    browser, live_server, ledger, management_user
):
    # A cap whose period contains today, whatever day the suite runs on.
    today = timezone.localdate()
    hardware = CategoryFactory(agreement=ledger.agreement, name="Network hardware",
                               term_start=today - datetime.timedelta(days=200),
                               term_end=today + datetime.timedelta(days=200))  # fmt: skip
    cap = CapFactory(category=hardware, period_start=today - datetime.timedelta(days=99),
                     period_end=today + datetime.timedelta(days=100), amount=Decimal("1000000.00"))  # fmt: skip
    order = approved_order(ledger, "850000.00", category=hardware, order_date=today - datetime.timedelta(days=5))
    InvoiceFactory(purchase_order=order, amount=Decimal("300000.00"), invoice_date=today)

    log_in(browser, live_server, management_user)
    browser.find_element(By.CSS_SELECTOR, "#dashboard-link a").click()

    assert browser.find_element(By.TAG_NAME, "h1").text == "Management dashboard · 管理層儀表板"
    section = browser.find_element(By.CSS_SELECTOR, f'section[data-cap="{cap.pk}"]')
    track = section.find_element(By.CSS_SELECTOR, ".cct-bar-committed .cct-track").size["width"]
    committed = section.find_element(By.CSS_SELECTOR, ".cct-bar-committed .cct-fill")
    actual = section.find_element(By.CSS_SELECTOR, ".cct-bar-actual .cct-fill")
    assert committed.size["width"] / track == pytest.approx(0.85, abs=0.01)
    assert actual.size["width"] / track == pytest.approx(0.30, abs=0.01)
    assert "warning" in committed.get_attribute("class")  # amber at 80% or more
    assert "At or above 80%" in section.text
    # 300,000.00 in the 100 days so far runs on to 600,000.00 over the 200 days: the committed 850,000.00 stays.
    assert "Forecast at" in section.text and "850,000.00" in section.text
    browser.save_screenshot(str(ARTIFACTS / "management-dashboard.png"))

    section.find_element(By.CSS_SELECTOR, "h3 a").click()
    assert f"/admin/compliance/annualcap/{cap.pk}/change/" in browser.current_url
