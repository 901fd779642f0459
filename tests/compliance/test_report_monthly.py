"""The monthly cap report, read back with openpyxl: sheets, figures as at the month end equal to the
API to the cent, numeric cells and formats, the chart, text that looks like a formula, period boundaries."""

import datetime
import io
import re
import threading
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.core.management import call_command
from django.db import connections
from django.utils import timezone

from compliance.models import Alert, AnnualCap
from compliance.reports.monthly import month_bounds, monthly_report_filename
from tests.compliance.workbooks import approved_order, headers, load, money, monthly, percent, rows, sheet_xml
from tests.conftest import client_for
from tests.factories import CapFactory, CategoryFactory, D, InvoiceFactory, QuoteFactory
from transactions.models import Counterparty, PurchaseOrder, TransactionCategory

MARCH = D("2026-03-01")


@pytest.fixture
def march(ledger):
    """The 2026 cap with orders and invoices before, in and after March 2026, in two currencies."""
    from tests.factories import RateFactory

    RateFactory(currency="USD", target_currency="CNY", rate_date=D("2026-03-10"), rate=Decimal("7.1234"))
    RateFactory(currency="USD", target_currency="CNY", rate_date=D("2026-03-20"), rate=Decimal("7.2000"))
    hosting = approved_order(
        ledger, "365000.00", order_date=D("2026-01-05"), service_start=D("2026-01-01"), service_end=D("2026-12-31")
    )
    for supplier, quote in zip(ledger.independents, ("380000.00", "376000.00"), strict=False):
        QuoteFactory(purchase_order=hosting, supplier=supplier, quoted_on=D("2025-12-20"), amount=Decimal(quote))
    usd = approved_order(ledger, "10000.55", currency="USD", order_date=D("2026-03-10"))
    InvoiceFactory(purchase_order=hosting, amount=Decimal("91250.00"), invoice_date=D("2026-03-31"))
    InvoiceFactory(purchase_order=usd, amount=Decimal("10000.55"), currency="USD", invoice_date=D("2026-03-20"))
    # Dated after the month end: not in the March figures, but in today's.
    later = approved_order(ledger, "50000.00", order_date=D("2026-04-01"))
    InvoiceFactory(purchase_order=hosting, amount=Decimal("91250.00"), invoice_date=D("2026-04-01"))
    InvoiceFactory(purchase_order=later, amount=Decimal("50000.00"), invoice_date=D("2026-04-02"))
    return ledger


def test_the_report_holds_summary_orders_quotes_and_alerts_sheets(march):
    assert load(monthly(MARCH)).sheetnames == ["Summary", "Orders", "Quotes", "Alerts"]


def test_summary_figures_equal_the_caps_api_as_at_the_month_end_to_the_cent(march, management_user):
    api = client_for(management_user)
    as_at = {c["id"]: c for c in api.get("/api/caps/", {"as_of": "2026-03-31"}).json()["results"]}
    today = {c["id"]: c for c in api.get("/api/caps/").json()["results"]}
    summary = rows(load(monthly(MARCH))["Summary"])

    cap = AnnualCap.objects.get(category=march.category, period_start=D("2026-01-01"))
    assert [row["Cap"].value for row in summary] == ["IDC services 2026-01-01 to 2026-12-31"]
    row = summary[0]
    expected = as_at[cap.pk]
    assert money(row["Annual cap"]) == Decimal(expected["amount"])
    assert money(row["Actual"]) == Decimal(expected["actual"])
    assert money(row["Committed"]) == Decimal(expected["committed"])
    assert money(row["Remaining"]) == Decimal(expected["remaining"])
    assert percent(row["Actual %"]) == Decimal(expected["actual_pct"])
    assert percent(row["Committed %"]) == Decimal(expected["committed_pct"])
    # The documents dated in April make today's figures different: the report is as at the month end.
    assert (today[cap.pk]["actual"], today[cap.pk]["committed"]) != (expected["actual"], expected["committed"])
    # 91,250.00 hosting + USD 10,000.55 x 7.2 on the invoice date; 365,000.00 + USD 10,000.55 x 7.1234.
    assert (expected["actual"], expected["committed"]) == ("163253.96", "436237.92")


