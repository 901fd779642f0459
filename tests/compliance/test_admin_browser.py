"""The order-to-approval flow in the admin, in a real headless Chromium against a live server."""

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.select import Select

from tests.conftest import ARTIFACTS
from transactions.documents import simple_pdf
from transactions.models import PurchaseOrder

PASSWORD = "a-long-password-for-tests"
# The live server reads committed rows; serialized_rollback restores the roles after each test's flush.
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def log_in(browser, live_server, user):
    user.set_password(PASSWORD)
    user.save()
    browser.delete_all_cookies()
    browser.get(f"{live_server.url}/admin/login/?next=/admin/")
    browser.find_element(By.NAME, "username").send_keys(user.username)
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    assert browser.find_element(By.ID, "user-tools")


def fill(browser, name, value):
    field = browser.find_element(By.NAME, name)
    if field.tag_name == "select":
        Select(field).select_by_value(str(value))
    else:
        field.clear()
        field.send_keys(value)


def test_finance_enters_an_order_with_quotes_and_compliance_approves_it_in_the_browser(
    browser, live_server, ledger, finance_user, compliance_user, tmp_path
):
    quote_document = tmp_path / "quote.pdf"
    quote_document.write_bytes(simple_pdf("Quotation"))
    log_in(browser, live_server, finance_user)
    browser.get(f"{live_server.url}/admin/transactions/purchaseorder/add/")
    for name, value in {
        "number": "PO-BROWSER-1", "category": ledger.category.pk, "counterparty": ledger.connected.pk,
        "order_date": "2026-03-02", "amount": "250000.00", "currency": "CNY",
        "quotes-0-supplier": ledger.independents[0].pk, "quotes-0-quoted_on": "2026-02-20",
        "quotes-0-amount": "262000.00", "quotes-0-currency": "CNY",
        "quotes-1-supplier": ledger.independents[1].pk, "quotes-1-quoted_on": "2026-02-24",
        "quotes-1-amount": "259500.00", "quotes-1-currency": "CNY",
    }.items():  # fmt: skip
        fill(browser, name, value)
    for number in (0, 1):  # a quote counts only with its document
        browser.find_element(By.NAME, f"quotes-{number}-document").send_keys(str(quote_document))
    browser.find_element(By.NAME, "_continue").click()
    assert "was added successfully" in browser.find_element(By.CSS_SELECTOR, ".messagelist .success").text
    order = PurchaseOrder.objects.get(number="PO-BROWSER-1")
    assert order.quotes.count() == 2

    log_in(browser, live_server, compliance_user)
    browser.get(f"{live_server.url}/admin/transactions/purchaseorder/{order.pk}/change/")
    browser.find_element(By.ID, "approve-order").click()

    assert browser.find_element(By.CSS_SELECTOR, ".messagelist .success").text == "Order PO-BROWSER-1 is approved."
    browser.save_screenshot(str(ARTIFACTS / "admin-order-approved.png"))
    order.refresh_from_db()
    assert (order.status, order.approved_by) == ("approved", compliance_user)


def test_a_refusal_is_shown_in_words_in_the_browser(browser, live_server, ledger, compliance_user):
    order = ledger.order("250000.00", quotes=("240000.00", "260000.00"))
    log_in(browser, live_server, compliance_user)
    browser.get(f"{live_server.url}/admin/transactions/purchaseorder/{order.pk}/change/")

    browser.find_element(By.ID, "approve-order").click()

    error = browser.find_element(By.CSS_SELECTOR, ".messagelist .error").text
    assert "not less than the independent quote" in error
    browser.save_screenshot(str(ARTIFACTS / "admin-approval-refused.png"))


def test_at_a_laptops_width_lists_and_the_order_form_need_no_sideways_scrolling(
    browser, live_server, ledger, compliance_user, finance_user
):
    from django.contrib.auth.models import Group

    from tests.factories import UserFactory

    approver = UserFactory(username="approver")
    approver.groups.add(Group.objects.get(name="compliance"))
    for number in range(3):
        ledger.approved("100000.00", approver=approver, number=f"PO-LAPTOP-2026-{number:03}")
    browser.set_window_size(1366, 768)
    log_in(browser, live_server, compliance_user)
    visible_width = browser.execute_script("return window.innerWidth")

    for name, path in [
        ("orders", "/admin/transactions/purchaseorder/"),
        ("caps", "/admin/compliance/annualcap/"),
        ("new-order", "/admin/transactions/purchaseorder/add/"),
    ]:
        if name == "new-order":  # finance enters orders
            log_in(browser, live_server, finance_user)
        browser.get(f"{live_server.url}{path}")
        browser.save_screenshot(str(ARTIFACTS / f"laptop-{name}.png"))
        width = browser.execute_script("return document.documentElement.scrollWidth")
        assert width <= visible_width, f"{name}: {width}px wide in a {visible_width}px window"
        if name != "new-order":
            results = browser.find_element(By.ID, "result_list")
            right = browser.execute_script("const r = arguments[0].getBoundingClientRect(); return r.right", results)
            box = browser.find_element(By.CSS_SELECTOR, ".results")
            assert right <= box.rect["x"] + box.rect["width"] + 1, f"{name}: the list scrolls sideways"

    fields = [browser.find_element(By.NAME, f"quotes-0-{name}") for name in
              ("supplier", "quoted_on", "amount", "currency", "reference", "document")]  # fmt: skip
    fields.append(browser.find_element(By.CSS_SELECTOR, "#quotes-0 td:last-child"))  # its delete button
    for element in fields:
        right = browser.execute_script("return arguments[0].getBoundingClientRect().right", element)
        assert right <= visible_width, f"the quote's {element.get_attribute('name')} ends at {right}px"
