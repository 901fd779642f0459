"""Imports of credit notes: the set-based path (compliance.imports.credits) and the row path give the same
errors, rows, history, ledger entries and totals, for credit notes on invoices and on sales invoices."""

import datetime
from decimal import Decimal

import pytest
from django.db import transaction

from compliance.caps.documents import credit_note_record
from compliance.models import CapTotals, Import, LedgerEntry
from tests.compliance.test_imports import csv_file, run, xlsx_file
from tests.factories import InvoiceFactory, RateFactory
from transactions.models import CreditNote

pytestmark = pytest.mark.django_db

HEADER = "invoice,number,credit_date,amount,currency"
D = datetime.date.fromisoformat


@pytest.fixture(autouse=True, params=["set-based", "row by row"])
def path(request, settings):
    """Credit notes on PostgreSQL take the set-based path; row by row must answer exactly the same."""
    settings.CCT_IMPORTS_BULK = request.param == "set-based"
    return request.param


@pytest.fixture
def invoices(ledger, finance_user):
    """INV-1 (CNY 1,000.00) and INV-2 (CNY 300.00) on a draft order of the purchase category, in the 2026 cap."""
    order = ledger.order("1800000.00", quotes=("1900000.00", "1950000.00"), number="PO-2026-001")
    return [
        InvoiceFactory(purchase_order=order, number="INV-1", invoice_date=D("2026-03-10"), amount=Decimal("1000.00")),
        InvoiceFactory(purchase_order=order, number="INV-2", invoice_date=D("2026-03-10"), amount=Decimal("300.00")),
    ]


def credit_notes(*rows: str):
    return csv_file("\n".join([HEADER, *rows]) + "\n")


def test_a_file_over_crediting_one_invoice_across_two_rows_names_the_second_row(invoices, ledger, finance_user):
    imp = run(finance_user, "credit_notes", credit_notes(
        "INV-1,CN-1,2026-03-20,600.00,CNY",
        "INV-2,CN-2,2026-03-20,300.00,CNY",
        "INV-1,CN-3,2026-03-21,600.00,CNY",
    ))  # fmt: skip

    assert imp.status == Import.Status.FAILED
    # 1,000.00 - 600.00 = 400.00 remains of INV-1 when row 4 asks for 600.00; INV-2 is credited in full.
    assert imp.errors == [
        {"row": 4, "column": "amount", "message": "Only CNY 400.00 of invoice INV-1 remains to be credited."}
    ]
    assert not CreditNote.objects.exists()
    assert CapTotals.objects.get(cap=ledger.caps[1]).actual == Decimal("1300.00")


def test_a_refused_row_credits_nothing_so_a_later_row_may_take_what_it_left(invoices, finance_user):
    credit_note_record(
        user=finance_user, invoice=invoices[0], number="CN-0", credit_date=D("2026-03-15"),
        amount=Decimal("100.00"), currency="CNY",
    )  # fmt: skip

    imp = run(finance_user, "credit_notes", credit_notes(
        "INV-1,CN-1,2026-03-20,500.00,CNY",  # 900.00 remains: taken, 400.00 left
        "INV-1,CN-2,2026-03-21,500.00,CNY",  # refused: 400.00 remains
        "INV-2,CN-3,2026-03-21,50.00,CNY",
        "INV-1,CN-4,2026-03-22,400.00,CNY",  # the refused row took nothing: 400.00 fits, 0.00 left
        "INV-1,CN-5,2026-03-23,0.01,CNY",
    ))  # fmt: skip

    assert imp.errors == [
        {"row": 3, "column": "amount", "message": "Only CNY 400.00 of invoice INV-1 remains to be credited."},
        {"row": 6, "column": "amount", "message": "Only CNY 0.00 of invoice INV-1 remains to be credited."},
    ]
    assert list(CreditNote.objects.values_list("number", flat=True)) == ["CN-0"]