def test_the_orders_sheet_adds_up_to_the_summary_for_every_cap(march):
    book = load(monthly(MARCH))
    summary = {row["Period start"].value.date(): row for row in rows(book["Summary"])}
    orders = rows(book["Orders"])

    assert sorted(row["Order"].value for row in orders) == sorted(
        PurchaseOrder.objects.filter(order_date__lte=D("2026-03-31")).values_list("number", flat=True)
    )
    for start, cap in summary.items():
        mine = [row for row in orders if row["Period start"].value.date() == start]
        assert sum(money(row["Committed in period"]) for row in mine) == money(cap["Committed"])
        assert sum(money(row["Actual in period"]) for row in mine) == money(cap["Actual"])


MONEY_COLUMNS = {
    "Summary": ["Annual cap", "Actual", "Committed", "Remaining", "Forecast at period end"],
    "Orders": ["Amount", "Converted", "Committed in period", "Actual in period"],
    "Quotes": ["Connected party's price", "Quote", "Quote in order currency", "More favourable by"],
    "Alerts": ["Amount when raised", "Annual cap"],
}
PERCENT_COLUMNS = {
    "Summary": ["Actual %", "Committed %", "Utilisation %", "Forecast %"],
    "Quotes": ["More favourable by %"],
    "Alerts": ["Threshold", "Utilisation when raised"],
}
DATE_COLUMNS = {
    "Summary": ["Period start", "Period end"],
    "Orders": ["Period start", "Period end", "Order date", "Service start", "Service end", "Approved on"],
    "Quotes": ["Order date", "Quoted on"],
}


def an_alert(cap, *, created_at, sent=False, threshold="80.00", basis="committed"):
    alert = Alert.objects.create(
        cap=cap, threshold=Decimal(threshold), basis=basis, utilisation_pct=Decimal("81.25"),
        used_amount=Decimal("1625000.00"), cap_amount=cap.amount, sent_at=created_at if sent else None,
    )  # fmt: skip
    # Keyed on the day it was reached, as most are (reports list alerts by reached_on).
    Alert.objects.filter(pk=alert.pk).update(created_at=created_at, reached_on=timezone.localtime(created_at).date())
    return alert


def test_numbers_are_numeric_cells_with_money_percent_and_date_formats(march):
    an_alert(march.caps[1], created_at=timezone.make_aware(datetime.datetime(2026, 3, 12, 9, 30)))
    book = load(monthly(MARCH))

    for formats, number_format in ((MONEY_COLUMNS, "#,##0.00"), (PERCENT_COLUMNS, "0.00%"), (DATE_COLUMNS, None)):
        for sheet, columns in formats.items():
            table = rows(book[sheet])
            assert table, f"{sheet} has no rows to check"
            for column in columns:
                cells = [row[column] for row in table if row[column].value is not None]
                assert cells, f"{sheet}: no value in {column}"
                for cell in cells:
                    if number_format is None:
                        assert cell.is_date and cell.number_format == "yyyy-mm-dd", (sheet, column, cell.value)
                    else:
                        assert cell.data_type == "n" and isinstance(cell.value, int | float), (sheet, column)
                        assert cell.number_format == number_format, (sheet, column, cell.number_format)


def test_no_cell_holds_a_formula(march):
    data = monthly(MARCH)

    for name, xml in sheet_xml(data).items():
        if name.startswith("xl/worksheets/sheet"):
            assert "<f>" not in xml and "<f " not in xml, name
    for ws in load(data):
        assert all(cell.data_type != "f" for row in ws.iter_rows() for cell in row)


def test_headers_are_bilingual_frozen_filtered_and_pages_print_landscape_a4_legibly(march):
    book = load(monthly(MARCH))

    for ws in book:
        header = [cell.value for cell in ws[3] if cell.value]
        assert header and all(re.search(r"[A-Za-z].*\n.*[\u4e00-\u9fff]", text) for text in header), ws.title
        assert ws.freeze_panes == "A4"
        assert ws.auto_filter.ref == f"A3:{ws.cell(3, len(header)).column_letter}{max(ws.max_row, 3)}"
        assert (ws.page_setup.orientation, int(ws.page_setup.paperSize)) == ("landscape", int(ws.PAPERSIZE_A4))
        # Every sheet of this report is too wide for one legible page (the Alerts sheet, the narrowest, at
        # 14 columns and 226 characters would print at 785 / (5.25 x 226 + 5 x 14) = 62% < 73%): printed at
        # 75% across pages, the first column and the header row repeated on each, never squeezed onto one.
        assert ws.sheet_properties.pageSetUpPr.fitToPage is False
        assert int(ws.page_setup.scale) == 75
        assert (ws.print_title_rows, ws.print_title_cols) == ("$3:$3", "$A:$A")
        # The header row is as tall as its most wrapped header: none is cut off.
        assert ws.row_dimensions[3].height >= 32
        assert all(ws.column_dimensions[cell.column_letter].width >= 9 for cell in ws[3] if cell.value)


