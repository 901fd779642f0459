"""Entering, approving and refusing an order in the admin in English, Traditional and Simplified Chinese,
in a real headless Chromium at a 1366 × 768 laptop's size: each page speaks the language the browser asks
for (zh-TW) or the user chose (zh-hans, whatever the browser asks), down to the field labels, the approval
message and the refusal sentence. Screenshots are saved under test-artifacts/."""

from dataclasses import dataclass

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.select import Select

from accounts.models import Preference
from tests.conftest import ARTIFACTS
from transactions.documents import simple_pdf
from transactions.models import PurchaseOrder

PASSWORD = "a-long-password-for-tests"
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@dataclass(frozen=True)
class Words:
    """What each page must say in the language, and the English it must no longer show."""

    language: str
    accept_language: str  # what the browser asks for
    chosen: str  # the user's Preference ("" follows the browser)
    order_date_label: str
    amount_section: str
    approve_button: str
    gates_heading: str
    approved: str  # the approval message, with {number}
    refused: tuple[str, ...]  # words of the refusal sentence
    english_gone: tuple[str, ...]


LANGUAGES = [
    Words(
        "en", "en-GB,en", "", "Order date", "Amount and recognition", "Approve order · 批准",
        "Before approval", "Order {number} is approved.",
        ("would take the annual cap of “IDC services” for 1 Jan 2026 to 31 Dec 2026 to CNY 2,500,000.00",
         "above the cap of CNY 2,000,000.00 by CNY 500,000.00", "Headroom left: CNY 1,750,000.00."),
        (),
    ),
    Words(
        "zh-hant", "zh-TW,zh", "",
        "訂單日期", "金額及確認方式", "批准訂單", "批准前檢查", "訂單 {number} 已批准。",
        ("批准訂單", "將令「IDC services」在 2026年1月1日 至 2026年12月31日 的年度上限",
         "使用金額增至 CNY 2,500,000.00",
         "超出上限 CNY 2,000,000.00 達 CNY 500,000.00", "剩餘額度：CNY 1,750,000.00"),
        ("Order date", "Amount and recognition", "Approve order", "is approved", "Headroom left",
         "Connected-transaction compliance tracker", "Transactions (facts)", "Before approval"),
    ),
    Words(
        "zh-hans", "en-GB,en", "zh-hans",
        "订单日期", "金额及确认方式", "批准订单", "批准前检查", "订单 {number} 已批准。",
        ("批准订单", "将令“IDC services”在 2026年1月1日 至 2026年12月31日 的年度上限",
         "使用金额增至 CNY 2,500,000.00",
         "超出上限 CNY 2,000,000.00 达 CNY 500,000.00", "剩余额度：CNY 1,750,000.00"),
        ("Order date", "Amount and recognition", "Approve order", "is approved", "Headroom left",
         "Connected-transaction compliance tracker", "Transactions (facts)", "Before approval"),
    ),
]  # fmt: skip


def laptop_browser(accept_language: str):
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in (
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-quic",
        "--window-size=1366,768", f"--lang={accept_language.split(',')[0]}",
    ):  # fmt: skip
        options.add_argument(flag)
    options.add_experimental_option("prefs", {"intl.accept_languages": accept_language})
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.implicitly_wait(5)
    ARTIFACTS.mkdir(exist_ok=True)
    return driver


@pytest.fixture(params=LANGUAGES, ids=[words.language for words in LANGUAGES])
def words(request):
    return request.param


@pytest.fixture
def browser_in(words):
    driver = laptop_browser(words.accept_language)
    yield driver
    driver.quit()


def log_in(browser, live_server, user, words):
    user.set_password(PASSWORD)
    user.save()
    if words.chosen:
        Preference.objects.update_or_create(user=user, defaults={"language": words.chosen})
    browser.delete_all_cookies()
    browser.get(f"{live_server.url}/admin/login/?next=/admin/")
    browser.find_element(By.NAME, "username").send_keys(user.username)
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    assert browser.find_element(By.ID, "user-tools")
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == words.language


