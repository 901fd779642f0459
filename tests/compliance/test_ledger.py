"""The cap ledger (contract v2): every change to a cap's figures is an entry on a business date; the
figures are their sums; actual is what happened; figures as at a day are reproducible."""

import datetime
from decimal import Decimal
from io import BytesIO

import pytest
from django.db import DatabaseError, connection, transaction

from compliance.caps.ledger import expected_entries, ledger_build
from compliance.demo import load_demo
from compliance.lifecycle.revisions import cap_revision_propose, cap_revision_record_steps
from compliance.models import Alert, AnnualCap, CapTotals, LedgerEntry
from compliance.reports.monthly import write_monthly_report
from compliance.rules.selectors import caps_with_utilisation
from tests.compliance.workbooks import load, money, rows
from tests.conftest import client_for, make_user
from tests.factories import D, InvoiceFactory, RateFactory
from transactions.models import ExchangeRate, PurchaseOrder


@pytest.fixture
def approver(db):
    return make_user("approver", "compliance")


def cap_json(api, cap, **query):
    response = api.get(f"/api/caps/{cap.pk}/", query)
    assert response.status_code == 200, response.content
    return response.json()


# --- Actual is what happened -----------------------------------------------------------------------


def test_cancelling_an_invoiced_order_withdraws_the_commitment_from_its_effective_day_and_keeps_actual(
    ledger, approver, compliance_api
):
    order = ledger.approved("600000.00", approver=approver, order_date=D("2026-02-01"))
    InvoiceFactory(purchase_order=order, amount=Decimal("450000.00"), invoice_date=D("2026-02-20"))

    response = compliance_api.post(
        f"/api/purchase-orders/{order.pk}/cancel/", {"reason": "Goods returned", "effective_on": "2026-03-10"}
    )

    assert response.status_code == 200, response.content
    assert response.json()["cancellation_effective_on"] == "2026-03-10"
    now = cap_json(compliance_api, ledger.caps[1])
    assert (now["committed"], now["actual"], now["remaining"]) == ("0.00", "450000.00", "1550000.00")
    before = compliance_api.get("/api/caps/", {"as_of": "2026-03-09", "category": ledger.category.pk}).json()
    assert [(c["committed"], c["actual"]) for c in before["results"]][1] == ("600000.00", "450000.00")


@pytest.mark.parametrize("effective_on", ["2026-01-31", "2099-01-01"])
def test_a_cancellation_before_the_order_date_or_in_the_future_is_a_400_and_changes_nothing(
    ledger, approver, compliance_api, effective_on
):
    order = ledger.approved("600000.00", approver=approver, order_date=D("2026-02-01"))

    response = compliance_api.post(f"/api/purchase-orders/{order.pk}/cancel/", {"effective_on": effective_on})

    assert response.status_code == 400
    assert "effective_on" in response.json()
    order.refresh_from_db()
    assert order.status == "approved"
    assert LedgerEntry.objects.filter(kind="withdrawal").count() == 0


def test_cancelling_on_the_order_date_voids_the_order_from_every_view(ledger, approver, compliance_api):
    order = ledger.approved("600000.00", approver=approver, order_date=D("2026-02-01"))

    compliance_api.post(f"/api/purchase-orders/{order.pk}/cancel/", {"effective_on": "2026-02-01"})

    for as_of in ("2026-02-01", "2026-12-31"):
        assert cap_json(compliance_api, ledger.caps[1], as_of=as_of)["committed"] == "0.00"


