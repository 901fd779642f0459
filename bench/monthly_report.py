"""Benchmark of the monthly cap report against PostgreSQL, at 10,000 and 100,000 orders.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cct python bench/monthly_report.py
    (or: make bench; DATABASE_URL defaults to the local server as above)

It creates a throw-away database of its own (cct_report_bench, on the server DATABASE_URL names), fills
it with bulk_create and runs ANALYZE, and for each size runs, each
in a fresh process so that peak memory is the report's own:
- the report: write_monthly_report for December 2026, timed, its queries counted, its peak memory taken;
- the baseline: the very same cell values (read first, not timed) written by a bare openpyxl write-only
  loop, `ws.append(row)` for every row, timed.
It prints the report's time divided by the baseline's (target: at most 1.5), the number of queries, and
the report process's peak memory at each size (target: nearly flat). The database is dropped at the end.
With --repeat N each measurement runs N times and the fastest counts (the machine may be busy).
"""

import argparse
import datetime
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/cct")
BENCH_DATABASE = "cct_report_bench"  # its own name: creating it drops any earlier copy, and nothing else

MONTH = datetime.date(2026, 12, 1)
BATCH = 5000


def rss_mib() -> float:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:")) / 1024


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


# --- Children: one measurement each -------------------------------------------------------------------


def setup_child(database: str) -> None:
    import django

    django.setup()
    from django.db import connection

    connection.settings_dict["NAME"] = database  # the benchmark's database, not the one configured


def measure_report(database: str) -> dict:
    setup_child(database)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from compliance.reports.monthly import write_monthly_report

    before = rss_mib()
    with tempfile.TemporaryFile() as output, CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        write_monthly_report(MONTH, output)
        seconds = time.perf_counter() - started
        size = output.tell()
    return {
        "seconds": seconds, "queries": len(queries), "peak_mib": peak_rss_mib(), "before_mib": before,
        "bytes": size,
    }  # fmt: skip


def measure_baseline(database: str) -> dict:
    setup_child(database)
    from openpyxl import Workbook

    from compliance.reports.monthly import month_bounds
    from compliance.reports.selectors import (
        counted_quote_assessments,
        report_alerts,
        report_caps,
        report_order_rows,
        report_reading,
    )
    from compliance.reports.sheets import (
        ALERT_COLUMNS,
        ORDER_COLUMNS,
        QUOTE_COLUMNS,
        SUMMARY_COLUMNS,
        alert_rows,
        order_rows,
        quote_rows,
        summary_rows,
    )

    def table(columns, rows) -> list[list]:
        # The two heading rows and the header, then the rows: the cells the report writes.
        return [["heading"], ["note"], [c.header for c in columns], *rows]

    first, last = month_bounds(MONTH)
    with report_reading():
        caps = report_caps(start=first, end=last, as_of=last)
        sheets = {
            "Summary": table(SUMMARY_COLUMNS, summary_rows(caps, as_of=last)),
            "Orders": table(ORDER_COLUMNS, order_rows(report_order_rows(caps, as_of=last))),
            "Quotes": table(QUOTE_COLUMNS, quote_rows(counted_quote_assessments(caps, as_of=last))),
            "Alerts": table(ALERT_COLUMNS, alert_rows(report_alerts(start=first, end=last))),
        }
    cells = sum(sum(1 for value in row if value is not None) for rows in sheets.values() for row in rows)
    with tempfile.TemporaryFile() as output:
        started = time.perf_counter()
        book = Workbook(write_only=True)
        for title, rows in sheets.items():
            ws = book.create_sheet(title)
            for row in rows:
                ws.append(row)
        book.save(output)
        seconds = time.perf_counter() - started
    return {"seconds": seconds, "rows": {title: len(rows) - 3 for title, rows in sheets.items()}, "cells": cells}


# --- The parent: data, children, results --------------------------------------------------------------


