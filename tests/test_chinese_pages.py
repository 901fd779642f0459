"""A reader of Chinese sees no English product text: the pages a finance user and a compliance officer work
in, rendered in Traditional and in Simplified Chinese, show Latin letters only in data (the fixtures' names,
order numbers, users) and in codes and abbreviations (CNY, PDF, HK$, ISO...).

The visible text is the page's text without its scripts and styles; attribute values are not shown and are
left out, and so are identifiers set as code (a job's name, an address of the API) and the database's own
record of a row's changes on a history page (its columns and values as stored, the evidence). A new English
sentence on one of these pages makes this fail, naming the page and the text."""

import re
from decimal import Decimal
from html.parser import HTMLParser

import pytest

from compliance.models import Alert, FinancialYear
from tests.conftest import make_user
from tests.factories import D, InvoiceFactory, grant_approval

# Data of the fixtures (tests/factories.py, conftest.py) and of this module: names, not product text.
DATA = [
    r"Xiaomi (?:Group|Corporation|Subsidiary)",
    r"Independent [ABC] Ltd\.",
    r"IDC services",
    r"Cloud services",
    r"Framework agreement \d+",
    r"Category \d+",
    r"Substantial shareholder holding 11\.12%",
    r"Annual results \d+",
    r"\b[\w.]+@example\.com\b",
    r"\b(?:both\.roles|connie\.compliance|mandy\.management|clerk)\b",
    r"\b(?:PO|INV|SO|REF)-\d+\b",
    r"[\w/.-]+\.pdf\b",  # numbers, documents' file names
    r"(?:Google|Microsoft) Authenticator|1Password",  # the authenticator apps the two-factor page names
    r"counterparty、number、date、amount、currency",  # the columns of a completeness check's file, by name
]
# The language switcher's English, the names of file formats and of keys (read the same in Chinese).
WORDS = {"English", "Excel", "pdf", "png", "jpg", "jpeg", "xlsx", "Control", "Command", "Mac"}
CODE = re.compile(r"^[A-Z][A-Z0-9$]*$")  # CNY, HKD, HK$, PDF, API, ISO, IDC, INED, ERP
LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z'’]*")


class _VisibleText(HTMLParser):
    HIDDEN = {"script", "style", "textarea", "code"}
    RAW = "database-changes"  # the id of the history page's record of the database's rows

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hidden = 0
        self.raw_depth = 0  # the number of open <div>s since the raw record began (0: outside it)
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs) -> None:
        self.hidden += tag in self.HIDDEN
        if tag == "div" and (self.raw_depth or dict(attrs).get("id") == self.RAW):
            self.raw_depth += 1

    def handle_endtag(self, tag) -> None:
        self.hidden -= tag in self.HIDDEN
        if tag == "div" and self.raw_depth:
            self.raw_depth -= 1

    def handle_data(self, data) -> None:
        if not self.hidden and not self.raw_depth and data.strip():
            self.parts.append(data.strip())


def english_left(html: str) -> list[str]:
    """The visible lines that still hold an English word (data and codes removed)."""
    parser = _VisibleText()
    parser.feed(html)
    found = []
    for part in parser.parts:
        text = part
        for pattern in DATA:
            text = re.sub(pattern, " ", text)
        words = [w for w in LATIN_WORD.findall(text) if len(w) > 1 and w not in WORDS and not CODE.match(w)]
        if words:
            found.append(part)
    return found


@pytest.fixture
def day_of_work(ledger, compliance_user, finance_user):
    """What a finance user and a compliance officer find on a working day: an approved order with its invoice
    that took the 2026 cap past 80% (an alert), a draft, a sale, a financial year."""
    grant_approval(compliance_user)
    approved = ledger.approved("1700000.00", approver=compliance_user, order_date=D("2026-03-02"))
    InvoiceFactory(purchase_order=approved, amount=Decimal("100000.00"), invoice_date=D("2026-03-20"))
    draft = ledger.order("5000.00", order_date=D("2026-03-10"))
    sale = ledger.sale("9000.00", order_date=D("2026-03-11"))
    year = FinancialYear.objects.create(
        year_end=D("2025-12-31"), currency="CNY", revenue=Decimal("100000000.00"), total_assets=Decimal("200000000.00"),
        profit_before_tax=Decimal("10000000.00"), source="Annual results 2025",
    )  # fmt: skip
    return {"approved": approved, "draft": draft, "sale": sale, "year": year, "alert": Alert.objects.first()}