def test_a_credit_note_reduces_actual_in_the_period_of_its_date_and_never_beyond_the_invoice(
    ledger, approver, finance_api, compliance_api
):
    order = ledger.approved("600000.00", approver=approver, order_date=D("2025-12-01"))
    invoice = InvoiceFactory(purchase_order=order, amount=Decimal("500000.00"), invoice_date=D("2025-12-15"))

    first = finance_api.post(
        "/api/credit-notes/",
        {
            "invoice": invoice.pk,
            "number": "CN-1",
            "credit_date": "2026-01-05",
            "amount": "120000.00",
            "currency": "CNY",
        },
    )
    too_much = finance_api.post(
        "/api/credit-notes/",
        {
            "invoice": invoice.pk,
            "number": "CN-2",
            "credit_date": "2026-01-06",
            "amount": "380000.01",
            "currency": "CNY",
        },
    )

    assert first.status_code == 201, first.content
    assert too_much.status_code == 400
    assert "380,000.00" in str(too_much.json()["amount"])  # 500,000.00 - 120,000.00 remains
    # The invoice stays in December's period; the credit note reduces January's (its own date).
    assert cap_json(compliance_api, ledger.caps[0])["actual"] == "500000.00"
    assert cap_json(compliance_api, ledger.caps[1])["actual"] == "-120000.00"
    ledger_rows = compliance_api.get(f"/api/caps/{ledger.caps[1].pk}/ledger/").json()["results"]
    assert [(r["kind"], r["amount"], r["document"]) for r in ledger_rows] == [
        ("credit_note", "-120000.00", f"credit_note:{first.json()['id']}")
    ]


def test_an_invoice_on_a_draft_counts_and_flags_the_order(ledger, finance_api, compliance_api):
    draft = ledger.order("300000.00", order_date=D("2026-02-01"))

    response = finance_api.post(
        "/api/invoices/",
        {"purchase_order": draft.pk, "number": "INV-D1", "invoice_date": "2026-02-03", "amount": "300000.00",
         "currency": "CNY"},
    )  # fmt: skip

    assert response.status_code == 201, response.content
    assert cap_json(compliance_api, ledger.caps[1])["actual"] == "300000.00"
    assert compliance_api.get(f"/api/purchase-orders/{draft.pk}/").json()["invoiced_before_approval"] is True


def test_an_invoice_correction_reverses_and_posts_again_never_changing_an_entry(ledger, approver, finance_api):
    order = ledger.approved("600000.00", approver=approver, order_date=D("2025-12-01"))
    invoice = InvoiceFactory(purchase_order=order, amount=Decimal("100000.00"), invoice_date=D("2025-12-15"))
    first_entry = LedgerEntry.objects.get(invoice=invoice)

    response = finance_api.patch(f"/api/invoices/{invoice.pk}/", {"invoice_date": "2026-01-04", "amount": "90000.00"})

    assert response.status_code == 200, response.content
    entries = list(
        LedgerEntry.objects.filter(invoice=invoice).order_by("id").values_list("cap_id", "entry_date", "amount")
    )
    assert entries == [
        (ledger.caps[0].pk, D("2025-12-15"), Decimal("100000.00")),
        (ledger.caps[0].pk, D("2025-12-15"), Decimal("-100000.00")),
        (ledger.caps[1].pk, D("2026-01-04"), Decimal("90000.00")),
    ]
    first_entry.refresh_from_db()
    assert first_entry.amount == Decimal("100000.00")


# --- Rate corrections, alerts and reached_on ---------------------------------------------------------


def test_a_rate_correction_revalues_and_alerts_in_the_same_request(ledger, approver, compliance_api):
    RateFactory(currency="USD", target_currency="CNY", rate_date=D("2026-03-02"), rate=Decimal("7.00"))
    RateFactory(currency="USD", target_currency="CNY", rate_date=D("2026-02-20"), rate=Decimal("7.00"))
    order = ledger.approved("220000.00", approver=approver, currency="USD", order_date=D("2026-03-02"))
    invoice = InvoiceFactory(
        purchase_order=order, currency="USD", amount=Decimal("10000.00"), invoice_date=D("2026-03-02")
    )
    rate = ExchangeRate.objects.get(rate_date=D("2026-03-02"))
    assert not Alert.objects.exists()  # 1,540,000.00 of 2,000,000.00: 77%

    response = compliance_api.patch(f"/api/exchange-rates/{rate.pk}/", {"rate": "7.3000000000"})

    assert response.status_code == 200, response.content
    cap = cap_json(compliance_api, ledger.caps[1])
    # 220,000 x 7.30 = 1,606,000.00 (80.30%); the invoice 10,000 x 7.30 = 73,000.00.
    assert (cap["committed"], cap["committed_pct"], cap["actual"]) == ("1606000.00", "80.30", "73000.00")
    alert = Alert.objects.get()
    assert (alert.basis, alert.threshold, alert.reached_on) == ("committed", Decimal("80.00"), D("2026-03-02"))
    revaluations = LedgerEntry.objects.filter(kind="revaluation").order_by("basis")
    assert [(e.basis, e.amount, e.document) for e in revaluations] == [
        ("actual", Decimal("3000.00"), f"invoice:{invoice.pk}"),
        ("committed", Decimal("66000.00"), f"purchase_order:{order.pk}"),
    ]