def test_every_cell_and_row_error_is_worded_as_the_row_path_words_it(invoices, finance_user):
    inv_1 = invoices[0]
    imp = run(finance_user, "credit_notes", credit_notes(
        "INV-1,CN-1,2026-03-20,1e2,cny",  # 100.00 CNY: Decimal reads 1e2, the code is upper-cased
        ' INV-1 ,CN-2,20260321,"1,000.5", CNY',  # a date without dashes is ISO 8601 too; 900.00 remains
        "INV-404,CN-3,2026-02-30,5.001,RMB",
        "INV-1,,2026-03-22,0,USD",
        "INV-1,CN-1,2026-03-23, nan ,CNY",  # its amount is refused, so it is no repetition of row 2
        "INV-1,CN-1,2026-03-20,100.00,CNY",
        "ＩＮＶ-1,CN-8,2026-03-20,1.00,CNY",
        "INV-1,CN-9,2026-03-20,1.00,USD",
        f"{inv_1.pk},CN-10,2026-03-24,\t2.00\u00a0,CNY",  # by id; str.strip() takes the tab and the no-break space
        "INV-1,CN-11,2026-03-25,-5,CNY",
    ))  # fmt: skip

    assert imp.errors == [
        {"row": 3, "column": "amount", "message": "Only CNY 900.00 of invoice INV-1 remains to be credited."},
        {"row": 4, "column": "invoice", "message": "No invoice has the number or id “INV-404”."},
        {"row": 4, "column": "credit_date", "message": "“2026-02-30” is not a date: write YYYY-MM-DD."},
        {"row": 4, "column": "amount", "message": "An amount has at most two decimals."},
        {"row": 4, "column": "currency", "message": "“RMB” is not an ISO 4217 currency code (e.g. CNY, HKD, USD)."},
        {"row": 5, "column": "number", "message": "This column is required."},
        {"row": 5, "column": "amount", "message": "The amount must be greater than zero."},
        {"row": 6, "column": "amount", "message": "“ nan ” is not an amount."},
        {"row": 7, "column": "number", "message": "The same document is on row 2."},
        {"row": 8, "column": "invoice", "message": "No invoice has the number or id “ＩＮＶ-1”."},
        {"row": 9, "column": "currency", "message": "A credit note is in the currency of its invoice (CNY)."},
        {"row": 11, "column": "amount", "message": "The amount must be greater than zero."},
    ]
    assert (imp.rows, imp.error_count, imp.created) == (10, 12, 0)
    assert not CreditNote.objects.exists()


@pytest.fixture
def usd_invoice(ledger, invoices):
    """INV-U, USD 1,000.00 on 10 March 2026 at 7.10: CNY 7,100.00 in the 2026 cap."""
    RateFactory(currency="USD", target_currency="CNY", rate_date=D("2026-03-10"), rate=Decimal("7.10"))
    return InvoiceFactory(
        purchase_order=invoices[0].purchase_order, number="INV-U", invoice_date=D("2026-03-10"),
        amount=Decimal("1000.00"), currency="USD",
    )  # fmt: skip


