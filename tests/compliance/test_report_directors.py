"""The semi-annual directors' report: per connected person across its agreements, what the half year
added, its alerts and its exceptions."""

import datetime
import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from compliance.models import Alert
from compliance.reports.directors import directors_report_filename, half_bounds
from tests.compliance.workbooks import approved_order, directors, load, money, percent, quoted, rows
from tests.conftest import client_for
from tests.factories import (
    AgreementFactory,
    CapFactory,
    CategoryFactory,
    ConnectedPersonFactory,
    CounterpartyFactory,
    D,
    InvoiceFactory,
)
from transactions.models import PurchaseOrder

H1 = D("2026-01-01")


@pytest.fixture
def two_agreements(ledger):
    """The ledger's connected person under a second agreement, and another connected person in HKD."""
    hardware = CategoryFactory(agreement=AgreementFactory(connected_person=ledger.person), name="Network hardware",
                               term_start=D("2026-01-01"), term_end=D("2026-06-30"))  # fmt: skip
    CapFactory(category=hardware, period_start=D("2026-01-01"), period_end=D("2026-06-30"), amount=Decimal("500000.00"))
    spread = approved_order(ledger, "365000.00", order_date=D("2025-12-20"),
                            service_start=D("2026-01-01"), service_end=D("2026-12-31"))  # fmt: skip
    march = approved_order(ledger, "100000.00", order_date=D("2026-03-02"))
    InvoiceFactory(purchase_order=spread, amount=Decimal("50000.00"), invoice_date=D("2026-02-01"))
    switches = approved_order(ledger, "200000.00", category=hardware, order_date=D("2026-05-05"))
    InvoiceFactory(purchase_order=switches, amount=Decimal("200000.00"), invoice_date=D("2026-06-30"))
    InvoiceFactory(purchase_order=march, amount=Decimal("100000.00"), invoice_date=D("2026-07-01"))  # next half
    for order in (spread, march, switches):
        quoted(ledger, order)

    other = ConnectedPersonFactory(name="Another Group")
    hkd = CategoryFactory(agreement=AgreementFactory(connected_person=other), name="Leases", currency="HKD")
    CapFactory(category=hkd, amount=Decimal("90000.00"))
    quoted(ledger, approved_order(ledger, "10000.00", category=hkd, currency="HKD", order_date=D("2026-04-01"),
                                  counterparty=CounterpartyFactory(connected_person=other)))  # fmt: skip
    return ledger


def test_the_report_has_its_sheets_in_reading_order(two_agreements):
    assert load(directors(H1)).sheetnames == [
        "Connected persons", "Summary", "Cap revisions", "Breaches", "Alerts", "Exceptions", "Quote-rule exceptions",
        "Orders", "Quotes",
    ]  # fmt: skip


def test_a_connected_persons_caps_are_added_up_across_its_agreements_and_never_across_currencies(two_agreements):
    book = load(directors(H1))
    people = {(row["Connected person"].value, row["Currency"].value): row for row in rows(book["Connected persons"])}
    summary = rows(book["Summary"])

    assert set(people) == {("Xiaomi Group", "CNY"), ("Another Group", "HKD")}
    xiaomi = people[("Xiaomi Group", "CNY")]
    caps = [row for row in summary if row["Connected person"].value == "Xiaomi Group"]
    assert len({row["Agreement"].value for row in caps}) == 2
    for total, column in (("Annual caps", "Annual cap"), ("Actual", "Actual"), ("Committed", "Committed"),
                          ("Remaining", "Remaining")):  # fmt: skip
        assert money(xiaomi[total]) == sum(money(row[column]) for row in caps), total
    # 2,000,000.00 + 500,000.00 of caps; committed 365,000.00 + 100,000.00 + 200,000.00; actual 50,000.00 +
    # 200,000.00 (the July invoice is in the next half); used is the larger per cap: 465,000.00 + 200,000.00.
    assert [money(xiaomi[c]) for c in ("Annual caps", "Actual", "Committed", "Used")] == [
        Decimal("2500000.00"), Decimal("250000.00"), Decimal("665000.00"), Decimal("665000.00"),
    ]  # fmt: skip
    assert percent(xiaomi["Utilisation %"]) == Decimal("26.60")
    assert xiaomi["Caps"].value == 2


def test_what_the_half_year_added_leaves_out_documents_dated_before_it(two_agreements):
    xiaomi = rows(load(directors(H1))["Connected persons"])[1]

    assert xiaomi["Connected person"].value == "Xiaomi Group"
    # The hosting order of 20 Dec 2025 was committed before the half year.
    assert money(xiaomi["Committed in the half year"]) == Decimal("300000.00")
    assert money(xiaomi["Actual in the half year"]) == Decimal("250000.00")