def test_the_summary_has_a_bar_chart_of_utilisation_per_cap(march):
    CapFactory(category=CategoryFactory(agreement=march.agreement, name="Network hardware"))
    xml = sheet_xml(monthly(MARCH))

    chart = xml["xl/charts/chart1.xml"]
    assert "<barChart>" in chart
    assert "'Summary'!$K$4:$K$5" in chart and "'Summary'!$L$4:$L$5" in chart  # actual % and committed %
    assert "<strRef><f>'Summary'!$A$4:$A$5</f></strRef>" in chart  # labelled by cap
    assert "<drawing " in xml["xl/worksheets/sheet1.xml"]


def test_caps_at_80_and_100_percent_are_marked_and_coloured(ledger):
    approved_order(ledger, "1700000.00", order_date=D("2026-03-02"))  # 85% of 2,000,000.00
    full = CategoryFactory(agreement=ledger.agreement, name="Network hardware")
    CapFactory(category=full, amount=Decimal("500000.00"))
    approved_order(ledger, "500000.00", category=full, order_date=D("2026-03-03"))  # exactly 100%
    ws = load(monthly(MARCH))["Summary"]

    status = {row["Category"].value: row["Status"].value for row in rows(ws)}
    assert status == {"IDC services": "At or above 80% · 已達80%", "Network hardware": "At 100% · 已達上限"}
    rules = {
        str(ranges.sqref): [(rule.operator, rule.formula, rule.dxf.fill.fgColor.rgb) for rule in ranges.rules]
        for ranges in ws.conditional_formatting
    }
    utilisation = rules["M4:M5"]  # the Utilisation % column
    assert [(operator, formula) for operator, formula, _ in utilisation] == [
        ("greaterThanOrEqual", ["1"]),
        ("greaterThanOrEqual", ["0.80"]),
    ]
    assert utilisation[0][2] != utilisation[1][2]  # red, then amber
    assert [formula for _, formula, _ in rules["Q4:Q5"]] == [["$M4>=1"], ["$M4>=0.80"]]  # the Status column


def test_text_that_could_start_a_formula_is_written_as_text_not_evaluated(ledger):
    dangerous = {
        "number": '=HYPERLINK("http://evil.example","x")',
        "description": "+SUM(1,1)",
        "counterparty": "@cmd|' /C calc'!A0",
        "supplier": "-2+3",
    }
    ledger.connected.name = dangerous["counterparty"]
    ledger.connected.save()
    Counterparty.objects.filter(pk=ledger.independents[0].pk).update(name=dangerous["supplier"])
    order = approved_order(
        ledger, "1000.00", number=dangerous["number"], description=dangerous["description"], order_date=D("2026-03-02")
    )
    QuoteFactory(purchase_order=order, supplier=ledger.independents[0], amount=Decimal("1100.00"))
    data = monthly(MARCH)
    book = load(data)

    order_row = rows(book["Orders"])[0]
    quote_row = rows(book["Quotes"])[0]
    cells = {
        "number": order_row["Order"], "description": order_row["Description"],
        "counterparty": order_row["Counterparty"], "supplier": quote_row["Supplier"],
    }  # fmt: skip
    for key, cell in cells.items():
        assert (cell.value, cell.data_type, cell.quotePrefix) == (dangerous[key], "s", True), key
    assert not any("<f>" in xml for name, xml in sheet_xml(data).items() if name.startswith("xl/worksheets/"))


def test_an_order_on_the_last_day_of_a_period_and_one_on_the_first_day_of_the_next_fall_in_their_own_periods(ledger):
    approved_order(ledger, "300.00", number="PO-LAST-DAY", order_date=D("2025-12-31"))
    approved_order(ledger, "700.00", number="PO-FIRST-DAY", order_date=D("2026-01-01"))

    december = load(monthly(D("2025-12-01")))
    january = load(monthly(D("2026-01-01")))

    assert [(r["Period end"].value.date(), money(r["Committed"])) for r in rows(december["Summary"])] == [
        (D("2025-12-31"), Decimal("300.00"))
    ]
    assert [r["Order"].value for r in rows(december["Orders"])] == ["PO-LAST-DAY"]
    assert [(r["Period start"].value.date(), money(r["Committed"])) for r in rows(january["Summary"])] == [
        (D("2026-01-01"), Decimal("700.00"))
    ]
    assert [r["Order"].value for r in rows(january["Orders"])] == ["PO-FIRST-DAY"]