def build_reference_data():
    """An agreement with one category (term 2026-2027, a cap per year), its connected counterparty, three
    independent suppliers, users, and a USD rate for every day documents are dated."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from compliance.models import AnnualCap
    from transactions.models import ConnectedPerson, Counterparty, ExchangeRate, FrameworkAgreement, TransactionCategory

    person = ConnectedPerson.objects.create(name="Bench Group", basis="Substantial shareholder",
                                            connected_from=datetime.date(2020, 1, 1))  # fmt: skip
    agreement = FrameworkAgreement.objects.create(title="Bench agreement", connected_person=person,
                                                  signed_on=datetime.date(2025, 12, 1),
                                                  board_approved_on=datetime.date(2025, 12, 1))  # fmt: skip
    category = TransactionCategory.objects.create(agreement=agreement, name="IDC services", currency="CNY",
                                                  term_start=datetime.date(2026, 1, 1),
                                                  term_end=datetime.date(2027, 12, 31))  # fmt: skip
    huge = Decimal("1000000000000.00")  # the benchmark is about the report, not about headroom
    for year in (2026, 2027):
        AnnualCap.objects.create(category=category, period_start=datetime.date(year, 1, 1),
                                 period_end=datetime.date(year, 12, 31), amount=huge)  # fmt: skip
    connected = Counterparty.objects.create(name="Bench Group Company", connected_person=person)
    suppliers = [Counterparty.objects.create(name=f"Independent supplier {i}") for i in range(3)]
    users = get_user_model().objects
    clerk, approver = users.create(username="bench.clerk"), users.create(username="bench.approver")
    approver.groups.add(Group.objects.get(name="compliance"))  # approval checks the approver's role
    day, rates = datetime.date(2025, 12, 1), []
    while day <= datetime.date(2026, 12, 31):
        rates.append(ExchangeRate(currency="USD", target_currency="CNY", rate_date=day,
                                  rate=Decimal("7.1") + Decimal(day.toordinal() % 97) / 1000))  # fmt: skip
        day += datetime.timedelta(days=1)
    ExchangeRate.objects.bulk_create(rates)
    return {"category": category, "connected": connected, "suppliers": suppliers, "clerk": clerk,
            "approver": approver}  # fmt: skip


def add_orders(reference: dict, start: int, stop: int) -> None:
    """Approved orders start..stop-1 through 2026 (a tenth in USD, a third spread over a service period),
    each with two independent quotes (with a reference and a document name: the rows the auditor samples)
    and, for seven in ten, an invoice."""
    from django.utils import timezone

    from transactions.models import Invoice, PurchaseOrder, Quote

    rng = random.Random(start)
    now = timezone.now()
    for batch_start in range(start, stop, BATCH):
        orders = []
        for i in range(batch_start, min(batch_start + BATCH, stop)):
            order_date = datetime.date(2026, 1, 1) + datetime.timedelta(days=i % 365)
            spread = i % 3 == 0
            orders.append(PurchaseOrder(
                number=f"BENCH-{i:07d}", category=reference["category"], counterparty=reference["connected"],
                description=f"Racks and hosting, batch {i // 1000}", order_date=order_date,
                amount=Decimal(rng.randrange(10_000, 5_000_000)) / 100, currency="USD" if i % 10 == 0 else "CNY",
                recognition="over_service_period" if spread else "on_order_date",
                service_start=order_date if spread else None,
                service_end=order_date + datetime.timedelta(days=rng.randrange(30, 400)) if spread else None,
                status="approved", created_by=reference["clerk"], approved_by=reference["approver"], approved_at=now,
            ))  # fmt: skip
        PurchaseOrder.objects.bulk_create(orders)
        Quote.objects.bulk_create(
            Quote(purchase_order=order, supplier=supplier, quoted_on=order.order_date - datetime.timedelta(days=10),
                  amount=order.amount + Decimal(rng.randrange(100, 100_000)) / 100, currency=order.currency,
                  reference=f"Q-{order.number}-{supplier.pk}", document="quotes/2026/bench.pdf",
                  document_name=f"Q-{order.number}-{supplier.pk}.pdf")
            for order in orders
            for supplier in reference["suppliers"][:2]
        )  # fmt: skip
        Invoice.objects.bulk_create(
            Invoice(purchase_order=order, number=f"INV-{order.number}", currency=order.currency,
                    invoice_date=min(order.order_date + datetime.timedelta(days=20), datetime.date(2026, 12, 31)),
                    amount=order.amount)
            for order in orders
            if int(order.number[-7:]) % 10 < 7
        )  # fmt: skip
    # The figures are the cap ledger's: post the entries approval and invoicing would have posted.
    from ledger import post_entries

    post_entries(start, stop)


def child(kind: str, database: str) -> dict:
    command = [sys.executable, __file__, "--child", kind, "--database", database]
    result = subprocess.run(command, capture_output=True, text=True, check=False, cwd=ROOT)  # noqa: S603
    if result.returncode != 0:
        sys.exit(f"The {kind} measurement failed:\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000", help="order counts, ascending (default: 10000,100000)")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each measurement; the fastest counts")
    parser.add_argument("--child", choices=["report", "baseline"], help=argparse.SUPPRESS)
    parser.add_argument("--database", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        measure = measure_report if args.child == "report" else measure_baseline
        print(json.dumps(measure(args.database)))
        return

    import django

    django.setup()
    from django.db import connection

    if connection.vendor != "postgresql":
        sys.exit("Run the benchmark against PostgreSQL: DATABASE_URL=postgres://USER@HOST:5432/NAME")
    sizes = sorted(int(size) for size in args.sizes.split(","))
    connection.settings_dict.setdefault("TEST", {})["NAME"] = BENCH_DATABASE
    database = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    results = []
    try:
        reference = build_reference_data()
        made = 0
        for size in sizes:
            started = time.perf_counter()
            add_orders(reference, made, size)
            made = size
            # What autovacuum does soon after a bulk load in a real database: without statistics the
            # planner takes the fresh tables for empty and picks nested scans that grow with the square.
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
            print(f"{size:,} orders in the database ({time.perf_counter() - started:.0f} s to add); measuring...",
                  flush=True)  # fmt: skip
            runs = [(child("report", database), child("baseline", database)) for _ in range(args.repeat)]
            report = min((r for r, _ in runs), key=lambda r: r["seconds"])
            baseline = min((b for _, b in runs), key=lambda b: b["seconds"])
            report["peak_mib"] = max(r["peak_mib"] for r, _ in runs)
            results.append((size, report, baseline))
    finally:
        connection.creation.destroy_test_db(database, verbosity=0)

    print()
    print(f"Monthly cap report for {MONTH:%B %Y} on PostgreSQL (Python {sys.version.split()[0]}, "
          f"fastest of {args.repeat} run{'s' if args.repeat > 1 else ''})")  # fmt: skip
    print(f"{'orders':>9} {'Orders rows':>12} {'Quotes rows':>12} {'cells':>10} {'report':>9} {'bare loop':>10} "
          f"{'ratio':>6} {'queries':>8} {'peak RSS':>9} {'growth':>8}")  # fmt: skip
    for size, report, baseline in results:
        ratio = report["seconds"] / baseline["seconds"]
        growth = report["peak_mib"] - report["before_mib"]
        print(
            f"{size:>9,} {baseline['rows']['Orders']:>12,} {baseline['rows']['Quotes']:>12,} {baseline['cells']:>10,} "
            f"{report['seconds']:>8.1f}s {baseline['seconds']:>9.1f}s {ratio:>6.2f} {report['queries']:>8} "
            f"{report['peak_mib']:>6.0f} MiB {growth:>4.0f} MiB"
        )
    print("ratio: the report's time / a bare openpyxl write-only loop writing the same cells (target <= 1.5)")
    print("peak RSS: the report process at its highest; growth: above what it used before the report began")


if __name__ == "__main__":
    main()
