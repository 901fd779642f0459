"""The approval gates: each refuses exactly when it should, with its code and a sentence."""

import datetime
from decimal import Decimal

import pytest

from compliance.caps.approval import purchase_order_approve, purchase_order_cancel
from compliance.models import Alert, AnnualCap
from tests.factories import CapFactory, D, InvoiceFactory, QuoteFactory, RateFactory, UserFactory
from transactions.errors import Refusal
from transactions.models import PurchaseOrder, Quote


@pytest.fixture
def approve(compliance_user):
    def _approve(order, user=None):
        return purchase_order_approve(order_id=order.pk, user=user or compliance_user)

    return _approve


def refusal_of(approve, order, user=None) -> Refusal:
    with pytest.raises(Refusal) as caught:
        approve(order, user)
    order.refresh_from_db()
    assert order.status == PurchaseOrder.Status.DRAFT, "a refused approval changes nothing"
    return caught.value


def test_an_order_that_passes_every_gate_is_approved_with_who_and_when(ledger, approve, compliance_user):
    order = approve(ledger.order("100000.00"))

    order.refresh_from_db()
    assert order.status == PurchaseOrder.Status.APPROVED
    assert order.approved_by == compliance_user
    assert order.approved_at is not None


# --- self_approval -----------------------------------------------------------------------------------


def test_the_user_who_entered_an_order_cannot_approve_it(ledger, approve, compliance_user):
    order = ledger.order(created_by=compliance_user)

    refusal = refusal_of(approve, order)
    assert refusal.code == "self_approval"
    assert "you cannot approve it" in refusal.detail


def test_a_superuser_cannot_approve_an_order_they_entered(ledger, approve):
    boss = UserFactory(username="boss", is_superuser=True, is_staff=True)

    assert refusal_of(approve, ledger.order(created_by=boss), boss).code == "self_approval"


# --- outside_term ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("order_date", "allowed"),
    [("2025-07-28", False), ("2025-07-29", True), ("2026-12-31", True), ("2027-01-01", False)],
)
def test_the_order_date_must_fall_inside_the_term(ledger, approve, order_date, allowed):
    order = ledger.order(order_date=D(order_date))

    if allowed:
        assert approve(order).status == PurchaseOrder.Status.APPROVED
    else:
        refusal = refusal_of(approve, order)
        assert refusal.code == "outside_term"
        assert "outside the term" in refusal.detail


@pytest.mark.parametrize(
    ("start", "end", "allowed"),
    [("2026-06-01", "2026-12-31", True), ("2026-06-01", "2027-01-01", False), ("2025-07-28", "2025-12-01", False)],
)
def test_every_service_day_must_fall_inside_the_term(ledger, approve, start, end, allowed):
    order = ledger.order(order_date=D("2025-08-01"), service_start=D(start), service_end=D(end))

    if allowed:
        assert approve(order).status == PurchaseOrder.Status.APPROVED
    else:
        assert refusal_of(approve, order).code == "outside_term"


# --- quote_rule ----------------------------------------------------------------------------------


def test_one_independent_quote_is_not_enough(ledger, approve):
    refusal = refusal_of(approve, ledger.order(quotes=("120000.00",)))

    assert refusal.code == "quote_rule"
    assert "at least 2 independent third parties" in refusal.detail


def test_two_quotes_from_the_same_supplier_count_once(ledger, approve):
    order = ledger.order(quotes=("120000.00",))
    QuoteFactory(purchase_order=order, supplier=ledger.independents[0], quoted_on=order.order_date, amount="130000")

    assert refusal_of(approve, order).code == "quote_rule"


def test_a_quote_from_a_connected_supplier_does_not_count(ledger, approve):
    order = ledger.order(quotes=("120000.00",))
    QuoteFactory(purchase_order=order, supplier=ledger.connected_other, quoted_on=order.order_date, amount="130000")

    refusal = refusal_of(approve, order)
    assert refusal.code == "quote_rule"
    assert "Xiaomi Subsidiary was connected" in refusal.detail