@pytest.fixture
def demo(db):
    call_command("load_demo", verbosity=0)
    return TransactionCategory.objects.get(name="Network hardware")


def test_in_july_2026_the_network_hardware_period_ends_on_the_28th_and_its_figures_are_final(demo, auditor_user):
    api = {c["id"]: c for c in client_for(auditor_user).get("/api/caps/?as_of=2026-07-31").json()["results"]}
    summary = {row["Category"].value: row for row in rows(load(monthly(D("2026-07-01")))["Summary"])}

    hardware = summary["Network hardware"]
    cap = AnnualCap.objects.get(category=demo, period_end=D("2026-07-28"))
    assert hardware["Period end"].value.date() == D("2026-07-28")
    assert money(hardware["Committed"]) == Decimal(api[cap.pk]["committed"])
    assert money(hardware["Actual"]) == Decimal(api[cap.pk]["actual"])
    # The period is over by the month end: the forecast is what was used.
    assert money(hardware["Forecast at period end"]) == max(money(hardware["Committed"]), money(hardware["Actual"]))
    purchases = {name for name, row in summary.items() if row["Direction"].value.startswith("Purchases")}
    assert purchases == {"IDC services", "Network hardware"}  # the demo's sales caps have their own rows


def test_when_two_network_hardware_periods_meet_in_july_2026_each_order_counts_in_its_own(demo, auditor_user):
    # A renewal: the term runs on and a new cap period starts the day after the 28th.
    TransactionCategory.objects.filter(pk=demo.pk).update(term_end=D("2027-07-28"))
    renewal = AnnualCap.objects.create(
        category=demo, period_start=D("2026-07-29"), period_end=D("2026-12-31"), amount=Decimal("3000000.00")
    )
    first = AnnualCap.objects.get(category=demo, period_end=D("2026-07-28"))
    ledger = SimpleNamespace(
        category=demo,
        connected=Counterparty.objects.get(name="Xiaomi Corporation"),
        clerk=PurchaseOrder.objects.filter(status="approved").first().approved_by,
    )
    approved_order(ledger, "100000.00", number="HW-28-JUL", order_date=D("2026-07-28"))
    approved_order(ledger, "200000.00", number="HW-29-JUL", order_date=D("2026-07-29"))
    spread = approved_order(
        ledger, "22000.01", number="HW-SPREAD", order_date=D("2026-07-15"),
        service_start=D("2026-07-20"), service_end=D("2026-08-10"),
    )  # fmt: skip
    api = {c["id"]: c for c in client_for(auditor_user).get("/api/caps/?as_of=2026-07-31").json()["results"]}
    book = load(monthly(D("2026-07-01")))

    summary = {
        row["Period start"].value.date(): row
        for row in rows(book["Summary"])
        if row["Category"].value == "Network hardware"
    }
    assert set(summary) == {D("2026-01-01"), D("2026-07-29")}
    orders = [row for row in rows(book["Orders"]) if row["Category"].value == "Network hardware"]
    by_period = {}
    for row in orders:
        by_period.setdefault(row["Period start"].value.date(), {})[row["Order"].value] = money(
            row["Committed in period"]
        )
    assert by_period[D("2026-07-29")]["HW-29-JUL"] == Decimal("200000.00")
    assert "HW-29-JUL" not in by_period[D("2026-01-01")]
    assert by_period[D("2026-01-01")]["HW-28-JUL"] == Decimal("100000.00")
    assert "HW-28-JUL" not in by_period[D("2026-07-29")]
    # 22 service days: 9 (20-28 July) in the first period, 13 in the renewal; the parts add up to the cent.
    parts = by_period[D("2026-01-01")]["HW-SPREAD"], by_period[D("2026-07-29")]["HW-SPREAD"]
    assert parts == (Decimal("9000.00"), Decimal("13000.01")) and sum(parts) == spread.amount
    for cap in (first, renewal):
        row = summary[cap.period_start]
        assert money(row["Committed"]) == Decimal(api[cap.pk]["committed"])
        assert money(row["Actual"]) == Decimal(api[cap.pk]["actual"])
        assert sum(by_period[cap.period_start].values()) == money(row["Committed"])