def test_an_invoice_dated_in_december_keyed_later_puts_the_alert_in_decembers_report(ledger, approver):
    order = ledger.approved("900000.00", approver=approver, order_date=D("2025-11-03"))
    # Keyed now (December 2026), dated 20 December 2025: 850,000.00 of the 1,000,000.00 cap is 85%.
    InvoiceFactory(purchase_order=order, amount=Decimal("850000.00"), invoice_date=D("2025-12-20"))

    actual_alert = Alert.objects.get(basis="actual")
    december, january = BytesIO(), BytesIO()
    write_monthly_report(D("2025-12-01"), december)
    write_monthly_report(D("2026-01-01"), january)

    assert actual_alert.reached_on == D("2025-12-20")
    listed = [(row["Reached on"].value.date(), row["Basis"].value) for row in rows(load(december.getvalue())["Alerts"])]
    assert (D("2025-12-20"), "Actual · 實際") in listed
    assert all(row["Basis"].value != "Actual · 實際" for row in rows(load(january.getvalue())["Alerts"]))


def test_reached_on_is_the_business_date_the_cumulative_entries_first_reached_the_threshold(ledger, approver):
    order = ledger.approved("100000.00", approver=approver, order_date=D("2026-01-10"))
    InvoiceFactory(purchase_order=order, amount=Decimal("100000.00"), invoice_date=D("2026-06-01"))  # 5%
    InvoiceFactory(purchase_order=order, amount=Decimal("1000000.00"), invoice_date=D("2026-04-03"))  # 55%
    # Keyed last but dated first: by business date the actual amount stood at 700,000.00 on 1 March,
    # 1,700,000.00 (85%) on 3 April, the day it reached 80%, and 1,800,000.00 on 1 June.
    InvoiceFactory(purchase_order=order, amount=Decimal("700000.00"), invoice_date=D("2026-03-01"))

    assert Alert.objects.get(basis="actual").reached_on == D("2026-04-03")


def test_a_cap_used_above_its_amount_is_exceeded_with_the_day_distinct_from_at_cap(ledger, approver, compliance_api):
    order = ledger.approved("2000000.00", approver=approver, order_date=D("2026-01-10"))
    assert cap_json(compliance_api, ledger.caps[1])["status"] == "at_cap"
    InvoiceFactory(purchase_order=order, amount=Decimal("1500000.00"), invoice_date=D("2026-03-01"))
    InvoiceFactory(purchase_order=order, amount=Decimal("600000.00"), invoice_date=D("2026-04-01"))

    now = cap_json(compliance_api, ledger.caps[1])
    before = cap_json(compliance_api, ledger.caps[1], as_of="2026-03-31")

    assert (now["status"], now["exceeded_on"], now["remaining"]) == ("exceeded", "2026-04-01", "-100000.00")
    assert (before["status"], before["exceeded_on"]) == ("at_cap", None)
    assert cap_json(compliance_api, ledger.caps[0])["status"] == "ok"


# --- As at a day: effective-dated amounts ------------------------------------------------------------