def test_credit_notes_post_negative_actual_entries_in_the_cap_of_their_date_once(
    ledger, invoices, usd_invoice, finance_user
):
    RateFactory(currency="USD", target_currency="CNY", rate_date=D("2026-03-20"), rate=Decimal("7.20"))
    rows = (
        "INV-U,CN-U,2026-03-20,250.00,USD",  # 250.00 x 7.20 = CNY 1,800.00
        "\tINV-1,CN-1\u00a0,2026-03-25,300.00,CNY",  # trimmed as str.strip() trims: a tab, a no-break space
        "INV-2,CN-2,2027-01-05,300.00,CNY",  # no cap period holds 2027: recorded, posted nowhere
    )

    first = run(finance_user, "credit_notes", credit_notes(*rows))
    second = run(finance_user, "credit_notes", xlsx_file([HEADER.split(","), *(row.split(",") for row in rows)]))

    assert (first.status, first.rows, first.created, first.unchanged) == ("done", 3, 3, 0), first.errors
    assert (second.status, second.created, second.unchanged) == ("done", 0, 3), second.errors
    entries = LedgerEntry.objects.filter(kind="credit_note").order_by("entry_date")
    assert [(e.cap_id, str(e.entry_date), e.basis, e.amount, e.credit_note.number, e.invoice.number,
             e.purchase_order_id, e.recorded_by_id) for e in entries] == [
        (ledger.caps[1].pk, "2026-03-20", "actual", Decimal("-1800.00"), "CN-U", "INV-U",
         usd_invoice.purchase_order_id, finance_user.pk),
        (ledger.caps[1].pk, "2026-03-25", "actual", Decimal("-300.00"), "CN-1", "INV-1",
         usd_invoice.purchase_order_id, finance_user.pk),
    ]  # fmt: skip
    # 1,000.00 + 300.00 + 7,100.00 invoiced, less 1,800.00 and 300.00 credited.
    assert CapTotals.objects.get(cap=ledger.caps[1]).actual == Decimal("6300.00")
    notes = CreditNote.objects.order_by("number")
    assert [(n.number, n.amount, n.currency, n.created_by_id) for n in notes] == [
        ("CN-1", Decimal("300.00"), "CNY", finance_user.pk), ("CN-2", Decimal("300.00"), "CNY", finance_user.pk),
        ("CN-U", Decimal("250.00"), "USD", finance_user.pk),
    ]  # fmt: skip
    # Credit notes' audit trail is their history (the database's triggers do not watch their table).
    history = CreditNote.history.order_by("number")
    assert [(h.number, h.history_type, h.history_user_id, h.history_change_reason) for h in history] == [
        (number, "+", finance_user.pk, f"import {first.pk} (credit_notes)") for number in ("CN-1", "CN-2", "CN-U")
    ]


def test_a_credit_note_without_its_days_rate_is_refused_as_the_admin_refuses_it(usd_invoice, finance_user):
    imp = run(finance_user, "credit_notes", credit_notes("INV-U,CN-U,2026-03-20,250.00,USD"))

    assert imp.errors == [
        {
            "row": 2,
            "column": "currency",
            "message": "There is no USD/CNY exchange rate for 20 Mar 2026, the date of credit note CN-U. "
            "Record that day's rate first.",
        }
    ]


def test_the_same_number_with_other_values_is_an_error_and_the_dry_run_writes_nothing(invoices, finance_user):
    run(finance_user, "credit_notes", credit_notes("INV-1,CN-1,2026-03-20,100.00,CNY"))

    changed = run(finance_user, "credit_notes", credit_notes("INV-2,CN-1,2026-03-21,100.00,CNY"))
    dry = run(finance_user, "credit_notes", credit_notes(
        "INV-1,CN-1,2026-03-20,100.00,CNY", "INV-1,CN-2,2026-03-20,900.00,CNY"
    ), dry_run=True)  # fmt: skip

    assert changed.errors == [
        {"row": 2, "column": "number", "message": "CN-1 is already recorded with other values (invoice, credit_date)."}
    ]
    assert (dry.status, dry.created, dry.unchanged) == ("done", 1, 1), dry.errors
    assert list(CreditNote.objects.values_list("number", flat=True)) == ["CN-1"]
    assert LedgerEntry.objects.filter(kind="credit_note").count() == 1


def test_a_credit_note_on_a_sales_invoice_reduces_the_sales_cap(ledger, finance_user):
    ledger.sales_category()
    sale = ledger.sale("100000.00", number="SO-2026-001")
    InvoiceFactory(purchase_order=sale, number="SI-1", invoice_date=D("2026-03-10"), amount=Decimal("1000.00"))

    imp = run(finance_user, "credit_notes", credit_notes(
        "SI-1,CN-S1,2026-03-20,400.00,CNY", "SI-1,CN-S2,2026-03-21,600.01,CNY",
    ))  # fmt: skip
    fixed = run(finance_user, "credit_notes", credit_notes("SI-1,CN-S1,2026-03-20,400.00,CNY"))

    assert imp.errors == [
        {"row": 3, "column": "amount", "message": "Only CNY 600.00 of invoice SI-1 remains to be credited."}
    ]
    assert (fixed.status, fixed.created) == ("done", 1)
    # 1,000.00 - 400.00 in the 2026 sales cap; the purchase caps are untouched.
    assert CapTotals.objects.get(cap=ledger.sales_caps[1]).actual == Decimal("600.00")
    assert not CapTotals.objects.filter(cap__category=ledger.category).exclude(actual=0).exists()