def test_the_alerts_sheet_lists_the_alerts_raised_in_the_month_and_whether_each_was_sent(ledger):
    at = timezone.make_aware
    an_alert(ledger.caps[1], created_at=at(datetime.datetime(2026, 3, 1, 0, 5)), sent=True)
    pending = an_alert(ledger.caps[0], created_at=at(datetime.datetime(2026, 3, 31, 23, 55)))
    an_alert(ledger.caps[1], created_at=at(datetime.datetime(2026, 4, 1, 0, 5)), threshold="90.00")
    an_alert(ledger.caps[0], created_at=at(datetime.datetime(2026, 2, 28, 23, 55)), threshold="90.00")
    Alert.objects.filter(pk=pending.pk).update(send_attempts=2, last_error="SMTP timed out")

    alerts = rows(load(monthly(MARCH))["Alerts"])

    assert [(row["Raised at"].value, row["E-mailed"].value) for row in alerts] == [
        (datetime.datetime(2026, 3, 1, 0, 5), "Yes · 已發送"),
        (datetime.datetime(2026, 3, 31, 23, 55), "Pending · 待發送"),
    ]
    assert (alerts[1]["Attempts"].value, alerts[1]["Last error"].value) == (2, "SMTP timed out")
    assert percent(alerts[0]["Threshold"]) == Decimal("80.00")


def test_the_quotes_sheet_shows_each_quote_and_by_how_much_the_connected_partys_price_is_lower(ledger):
    order = approved_order(ledger, "100000.00", order_date=D("2026-03-02"))
    for supplier, amount in zip(ledger.independents, ("110000.00", "104000.00"), strict=False):
        QuoteFactory(purchase_order=order, supplier=supplier, quoted_on=D("2026-02-20"), amount=Decimal(amount))

    quotes = rows(load(monthly(MARCH))["Quotes"])

    assert [(money(r["Quote"]), money(r["More favourable by"]), percent(r["More favourable by %"]),
             r["Lowest counted quote (sale: highest)"].value) for r in quotes] == [
        (Decimal("110000.00"), Decimal("10000.00"), Decimal("9.09"), None),
        (Decimal("104000.00"), Decimal("4000.00"), Decimal("3.85"), "Yes · 是"),
    ]  # fmt: skip
    assert {(r["Independent quotes"].value, r["Required"].value, r["Quote rule"].value) for r in quotes} == {
        (2, 2, "Met · 符合")
    }


def test_an_approved_order_whose_quote_no_longer_counts_shows_the_exception(ledger):
    order = approved_order(ledger, "100000.00", order_date=D("2026-03-02"))
    for supplier in ledger.independents[:2]:
        QuoteFactory(purchase_order=order, supplier=supplier, quoted_on=D("2026-02-20"), amount=Decimal("120000.00"))
    # Found out later: the first supplier belongs to the connected person's group.
    Counterparty.objects.filter(pk=ledger.independents[0].pk).update(connected_person=ledger.person)

    quotes = rows(load(monthly(MARCH))["Quotes"])

    assert [r["Counted"].value for r in quotes] == ["No · 否", "Yes · 是"]
    assert "was connected" in quotes[0]["Why not counted"].value
    assert {r["Quote rule"].value for r in quotes} == {"Not met · 不符合"}
    assert quotes[0]["Exception"].value.startswith("1 of the 2 required independent quotes.")


def test_any_day_of_the_month_gives_that_months_report_and_its_filename(march):
    summary = rows(load(monthly(D("2026-03-17")))["Summary"])

    assert money(summary[0]["Committed"]) == Decimal("436237.92")
    assert monthly_report_filename(D("2026-03-17")) == "cct-monthly-report-2026-03.xlsx"
    book = load(monthly(D("2026-03-17")))
    assert book["Summary"]["A1"].value.endswith("March 2026 · 2026年3月")
    assert "31 Mar 2026" in book["Summary"]["A2"].value


def test_a_month_without_caps_gives_a_valid_empty_report(db):
    book = load(monthly(D("2030-01-01")))

    assert book.sheetnames == ["Summary", "Orders", "Quotes", "Alerts"]
    assert [rows(ws) for ws in book] == [[], [], [], []]
    assert headers(book["Summary"])[0] == "Cap"


def test_the_monthly_report_command_writes_the_workbook(march, tmp_path):
    output = tmp_path / "march.xlsx"

    call_command("monthly_report", "--month", "2026-03", "--output", str(output), stdout=io.StringIO())

    assert money(rows(load(output.read_bytes())["Summary"])[0]["Committed"]) == Decimal("436237.92")
    assert not list(tmp_path.glob("*.part"))