def test_a_march_report_made_before_and_after_a_november_revision_shows_the_same_cap_amount(
    ledger, approver, compliance_user, compliance_api
):
    ledger.approved("1500000.00", approver=approver, order_date=D("2026-03-02"))

    def march_cap() -> Decimal:
        output = BytesIO()
        write_monthly_report(D("2026-03-01"), output)
        summary = rows(load(output.getvalue())["Summary"])
        return next(money(row["Annual cap"]) for row in summary if row["Period start"].value.year == 2026)

    before = march_cap()
    revision = cap_revision_propose(
        user=compliance_user, cap=ledger.caps[1], new_amount=Decimal("2500000.00"), reason="Forecast"
    )
    revision = cap_revision_record_steps(
        revision_id=revision.pk, user=compliance_user, board_approved_on=D("2026-11-02"),
        announced_on=D("2026-11-05"), circular_issued_on=D("2026-11-05"),
        adviser_letter_on=D("2026-11-05"), shareholders_approved_on=D("2026-11-20"),
    )  # fmt: skip
    after = march_cap()

    assert revision.status == "completed"
    assert before == after == Decimal("2000000.00")
    assert cap_json(compliance_api, ledger.caps[1], as_of="2026-03-31")["amount"] == "2000000.00"
    last_step = max(
        d for d in (revision.board_approved_on, revision.announced_on, revision.shareholders_approved_on) if d
    )
    assert revision.effective_on == last_step
    assert cap_json(compliance_api, ledger.caps[1], as_of=str(last_step))["amount"] == "2500000.00"
    assert cap_json(compliance_api, ledger.caps[1])["amount"] == "2500000.00"


def test_the_ledger_endpoint_lists_entries_oldest_first_and_limits_them_as_at_a_day(ledger, approver, compliance_api):
    late = ledger.approved("300.00", approver=approver, order_date=D("2026-06-01"))
    early = ledger.approved("200.00", approver=approver, order_date=D("2026-02-01"))

    everything = compliance_api.get(f"/api/caps/{ledger.caps[1].pk}/ledger/").json()
    until_may = compliance_api.get(f"/api/caps/{ledger.caps[1].pk}/ledger/", {"as_of": "2026-05-31"}).json()

    assert [(r["entry_date"], r["basis"], r["kind"], r["amount"], r["document"]) for r in everything["results"]] == [
        ("2026-02-01", "committed", "commitment", "200.00", f"purchase_order:{early.pk}"),
        ("2026-06-01", "committed", "commitment", "300.00", f"purchase_order:{late.pk}"),
    ]
    assert set(everything["results"][0]) == {"id", "entry_date", "basis", "kind", "amount", "document", "recorded_at"}
    assert until_may["count"] == 1


# --- The demo, the ledger and the migration ----------------------------------------------------------

# The demo's figures as computed before the ledger existed (from the orders and invoices at every
# request): (cap amount, committed, actual) per cap, and as at 31 Dec 2025.
DEMO_FIGURES = {
    ("IDC services", D("2025-07-29")): ("41000000.00", "11621917.81", "11600000.00"),
    ("IDC services", D("2026-01-01")): ("82000000.00", "60746832.19", "51779500.00"),
    ("IDC services", D("2027-01-01")): ("82000000.00", "0.00", "0.00"),
    ("IDC services", D("2028-01-01")): ("41000000.00", "0.00", "0.00"),
    ("Network hardware", D("2025-07-29")): ("33500000.00", "27300000.00", "27300000.00"),
    ("Network hardware", D("2026-01-01")): ("6700000.00", "5605700.00", "2706600.00"),
}
DEMO_AT_2025_END = {
    ("IDC services", D("2026-01-01")): ("15978082.19", "0.00"),
    ("Network hardware", D("2026-01-01")): ("0.00", "0.00"),
    ("IDC services", D("2025-07-29")): ("11621917.81", "11600000.00"),
}


def demo_figures(as_of=None):
    return {
        (cap.category.name.split(" (")[0], cap.period_start): (f"{cap.amount}", f"{cap.committed}", f"{cap.actual}")
        # The announced (purchase) caps; the illustrative sales caps are reconciled in test_checks and test_sales.
        for cap in caps_with_utilisation(as_of=as_of).filter(category__direction="purchase")
    }