def test_a_supplier_counts_as_independent_on_days_it_was_not_connected(ledger, approve):
    ledger.person.connected_from = D("2026-02-25")
    ledger.person.save()
    order = ledger.order(quotes=("120000.00",), order_date=D("2026-03-02"))
    QuoteFactory(purchase_order=order, supplier=ledger.connected_other, quoted_on=D("2026-02-24"), amount="130000")

    assert approve(order).status == PurchaseOrder.Status.APPROVED


def test_a_quote_from_the_orders_own_counterparty_never_counts(ledger, approve):
    ledger.person.connected_from = D("2026-02-25")
    ledger.person.save()
    order = ledger.order(quotes=("120000.00",), order_date=D("2026-03-02"))
    QuoteFactory(purchase_order=order, supplier=ledger.connected, quoted_on=D("2026-02-24"), amount="130000")

    refusal = refusal_of(approve, order)
    assert refusal.code == "quote_rule"
    assert "from the order's own counterparty" in refusal.detail


@pytest.mark.parametrize(("days_before", "allowed"), [(0, True), (90, True), (91, False), (-1, False)])
def test_a_quote_counts_from_the_order_date_back_to_its_validity(ledger, approve, days_before, allowed):
    order_date = D("2026-06-30")
    order = ledger.order(order_date=order_date, quoted_on=order_date - datetime.timedelta(days=days_before))

    if allowed:
        assert approve(order).status == PurchaseOrder.Status.APPROVED
    else:
        assert refusal_of(approve, order).code == "quote_rule"


def test_the_order_must_be_strictly_cheaper_than_every_independent_quote(ledger, approve):
    refusal = refusal_of(approve, ledger.order("100000.00", quotes=("100000.00", "150000.00")))

    assert refusal.code == "quote_rule"
    assert "not less than the independent quote" in refusal.detail
    assert approve(ledger.order("99999.99", quotes=("100000.00", "150000.00"))).status == "approved"


def test_quotes_in_another_currency_are_compared_at_the_rate_of_the_order_date(ledger, approve):
    RateFactory(currency="USD", target_currency="CNY", rate_date=D("2026-02-20"), rate=Decimal("6.5000"))
    RateFactory(currency="USD", target_currency="CNY", rate_date=D("2026-03-02"), rate=Decimal("7.0000"))
    order = ledger.order("70000.00", quotes=("80000.00",), order_date=D("2026-03-02"))
    QuoteFactory(purchase_order=order, supplier=ledger.independents[1], quoted_on=D("2026-02-20"),
                 amount=Decimal("10000.00"), currency="USD")  # fmt: skip

    # USD 10,000 at the order date's 7.0 is CNY 70,000: not strictly cheaper (at the quote date's 6.5 it
    # would be CNY 65,000, and even CNY 69,999.99 would be refused).
    refusal = refusal_of(approve, order)
    assert refusal.code == "quote_rule"
    assert "USD 10,000.00" in refusal.detail
    order.amount = Decimal("69999.99")
    order.save()
    assert approve(order).status == PurchaseOrder.Status.APPROVED


def test_a_dearer_price_in_the_quotes_currency_is_refused_whatever_the_exchange_rates_did(ledger, approve):
    """The issue's case: USD 1,020,000 against USD 1,000,000 and USD 1,001,000 while the USD fell from 7.30
    to 7.10 between the quote and the order dates (the old rule compared CNY 7,242,000 with CNY 7,300,000
    and CNY 7,307,300, and approved)."""
    AnnualCap.objects.filter(pk=ledger.caps[1].pk).update(amount=Decimal("20000000.00"))
    RateFactory(currency="USD", target_currency="CNY", rate_date=D("2026-02-20"), rate=Decimal("7.3000"))
    RateFactory(currency="USD", target_currency="CNY", rate_date=D("2026-03-02"), rate=Decimal("7.1000"))
    order = ledger.order("1020000.00", currency="USD", order_date=D("2026-03-02"), quotes=("1000000.00", "1001000.00"),
                         quoted_on=D("2026-02-20"))  # fmt: skip

    refusal = refusal_of(approve, order)

    assert refusal.code == "quote_rule"
    assert refusal.detail.startswith(
        f"Order {order.number} costs USD 1,020,000.00, not less than the independent quote from Independent A Ltd. "
        "(USD 1,000,000.00)."
    )