def fill(browser, name, value):
    field = browser.find_element(By.NAME, name)
    if field.tag_name == "select":
        Select(field).select_by_value(str(value))
    else:
        field.clear()
        field.send_keys(value)


def page_text(browser) -> str:
    return browser.find_element(By.TAG_NAME, "body").text


def test_an_order_is_entered_approved_and_refused_in_each_language(
    browser_in, words, live_server, ledger, finance_user, compliance_user, tmp_path
):
    browser, number = browser_in, f"PO-{words.language.upper()}-1"
    quote_document = tmp_path / "quote.pdf"
    quote_document.write_bytes(simple_pdf("Quotation"))

    # Finance enters the order with two quotes.
    log_in(browser, live_server, finance_user, words)
    browser.get(f"{live_server.url}/admin/transactions/purchaseorder/add/")
    assert words.order_date_label in browser.find_element(By.CSS_SELECTOR, "label[for=id_order_date]").text
    assert words.amount_section in page_text(browser)
    for name, value in {
        "number": number, "category": ledger.category.pk, "counterparty": ledger.connected.pk,
        "order_date": "2026-03-02", "amount": "250000.00", "currency": "CNY",
        "quotes-0-supplier": ledger.independents[0].pk, "quotes-0-quoted_on": "2026-02-20",
        "quotes-0-amount": "262000.00", "quotes-0-currency": "CNY",
        "quotes-1-supplier": ledger.independents[1].pk, "quotes-1-quoted_on": "2026-02-24",
        "quotes-1-amount": "259500.00", "quotes-1-currency": "CNY",
    }.items():  # fmt: skip
        fill(browser, name, value)
    for row in (0, 1):
        browser.find_element(By.NAME, f"quotes-{row}-document").send_keys(str(quote_document))
    browser.save_screenshot(str(ARTIFACTS / f"{words.language}-order-entered.png"))
    browser.find_element(By.NAME, "_continue").click()
    assert number in browser.find_element(By.CSS_SELECTOR, ".messagelist .success").text
    order = PurchaseOrder.objects.get(number=number)

    # Compliance sees the gates in the language and approves.
    log_in(browser, live_server, compliance_user, words)
    browser.get(f"{live_server.url}/admin/transactions/purchaseorder/{order.pk}/change/")
    assert words.gates_heading in page_text(browser)
    gates = browser.find_element(By.ID, "before-approval")
    browser.execute_script("arguments[0].scrollIntoView()", gates)
    browser.save_screenshot(str(ARTIFACTS / f"{words.language}-order-gates.png"))
    assert browser.find_element(By.ID, "approve-order").text == words.approve_button
    browser.find_element(By.ID, "approve-order").click()
    assert browser.find_element(By.CSS_SELECTOR, ".messagelist .success").text == words.approved.format(number=number)
    browser.save_screenshot(str(ARTIFACTS / f"{words.language}-order-approved.png"))
    order.refresh_from_db()
    assert order.status == PurchaseOrder.Status.APPROVED

    # An order that would take the 2026 cap (2,000,000.00; 250,000.00 used) to 2,500,000.00 is refused.
    over = ledger.order("2250000.00", quotes=("2300000.00", "2400000.00"), order_date=order.order_date)
    browser.get(f"{live_server.url}/admin/transactions/purchaseorder/{over.pk}/change/")
    browser.find_element(By.ID, "approve-order").click()
    refusal = browser.find_element(By.CSS_SELECTOR, ".messagelist .error").text
    browser.save_screenshot(str(ARTIFACTS / f"{words.language}-order-refused.png"))
    for part in words.refused:
        assert part in refusal
    shown = page_text(browser)
    for english in words.english_gone:
        assert english not in shown
    over.refresh_from_db()
    assert over.status == PurchaseOrder.Status.DRAFT