@pytest.mark.parametrize("path", ["set-based"], indirect=True)  # the test runs the file on both paths itself
def test_both_paths_give_the_same_errors_and_the_same_ledger_entries_for_the_same_file(
    path, settings, ledger, usd_invoice, finance_user
):
    RateFactory(currency="USD", target_currency="CNY", rate_date=D("2026-03-20"), rate=Decimal("7.20"))
    good = ("INV-U,CN-U,2026-03-20,250.00,USD", "INV-1,CN-1,2026-03-25,700.00,CNY", "INV-U,CN-5,2026-03-20,750.00,USD")
    bad = (*good[:2], "INV-1,CN-2,2026-03-26,300.01,CNY", "INV-9,CN-3,2026-03-26,1.00,CNY",
           "INV-U,CN-4,2026-03-21,10.00,USD")  # fmt: skip
    answers = {}
    for bulk in (True, False):
        settings.CCT_IMPORTS_BULK = bulk
        with transaction.atomic():
            failed = run(finance_user, "credit_notes", credit_notes(*bad))
            done = run(finance_user, "credit_notes", credit_notes(*good))
            entries = LedgerEntry.objects.filter(kind="credit_note").order_by("credit_note__number")
            answers[bulk] = (
                failed.errors,
                done.created,
                [(e.cap_id, str(e.entry_date), e.amount, e.credit_note.number, e.invoice.number) for e in entries],
                CapTotals.objects.get(cap=ledger.caps[1]).actual,
            )
            transaction.set_rollback(True)

    assert answers[True] == answers[False]
    cap = ledger.caps[1].pk
    assert answers[True] == (
        [
            {"row": 4, "column": "amount", "message": "Only CNY 300.00 of invoice INV-1 remains to be credited."},
            {"row": 5, "column": "invoice", "message": "No invoice has the number or id “INV-9”."},
            {"row": 6, "column": "currency", "message": "There is no USD/CNY exchange rate for 21 Mar 2026, the date "
             "of credit note CN-4. Record that day's rate first."},
        ],
        3,
        # 750.00 x 7.20 = 5,400.00 and 250.00 x 7.20 = 1,800.00, on the rate of the credit date.
        [(cap, "2026-03-25", Decimal("-700.00"), "CN-1", "INV-1"),
         (cap, "2026-03-20", Decimal("-5400.00"), "CN-5", "INV-U"),
         (cap, "2026-03-20", Decimal("-1800.00"), "CN-U", "INV-U")],
        # 1,000.00 + 300.00 + 7,100.00 invoiced, less 700.00 + 5,400.00 + 1,800.00 credited.
        Decimal("500.00"),
    )  # fmt: skip


def test_a_row_refused_for_its_rate_credits_nothing_of_its_invoice(usd_invoice, finance_user):
    RateFactory(currency="USD", target_currency="CNY", rate_date=D("2026-03-20"), rate=Decimal("7.20"))

    imp = run(finance_user, "credit_notes", credit_notes(
        "INV-U,CN-A,2026-03-21,600.00,USD",  # no rate on 21 March: refused, so USD 1,000.00 still remains
        "INV-U,CN-B,2026-03-20,1000.00,USD",
        "INV-U,CN-C,2026-03-20,0.01,USD",
    ))  # fmt: skip

    assert imp.errors == [
        {"row": 2, "column": "currency", "message": "There is no USD/CNY exchange rate for 21 Mar 2026, the date of "
         "credit note CN-A. Record that day's rate first."},
        {"row": 4, "column": "amount", "message": "Only USD 0.00 of invoice INV-U remains to be credited."},
    ]  # fmt: skip