def test_the_monthly_report_command_refuses_a_malformed_month(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="use YYYY-MM"):
        call_command("monthly_report", "--month", "2026-13", "--output", "unused.xlsx")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_report_reads_one_snapshot_while_orders_are_being_approved(ledger, monkeypatch):
    from compliance.reports import monthly as module

    approved_order(ledger, "100.00", number="PO-BEFORE", order_date=D("2026-03-02"))
    list_orders = module.report_order_rows

    def approved_meanwhile(caps, *, as_of):
        # Another user's approval commits after the Summary was read and before the orders are.
        def approve() -> None:
            approved_order(ledger, "900.00", number="PO-MEANWHILE", order_date=D("2026-03-03"))
            connections.close_all()

        thread = threading.Thread(target=approve)
        thread.start()
        thread.join()
        return list_orders(caps, as_of=as_of)

    monkeypatch.setattr(module, "report_order_rows", approved_meanwhile)
    book = load(monthly(MARCH))

    assert PurchaseOrder.objects.filter(number="PO-MEANWHILE").exists()
    assert money(rows(book["Summary"])[0]["Committed"]) == Decimal("100.00")
    assert [row["Order"].value for row in rows(book["Orders"])] == ["PO-BEFORE"]
    assert {row["Order"].value for row in rows(book["Quotes"])} == {"PO-BEFORE"}


def test_every_month_of_the_demo_reconciles_with_the_caps_api_to_the_cent(demo, auditor_user):
    api = client_for(auditor_user)
    names = dict(TransactionCategory.objects.values_list("pk", "name"))
    month, checked = D("2025-07-01"), 0
    while month <= D("2028-07-01"):
        first, last = month_bounds(month)
        expected = {
            (names[c["category"]], c["period_start"], c["period_end"]): (c["actual"], c["committed"], c["remaining"])
            for c in api.get("/api/caps/", {"as_of": last.isoformat()}).json()["results"]
            if c["period_start"] <= last.isoformat() and c["period_end"] >= first.isoformat()
        }
        summary = rows(load(monthly(month))["Summary"])
        got = {
            (
                row["Category"].value,
                row["Period start"].value.date().isoformat(),
                row["Period end"].value.date().isoformat(),
            ): tuple(f"{money(row[column])}" for column in ("Actual", "Committed", "Remaining"))
            for row in summary
        }
        assert got == expected, month
        checked += len(got)
        month = last + datetime.timedelta(days=1)
    # Network hardware from July 2025 to July 2026, IDC services to July 2028, and the illustrative cloud services
    # sales from August 2025 to July 2028 (the months to 2028-07-01).
    assert checked == 13 + 37 + 36


def test_the_quotes_sheet_names_each_quotes_reference_and_document(ledger):
    order = approved_order(ledger, "100000.00", order_date=D("2026-03-02"))
    QuoteFactory(purchase_order=order, supplier=ledger.independents[0], quoted_on=D("2026-02-20"),
                 amount=Decimal("110000.00"), reference="HB-Q-17", document_name="HB quote 17.pdf")  # fmt: skip
    QuoteFactory(purchase_order=order, supplier=ledger.independents[1], quoted_on=D("2026-02-20"),
                 amount=Decimal("120000.00"), document=None, document_name="")  # fmt: skip

    quotes = rows(load(monthly(MARCH))["Quotes"])

    assert [(r["Quote reference"].value, r["Quote document"].value, r["Why not counted"].value) for r in quotes] == [
        ("HB-Q-17", "HB quote 17.pdf", None),
        (None, "None attached · 未附文件", "no quote document"),
    ]


def test_a_cap_whose_forecast_exceeds_it_tells_the_board_in_the_summary(ledger):
    order = approved_order(ledger, "600000.00", order_date=D("2026-01-01"), service_start=D("2026-01-01"),
                           service_end=D("2026-12-31"))  # fmt: skip
    InvoiceFactory(purchase_order=order, amount=Decimal("600000.00"), invoice_date=D("2026-02-01"))

    [march] = [r for r in rows(load(monthly(MARCH))["Summary"]) if r["Period start"].value.date() == D("2026-01-01")]

    # As at 31 March (90 days): hosting invoiced at 600,000.00 runs on to 2,433,333.33 by the year end.
    assert money(march["Forecast at period end"]) == Decimal("2433333.33")
    assert (
        march["Status"].value
        == "Below 80% · 低於80%; Forecast above cap: report to the board · 預測超出上限：須向董事會匯報"
    )