def test_a_quote_in_another_currency_names_both_prices_in_the_quotes_currency(ledger, approve):
    RateFactory(currency="USD", target_currency="CNY", rate_date=D("2026-03-02"), rate=Decimal("7.0000"))
    order = ledger.order("71400.00", quotes=("80000.00",), order_date=D("2026-03-02"))
    QuoteFactory(purchase_order=order, supplier=ledger.independents[1], quoted_on=D("2026-02-20"),
                 amount=Decimal("10000.00"), currency="USD")  # fmt: skip

    # CNY 71,400 at 7.0 is USD 10,200.00.
    assert "costs USD 10,200.00, not less than the independent quote from Independent B Ltd. (USD 10,000.00)" in (
        refusal_of(approve, order).detail
    )


def test_a_category_may_require_more_independent_quotes(ledger, approve):
    ledger.category.min_independent_quotes = 3
    ledger.category.save()

    assert refusal_of(approve, ledger.order()).code == "quote_rule"
    assert approve(ledger.order(quotes=("110000.00", "111000.00", "112000.00"))).status == "approved"


# --- no_exchange_rate ---------------------------------------------------------------------------


def test_an_order_in_another_currency_without_a_rate_for_its_date_is_refused(ledger, approve):
    RateFactory(currency="USD", target_currency="CNY", rate_date=D("2026-02-20"))  # the quotes' day only
    refusal = refusal_of(approve, ledger.order("1000.00", currency="USD", order_date=D("2026-03-02")))

    assert refusal.code == "no_exchange_rate"
    assert "USD/CNY" in refusal.detail


def test_a_quote_in_another_currency_without_a_rate_for_the_order_date_is_refused(ledger, approve):
    RateFactory(currency="USD", target_currency="CNY", rate_date=D("2026-02-20"))  # the quote's day only
    order = ledger.order("70000.00", quotes=("80000.00",), order_date=D("2026-03-02"))
    QuoteFactory(purchase_order=order, supplier=ledger.independents[1], quoted_on=D("2026-02-20"),
                 amount=Decimal("10000.00"), currency="USD")  # fmt: skip

    refusal = refusal_of(approve, order)
    assert refusal.code == "no_exchange_rate"
    assert "USD/CNY" in refusal.detail and "2 Mar 2026" in refusal.detail and "the quote from" in refusal.detail


def test_an_inverse_rate_of_the_same_day_is_enough(ledger, approve):
    for day in ("2026-02-20", "2026-03-02"):
        RateFactory(currency="CNY", target_currency="USD", rate_date=D(day), rate=Decimal("0.14"))
    order = ledger.order("1000.00", currency="USD", order_date=D("2026-03-02"))

    assert approve(order).status == PurchaseOrder.Status.APPROVED


# --- cap_exceeded ------------------------------------------------------------------------------


def test_reaching_the_cap_exactly_is_allowed_and_one_cent_more_is_not(ledger, approve):
    ledger.approved("1500000.00", approver=UserFactory(username="first.approver"), order_date=D("2026-02-01"))

    over = refusal_of(approve, ledger.order("500000.01", quotes=("600000.00", "600000.00")))
    assert over.code == "cap_exceeded"
    assert "by CNY 0.01" in over.detail
    assert "Headroom left: CNY 500,000.00" in over.detail
    assert approve(ledger.order("500000.00", quotes=("600000.00", "600000.00"))).status == "approved"