def test_the_summary_equals_the_caps_api_as_at_the_half_year_end(two_agreements, management_user):
    api = client_for(management_user).get("/api/caps/", {"as_of": "2026-06-30"}).json()["results"]
    expected = {(c["period_start"], c["amount"]): (c["actual"], c["committed"]) for c in api}
    summary = rows(load(directors(H1))["Summary"])

    assert len(summary) == 3
    for row in summary:
        key = (row["Period start"].value.date().isoformat(), f"{money(row['Annual cap'])}")
        assert (f"{money(row['Actual'])}", f"{money(row['Committed'])}") == expected[key]


def test_the_exceptions_are_the_half_years_cancelled_orders_and_those_failing_the_quote_rule(ledger, compliance_user):
    quoted(ledger, approved_order(ledger, "100.00", number="PO-GOOD", order_date=D("2026-02-02")))
    approved_order(ledger, "100.00", number="PO-NO-QUOTES", order_date=D("2026-02-03"))
    cancelled = quoted(ledger, ledger.order("100.00", number="PO-CANCELLED", order_date=D("2026-02-04")))
    PurchaseOrder.objects.filter(pk=cancelled.pk).update(
        status="cancelled", cancelled_by=compliance_user, cancelled_at=timezone.now(),
        cancellation_reason="Supplier withdrew",
    )  # fmt: skip
    ledger.order("100.00", number="PO-DRAFT-DEAR", quotes=("99.00", "120.00"), order_date=D("2026-02-05"))
    ledger.order("100.00", number="PO-DRAFT-FINE", order_date=D("2026-02-06"))
    ledger.order("100.00", number="PO-JULY", quotes=(), order_date=D("2026-07-01"))

    exceptions = {row["Order"].value: row for row in rows(load(directors(H1))["Exceptions"])}

    assert set(exceptions) == {"PO-NO-QUOTES", "PO-CANCELLED", "PO-DRAFT-DEAR"}
    assert exceptions["PO-NO-QUOTES"]["Exception"].value.startswith("Approved, quote rule not met")
    assert exceptions["PO-NO-QUOTES"]["Detail"].value == "0 of the 2 required independent quotes."
    assert exceptions["PO-CANCELLED"]["Detail"].value == "Cancelled: Supplier withdrew."
    assert exceptions["PO-CANCELLED"]["Decided by"].value == compliance_user.username
    assert exceptions["PO-DRAFT-DEAR"]["Detail"].value.startswith("Not cheaper than the independent quote from")
    people = rows(load(directors(H1))["Connected persons"])
    assert [row["Exceptions in the half year"].value for row in people] == [3]


def test_alerts_of_the_half_year_are_listed_and_counted(ledger):
    def alert(threshold, day):
        made = Alert.objects.create(cap=ledger.caps[1], threshold=Decimal(threshold), basis="actual",
                                    utilisation_pct=Decimal(threshold), used_amount=Decimal("1.00"),
                                    cap_amount=Decimal("2000000.00"))  # fmt: skip
        Alert.objects.filter(pk=made.pk).update(
            created_at=timezone.make_aware(datetime.datetime.combine(day, datetime.time(12))), reached_on=day
        )

    alert("80.00", D("2026-06-30"))
    alert("90.00", D("2026-07-01"))
    book = load(directors(H1))

    assert [percent(row["Threshold"]) for row in rows(book["Alerts"])] == [Decimal("80.00")]
    assert rows(book["Connected persons"])[0]["Alerts in the half year"].value == 1


def test_the_second_half_runs_from_july_to_december_and_the_command_writes_it(two_agreements, tmp_path):
    output = tmp_path / "h2.xlsx"

    call_command("directors_report", "--half", "2026-H2", "--output", str(output), stdout=io.StringIO())

    book = load(output.read_bytes())
    assert "July to December 2026" in book["Connected persons"]["A1"].value
    assert "31 Dec 2026" in book["Connected persons"]["A2"].value
    assert half_bounds(D("2026-09-15")) == (D("2026-07-01"), D("2026-12-31"))
    assert directors_report_filename(D("2026-09-15")) == "cct-directors-report-2026-H2.xlsx"
    # The hardware cap ended on 30 June: only the IDC and HKD caps overlap the second half.
    assert {row["Category"].value for row in rows(book["Summary"])} == {"IDC services", "Leases"}