def pages(facts, ledger) -> list[str]:
    cap = ledger.caps[1]
    return [
        "/admin/",
        "/admin/transactions/purchaseorder/",
        "/admin/transactions/purchaseorder/add/",
        f"/admin/transactions/purchaseorder/{facts['draft'].pk}/change/",
        f"/admin/transactions/purchaseorder/{facts['approved'].pk}/change/",
        f"/admin/transactions/purchaseorder/{facts['approved'].pk}/history/",
        "/admin/transactions/salesorder/",
        f"/admin/transactions/salesorder/{facts['sale'].pk}/change/",
        "/admin/transactions/invoice/",
        "/admin/transactions/quote/",
        "/admin/transactions/exchangerate/",
        "/admin/transactions/exchangerate/add/",
        "/admin/transactions/counterparty/",
        f"/admin/transactions/connectedperson/{ledger.person.pk}/change/",
        f"/admin/transactions/frameworkagreement/{ledger.agreement.pk}/change/",
        f"/admin/transactions/transactioncategory/{ledger.category.pk}/change/",
        "/admin/compliance/annualcap/",
        f"/admin/compliance/annualcap/{cap.pk}/change/",
        "/admin/compliance/alert/",
        f"/admin/compliance/alert/{facts['alert'].pk}/change/",
        "/admin/compliance/breach/",
        "/admin/compliance/financialyear/",
        f"/admin/compliance/financialyear/{facts['year'].pk}/change/",
        "/admin/compliance/jobrun/",
        "/admin/compliance/import/add/",
        "/admin/compliance/reportjob/",
    ]


@pytest.mark.parametrize("accept", ["zh-hk", "zh-cn"])
def test_the_sign_in_and_two_factor_pages_show_no_english(client, compliance_user, accept):
    signing_in = client.get("/admin/login/", HTTP_ACCEPT_LANGUAGE=accept)
    client.force_login(compliance_user)
    two_factor = client.get("/account/two-factor/", HTTP_ACCEPT_LANGUAGE=accept)

    assert (signing_in.status_code, two_factor.status_code) == (200, 200)
    assert english_left(signing_in.content.decode()) == []
    assert english_left(two_factor.content.decode()) == []


@pytest.mark.parametrize("accept", ["zh-hk", "zh-cn"])
def test_a_finance_users_and_a_compliance_officers_pages_show_no_english(client, ledger, day_of_work, accept):
    client.force_login(make_user("both.roles", "finance", "compliance"))
    left = {}

    for url in pages(day_of_work, ledger):
        response = client.get(url, HTTP_ACCEPT_LANGUAGE=accept)
        assert response.status_code == 200, url
        if found := english_left(response.content.decode()):
            left[url] = found

    assert not left, "English left:\n" + "\n".join(f"{url}: {found}" for url, found in left.items())


def test_the_check_finds_english_product_text_and_passes_data_and_codes():
    html = (
        "<html><head><title>采购订单</title><style>p{color:red}</style><script>var x='Hello';</script></head>"
        "<body><p title='English title'>关连人士 Xiaomi Group · CNY 1,000.00 · PO-000012 · HK$ · PDF</p>"
        "<p>Remaining headroom</p></body></html>"
    )

    assert english_left(html) == ["Remaining headroom"]


def test_the_dashboard_shows_no_english(client, ledger, day_of_work, management_user):
    client.force_login(management_user)

    for accept in ("zh-hk", "zh-cn"):
        response = client.get("/admin/dashboard/", HTTP_ACCEPT_LANGUAGE=accept)
        assert english_left(response.content.decode()) == [], accept


def test_an_alerts_shortfall_reads_in_the_readers_chinese(client, ledger, day_of_work, compliance_user):
    alert = day_of_work["alert"]
    Alert.objects.filter(pk=alert.pk).update(
        send_attempts=2,
        last_error="2 of 3 recipients waiting: a@example.com: 451 4.3.0 busy; b@example.com: being sent",
    )
    client.force_login(compliance_user)

    page = client.get("/admin/compliance/alert/", HTTP_ACCEPT_LANGUAGE="zh-cn").content.decode()
    english = client.get("/admin/compliance/alert/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert (
        "待发送：3 位收件人中有 2 位待发送：a@example.com: 451 4.3.0 busy; b@example.com: 发送中（第 2 次尝试" in page
    )
    assert "pending: 2 of 3 recipients waiting: a@example.com: 451 4.3.0 busy; b@example.com: being sent" in english


def test_every_list_and_new_form_of_the_products_own_models_shows_no_english(client, ledger, day_of_work):
    from django.contrib import admin

    client.force_login(make_user("both.roles", "finance", "compliance"))
    left = {}

    for model in admin.site._registry:
        if model._meta.app_label not in {"compliance", "transactions", "accounts"}:
            continue
        for view in ("changelist", "add"):
            url = f"/admin/{model._meta.app_label}/{model._meta.model_name}/" + ("add/" if view == "add" else "")
            response = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-cn")
            if response.status_code == 200 and (found := english_left(response.content.decode())):
                left[url] = found

    assert not left, "English left:\n" + "\n".join(f"{url}: {found}" for url, found in left.items())