def test_headroom_is_measured_against_the_larger_of_committed_and_actual(ledger, approve, compliance_user):
    order = ledger.approved("1000000.00", approver=UserFactory(username="first.approver"), order_date=D("2026-02-01"))
    InvoiceFactory(purchase_order=order, amount=Decimal("1800000.00"), invoice_date=D("2026-02-15"))

    assert refusal_of(approve, ledger.order("200000.01", quotes=("300000", "300000"))).code == "cap_exceeded"
    assert approve(ledger.order("200000.00", quotes=("300000", "300000"))).status == "approved"


def test_a_spread_order_is_refused_when_its_share_of_one_period_exceeds_that_cap(ledger, approve):
    # 2,000,000 over 2025-12-01..2026-01-31 (62 days): 1,000,000 in each period; the 2025 cap is 1,000,000
    # and already holds 1.00.
    ledger.approved("1.00", approver=UserFactory(username="first.approver"), order_date=D("2025-11-01"))
    order = ledger.order(
        "2000000.00", quotes=("2100000", "2200000"), order_date=D("2025-11-20"),
        service_start=D("2025-12-01"), service_end=D("2026-01-31"),
    )  # fmt: skip

    refusal = refusal_of(approve, order)
    assert refusal.code == "cap_exceeded"
    assert "29 Jul 2025 to 31 Dec 2025" in refusal.detail


def test_a_day_inside_the_term_that_no_cap_covers_has_no_headroom(ledger, approve):
    ledger.category.term_end = D("2027-06-30")
    ledger.category.save()
    order = ledger.order(order_date=D("2026-12-01"), service_start=D("2026-12-01"), service_end=D("2027-01-31"))

    refusal = refusal_of(approve, order)
    assert refusal.code == "cap_exceeded"
    assert "No annual cap covers 1 Jan 2027 to 31 Jan 2027" in refusal.detail
    CapFactory(category=ledger.category, period_start=D("2027-01-01"), period_end=D("2027-06-30"))
    assert approve(order).status == PurchaseOrder.Status.APPROVED


def test_cancelling_an_approved_order_frees_its_headroom(ledger, approve, compliance_user):
    first = ledger.approved("2000000.00", approver=UserFactory(username="first.approver"), order_date=D("2026-02-01"))
    second = ledger.order("10.00", quotes=("20", "20"))
    assert refusal_of(approve, second).code == "cap_exceeded"

    purchase_order_cancel(order_id=first.pk, user=compliance_user, reason="Supplier could not deliver")

    assert approve(second).status == PurchaseOrder.Status.APPROVED


# --- state -------------------------------------------------------------------------------------------


def test_an_order_is_approved_once(ledger, approve):
    order = approve(ledger.order())

    assert refusal_of_state(approve, order) == "order_not_draft"


def refusal_of_state(approve, order) -> str:
    with pytest.raises(Refusal) as caught:
        approve(order)
    return caught.value.code


def test_an_approval_refused_by_the_quote_rule_records_no_alert_though_it_would_cross_80_percent(ledger, approve):
    order = ledger.order("1700000.00", quotes=("1700000.00", "1800000.00"))  # 85% of the 2026 cap

    assert refusal_of(approve, order).code == "quote_rule"
    assert not Alert.objects.exists()


# --- Quote evidence -----------------------------------------------------------------------------


def test_quotes_without_their_documents_do_not_count_towards_the_quote_rule(ledger, approve):
    order = ledger.order()
    Quote.objects.filter(purchase_order=order).update(document="", document_name="")

    refusal = refusal_of(approve, order)

    assert refusal.code == "quote_rule"
    assert "it has 0" in refusal.detail
    assert refusal.detail.count("(no quote document)") == 2


def test_a_category_that_does_not_require_quote_documents_counts_quotes_without_them(ledger, approve):
    ledger.category.quote_documents_required = False
    ledger.category.save()
    order = ledger.order()
    Quote.objects.filter(purchase_order=order).update(document="", document_name="")

    assert approve(order).status == PurchaseOrder.Status.APPROVED
