"""`load_demo` loads the 2025 Xiaomi agreement exactly as announced, and changes nothing the second time."""

from decimal import Decimal

from django.core.management import call_command

from compliance.models import Alert, AnnualCap, FinancialYear
from tests.factories import D
from transactions.models import FrameworkAgreement, Invoice, PurchaseOrder, Quote

ANNOUNCED = [
    ("IDC services", "2025-07-29", "2025-12-31", "41000000.00"),
    ("IDC services", "2026-01-01", "2026-12-31", "82000000.00"),
    ("IDC services", "2027-01-01", "2027-12-31", "82000000.00"),
    ("IDC services", "2028-01-01", "2028-07-28", "41000000.00"),
    ("Network hardware", "2025-07-29", "2025-12-31", "33500000.00"),
    ("Network hardware", "2026-01-01", "2026-07-28", "6700000.00"),
]


def counts():
    models = (FrameworkAgreement, AnnualCap, PurchaseOrder, Quote, Invoice, Alert, FinancialYear)
    return [m.objects.count() for m in models] + [PurchaseOrder.history.count(), AnnualCap.history.count()]


def test_the_demo_holds_the_agreement_its_terms_and_all_six_caps_as_announced(db):
    call_command("load_demo", verbosity=0)

    agreement = FrameworkAgreement.objects.get(title="2025 Xiaomi Cooperation Framework Agreement")
    assert (agreement.title_zh, agreement.board_approved_on) == ("二零二五年小米合作框架協議", D("2025-07-29"))
    terms = {c.name: (c.term_start, c.term_end, c.currency) for c in agreement.categories.all()}
    assert terms == {
        "IDC services": (D("2025-07-29"), D("2028-07-28"), "CNY"),
        "Network hardware": (D("2025-07-29"), D("2026-07-28"), "CNY"),
    }
    caps = [
        (c.category.name, str(c.period_start), str(c.period_end), str(c.amount))
        for c in AnnualCap.objects.filter(category__agreement=agreement).order_by("category__name", "period_start")
    ]
    assert caps == ANNOUNCED


def test_the_demo_carries_the_2024_annual_results_in_full_amounts(db):
    call_command("load_demo", verbosity=0)

    year = FinancialYear.objects.get()
    assert (year.year_end, year.currency) == (D("2024-12-31"), "CNY")
    assert (year.revenue, year.total_assets, year.profit_before_tax) == (
        Decimal("7785180000.00"), Decimal("17592654000.00"), Decimal("-1980566000.00"),
    )  # fmt: skip
    assert year.market_cap is None  # not published in the filings the demo is taken from


def test_the_demo_history_passes_its_own_gates_and_leaves_a_draft_to_approve(db):
    call_command("load_demo", verbosity=0)

    purchases = PurchaseOrder.objects.filter(category__direction="purchase")
    assert purchases.filter(status="approved").count() == 8
    draft = purchases.get(status="draft")
    assert draft.amount == Decimal("6000000.00")


def test_running_it_twice_changes_nothing(db):
    call_command("load_demo", verbosity=0)
    first = counts()

    call_command("load_demo", verbosity=0)

    assert counts() == first


def test_the_demo_carries_an_illustrative_sales_agreement_in_both_directions(db):
    """Not from the filings, and labelled so: caps, approved sales with independent customers' references,
    sales invoices, and a draft priced below a reference that approval would refuse."""
    from compliance.caps.approval import purchase_order_approve
    from transactions.errors import Refusal
    from transactions.models import SalesInvoice, SalesOrder

    call_command("load_demo", verbosity=0)

    sales = FrameworkAgreement.objects.get(title__startswith="ILLUSTRATIVE")
    assert "not from the filings" in sales.title
    category = sales.categories.get()
    assert (category.direction, "illustrative" in category.name) == ("sale", True)
    assert [str(c.amount) for c in category.caps.order_by("period_start")] == [
        "20000000.00", "50000000.00", "50000000.00", "35000000.00",
    ]  # fmt: skip
    assert SalesOrder.objects.filter(status="approved").count() == 3
    assert SalesInvoice.objects.count() == 4
    draft = SalesOrder.objects.get(status="draft")
    compliance = draft.created_by.__class__.objects.get(username="demo.compliance")
    try:
        purchase_order_approve(order_id=draft.pk, user=compliance)
    except Refusal as refusal:
        assert refusal.code == "pricing_rule"
        assert "CNY 100,000.00 less than Yangtze Smart Retail" in refusal.detail
    else:
        raise AssertionError("the illustrative draft is priced below a reference and must be refused")