def test_the_ledgers_sums_equal_the_figures_for_every_cap_of_the_demo(db, compliance_user):
    load_demo()
    api = client_for(compliance_user)

    for cap in AnnualCap.objects.all():
        figures = cap_json(api, cap)
        sums = {"committed": Decimal("0.00"), "actual": Decimal("0.00")}
        page = f"/api/caps/{cap.pk}/ledger/"
        while page:
            body = api.get(page).json()
            for entry in body["results"]:
                sums[entry["basis"]] += Decimal(entry["amount"])
            page = body["next"]
        assert (f"{sums['committed']}", f"{sums['actual']}") == (figures["committed"], figures["actual"]), cap
    # And the entries are what the documents say.
    documents = expected_entries()
    by_entries = {}
    for order_id, cap_id, basis, amount in LedgerEntry.objects.values_list("purchase_order", "cap", "basis", "amount"):
        by_entries[(order_id, cap_id, basis)] = by_entries.get((order_id, cap_id, basis), Decimal(0)) + amount
    assert {k: v for k, v in by_entries.items() if v} == documents


def empty_the_ledger() -> None:
    """Start again from the documents alone, as the data migration does on an existing installation (on
    PostgreSQL the database owner bypasses the append-only trigger, inside the test's transaction)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("DELETE FROM compliance_ledgerentry")
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = origin")
    CapTotals.objects.all().delete()


def test_the_migration_leaves_the_demo_figures_as_they_were(db):
    load_demo()
    empty_the_ledger()

    changed = ledger_build()

    assert changed == []  # the demo has no invoice on a draft or cancelled order
    assert demo_figures() == DEMO_FIGURES
    at_2025_end = demo_figures(as_of=D("2025-12-31"))
    assert {key: at_2025_end[key][1:] for key in DEMO_AT_2025_END} == DEMO_AT_2025_END


def test_the_migration_lists_the_caps_whose_actual_the_new_rules_change(ledger, approver):
    draft = ledger.order("100.00", order_date=D("2026-02-01"))
    InvoiceFactory(purchase_order=draft, amount=Decimal("100.00"), invoice_date=D("2026-02-02"))
    empty_the_ledger()
    PurchaseOrder.objects.filter(pk=draft.pk).update(invoiced_before_approval=False)

    assert ledger_build() == [ledger.caps[1].pk]
    draft.refresh_from_db()
    assert draft.invoiced_before_approval
    assert caps_with_utilisation().get(pk=ledger.caps[1].pk).actual == Decimal("100.00")


@pytest.mark.postgres
@pytest.mark.parametrize(
    "statement", ["UPDATE compliance_ledgerentry SET amount = 0", "DELETE FROM compliance_ledgerentry"]
)
def test_an_update_or_delete_of_a_ledger_row_fails_on_postgresql(ledger, approver, statement):
    ledger.approved("100.00", approver=approver, order_date=D("2026-02-01"))

    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)

    assert list(LedgerEntry.objects.values_list("amount", flat=True)) == [Decimal("100.00")]


def test_figures_as_at_a_day_are_the_same_when_asked_again_later(ledger, approver):
    ledger.approved("100.00", approver=approver, order_date=D("2026-02-01"))
    first = caps_with_utilisation(as_of=D("2026-02-28")).get(pk=ledger.caps[1].pk)
    ledger.approved("300.00", approver=approver, order_date=D("2026-03-02"))
    again = caps_with_utilisation(as_of=D("2026-02-28")).get(pk=ledger.caps[1].pk)

    assert (first.committed, again.committed) == (Decimal("100.00"), Decimal("100.00"))
    assert datetime.date(2026, 2, 28) == D("2026-02-28")


def test_the_nightly_reconciliation_reports_totals_that_drifted_from_the_entries(ledger, approver):
    from compliance.jobs import reconciliation

    ledger.approved("100.00", approver=approver, order_date=D("2026-02-01"))
    assert reconciliation.reconcile_caps(on=D("2026-11-21")) == ([], None)
    CapTotals.objects.filter(cap=ledger.caps[1]).update(committed=Decimal("100.01"))

    differences, mailing = reconciliation.reconcile_caps(on=D("2026-11-21"))

    assert mailing is not None
    assert [d["cap"].pk for d in differences] == [ledger.caps[1].pk]
    assert "ledger entries: committed CNY 100.00" in differences[0]["reported"]
    assert "committed CNY 100.01" in differences[0]["reported"]


def test_the_nightly_reconciliation_reports_entries_that_differ_from_the_documents(ledger, approver):
    from compliance.jobs import reconciliation

    order = ledger.approved("100.00", approver=approver, order_date=D("2026-02-01"))
    with transaction.atomic():
        from compliance.caps.ledger import ledger_post

        ledger_post([LedgerEntry(cap=ledger.caps[1], entry_date=D("2026-02-01"), basis="committed",
                                 kind="revaluation", amount=Decimal("5.00"), purchase_order=order)])  # fmt: skip

    differences, _ = reconciliation.reconcile_caps(on=D("2026-11-21"))

    assert [d["recomputed"] for d in differences] == ["committed CNY 100.00, actual CNY 0.00"]


def test_the_orders_sheet_reads_the_ledger_and_adds_up_to_the_summary_under_the_new_rules(ledger, approver):
    kept = ledger.approved("400000.00", approver=approver, order_date=D("2026-02-01"))
    cancelled = ledger.approved("300000.00", approver=approver, order_date=D("2026-02-02"))
    InvoiceFactory(purchase_order=cancelled, amount=Decimal("120000.00"), invoice_date=D("2026-02-10"))
    from compliance.caps.approval import purchase_order_cancel

    purchase_order_cancel(order_id=cancelled.pk, user=approver, effective_on=D("2026-03-15"))
    draft = ledger.order("50000.00", order_date=D("2026-03-01"))
    InvoiceFactory(purchase_order=draft, amount=Decimal("50000.00"), invoice_date=D("2026-03-03"))
    output = BytesIO()
    write_monthly_report(D("2026-03-01"), output)
    book = load(output.getvalue())

    summary = next(row for row in rows(book["Summary"]) if row["Period start"].value.year == 2026)
    orders = {row["Order"].value: row for row in rows(book["Orders"])}
    # Committed: 400,000.00 kept (the cancelled order's 300,000.00 withdrawn on 15 March); actual: the
    # cancelled order's invoice 120,000.00 and the draft's 50,000.00.
    assert (money(summary["Committed"]), money(summary["Actual"])) == (Decimal("400000.00"), Decimal("170000.00"))
    assert {
        number: (money(r["Committed in period"]), money(r["Actual in period"])) for number, r in orders.items()
    } == {
        kept.number: (Decimal("400000.00"), Decimal("0.00")),
        cancelled.number: (Decimal("0.00"), Decimal("120000.00")),
        draft.number: (Decimal("0.00"), Decimal("50000.00")),
    }


def test_the_admin_shows_exceeded_in_red_with_the_ledger_and_records_credit_notes(
    client, ledger, approver, django_user_model
):
    order = ledger.approved("2000000.00", approver=approver, order_date=D("2026-01-10"))
    invoice = InvoiceFactory(purchase_order=order, amount=Decimal("2100000.00"), invoice_date=D("2026-03-01"))
    boss = django_user_model.objects.create_superuser("boss", "boss@example.com", "a-long-password-123")
    client.force_login(boss)

    page = client.get(f"/admin/compliance/annualcap/{ledger.caps[1].pk}/change/").content.decode()
    listing = client.get("/admin/compliance/annualcap/").content.decode()
    added = client.post(
        "/admin/transactions/creditnote/add/",
        {"invoice": invoice.pk, "number": "CN-ADMIN", "credit_date": "2026-03-20", "amount": "100000.00",
         "currency": "CNY"},
    )  # fmt: skip

    assert 'class="cct-status cct-status-exceeded" style="color:#b71c1c;font-weight:bold">Exceeded' in page
    assert "cct-status-exceeded" in listing and "cct-status-ok" in listing
    assert f"<td>invoice {invoice.pk}</td>" in page and f"<td>purchase order {order.pk}</td>" in page
    assert added.status_code == 302
    cap = caps_with_utilisation().get(pk=ledger.caps[1].pk)
    assert (cap.actual, cap.status) == (Decimal("2000000.00"), "at_cap")


def test_the_dashboard_and_reports_say_exceeded_not_at_100_percent(ledger, approver):
    from compliance.reports.selectors import cap_status

    ledger.approved("1000000.00", approver=approver, order_date=D("2025-12-01"))
    order = ledger.approved("2000000.00", approver=approver, order_date=D("2026-01-10"))
    InvoiceFactory(purchase_order=order, amount=Decimal("2000000.01"), invoice_date=D("2026-03-01"))
    caps = {cap.pk: cap for cap in caps_with_utilisation()}

    assert cap_status(caps[ledger.caps[0].pk]).label == "At 100% · 已達上限"
    assert cap_status(caps[ledger.caps[1].pk]).label == "Exceeded · 超出上限"


def test_the_admin_cancels_with_the_day_it_takes_effect(client, ledger, approver, django_user_model):
    order = ledger.approved("600000.00", approver=approver, order_date=D("2026-02-01"))
    boss = django_user_model.objects.create_superuser("boss", "boss@example.com", "a-long-password-123")
    client.force_login(boss)

    too_early = client.post(f"/admin/transactions/purchaseorder/{order.pk}/cancel/", {"effective_on": "2026-01-01"})
    order.refresh_from_db()
    assert (too_early.status_code, order.status) == (302, "approved")
    client.post(
        f"/admin/transactions/purchaseorder/{order.pk}/cancel/", {"reason": "Dup", "effective_on": "2026-05-01"}
    )

    order.refresh_from_db()
    assert (order.status, order.cancellation_effective_on) == ("cancelled", D("2026-05-01"))
    assert caps_with_utilisation(as_of=D("2026-04-30")).get(pk=ledger.caps[1].pk).committed == Decimal("600000.00")


def test_an_invoices_admin_page_lists_its_credit_notes(client, ledger, approver, finance_user, django_user_model):
    from compliance.caps.documents import credit_note_record

    order = ledger.approved("600000.00", approver=approver, order_date=D("2026-02-01"))
    invoice = InvoiceFactory(purchase_order=order, amount=Decimal("500000.00"), invoice_date=D("2026-02-15"))
    credit_note_record(
        user=finance_user, invoice=invoice, number="CN-77", credit_date=D("2026-02-20"), amount=Decimal("1.00"),
        currency="CNY",
    )  # fmt: skip
    client.force_login(django_user_model.objects.create_superuser("boss", "boss@example.com", "a-long-password-1"))

    page = client.get(f"/admin/transactions/invoice/{invoice.pk}/change/")

    assert page.status_code == 200 and "CN-77" in page.content.decode()


def test_the_day_a_cap_was_exceeded_is_measured_against_the_amount_in_force_that_day(ledger, approver, compliance_user):
    order = ledger.approved("2000000.00", approver=approver, order_date=D("2026-01-10"))
    revision = cap_revision_propose(
        user=compliance_user, cap=ledger.caps[1], new_amount=Decimal("3000000.00"), reason="Forecast"
    )
    cap_revision_record_steps(
        revision_id=revision.pk, user=compliance_user, board_approved_on=D("2026-06-01"),
        announced_on=D("2026-06-02"), circular_issued_on=D("2026-06-02"),
        adviser_letter_on=D("2026-06-02"), shareholders_approved_on=D("2026-06-03"),
    )  # fmt: skip
    # Keyed after the revision, dated before it took effect: 2,100,000.00 above the 2,000,000.00 then in force.
    InvoiceFactory(purchase_order=order, amount=Decimal("2100000.00"), invoice_date=D("2026-05-20"))

    cap = caps_with_utilisation().get(pk=ledger.caps[1].pk)
    from compliance.rules.crossings import first_day_exceeded

    assert cap.status == "ok"  # today's amount, 3,000,000.00, is not exceeded
    assert first_day_exceeded(cap) == D("2026-05-20")  # measured against the amount in force that day
