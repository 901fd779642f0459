"""Benchmark of the cap ledger on PostgreSQL: approvals, utilisation and the monthly report at 1,000,
100,000 and 1,000,000 approved orders in one category.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cct python bench/ledger.py [--sizes 1000,100000,1000000]
    (or: make bench-ledger BENCH_ARGS="--sizes 1000,100000")

It creates a throw-away database of its own (cct_ledger_bench by default, --database to change it) on the
server DATABASE_URL names, and grows it to each size with set-based SQL (generate_series; a tenth of the
orders in USD, a third spread over a service period of 30 to 360 days, seven in ten invoiced), posting
their ledger entries and totals with INSERT ... SELECT, then VACUUM ANALYZE and CHECKPOINT. At each size it measures:
- approval: 20 fresh orders (two independent quotes each) approved one after another through
  compliance.caps.approval.purchase_order_approve, after one warm-up approval; p50 and p95 of the 20, in the
  round (of --repeat, default 3) with the lowest p95, as the machine may be busy;
- utilisation: compliance.rules.selectors.caps_with_utilisation() for every cap, against a hand-written
  `SELECT category_id, SUM(amount) ... GROUP BY category_id` over the same approved orders (the least
  work any design that sums orders at request time must do); best of 5 each;
- the monthly report for December 2026 (write_monthly_report), once, in-process.
It prints the ratio of approval p95 at the largest size to the smallest (target at most 2.0) and
utilisation at the largest size against the hand-written SUM (target at most 1.5).
The database is dropped at the end.
"""

import argparse
import datetime
import os
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/cct")

MONTH = datetime.date(2026, 12, 1)
APPROVALS = 20

ORDERS_SQL = """
INSERT INTO transactions_purchaseorder (
    number, category_id, counterparty_id, description, order_date, amount, currency, recognition,
    service_start, service_end, status, created_by_id, created_at, approved_by_id, approved_at,
    cancellation_reason, invoiced_before_approval)
SELECT 'BENCH-' || lpad(i::text, 7, '0'), %(category)s, %(connected)s, 'Racks and hosting',
       DATE '2026-01-01' + (i %% 365), (10000 + (i::bigint * 7919) %% 4990000) / 100.0,
       CASE WHEN i %% 10 = 0 THEN 'USD' ELSE 'CNY' END,
       CASE WHEN i %% 3 = 0 THEN 'over_service_period' ELSE 'on_order_date' END,
       CASE WHEN i %% 3 = 0 THEN DATE '2026-01-01' + (i %% 365) END,
       CASE WHEN i %% 3 = 0 THEN DATE '2026-01-01' + (i %% 365) + 30 + ((i::bigint * 31) %% 331)::int END,
       'approved', %(clerk)s, now(), %(approver)s, now(), '', false
FROM generate_series(%(start)s, %(stop)s - 1) AS i
"""

INVOICES_SQL = """
INSERT INTO transactions_invoice (purchase_order_id, number, invoice_date, amount, currency, created_at)
SELECT o.id, 'INV-' || o.number, LEAST(o.order_date + 20, DATE '2026-12-31'), o.amount, o.currency, now()
FROM transactions_purchaseorder o
WHERE o.number >= %(first)s AND o.number < %(last)s AND substring(o.number FROM 7)::int %% 10 < 7
"""

# The commitments of the new orders, cent-exact as compliance.rules.selectors.annotate_allocation splits them:
# each period takes round(C x days through its end / N) - round(C x days before it / N).
COMMITMENTS_SQL = """
INSERT INTO compliance_ledgerentry (cap_id, entry_date, basis, kind, amount, purchase_order_id, recorded_at)
SELECT c.id, o.order_date, 'committed', 'commitment',
       ROUND(o.converted * LEAST(o.n, GREATEST(0, c.period_end - o.f + 1)) / o.n, 2)
       - ROUND(o.converted * LEAST(o.n, GREATEST(0, c.period_start - o.f)) / o.n, 2),
       o.id, now()
FROM (
    SELECT p.id, p.order_date, p.category_id,
           COALESCE(p.service_start, p.order_date) AS f, COALESCE(p.service_end, p.order_date) AS l,
           COALESCE(p.service_end, p.order_date) - COALESCE(p.service_start, p.order_date) + 1 AS n,
           CASE WHEN p.currency = cat.currency THEN p.amount ELSE ROUND(p.amount * r.rate, 2) END AS converted
    FROM transactions_purchaseorder p
    JOIN transactions_transactioncategory cat ON cat.id = p.category_id
    LEFT JOIN transactions_exchangerate r
           ON r.currency = p.currency AND r.target_currency = cat.currency AND r.rate_date = p.order_date
    WHERE p.number >= %(first)s AND p.number < %(last)s AND p.status = 'approved'
) o
JOIN compliance_annualcap c ON c.category_id = o.category_id AND c.period_start <= o.l AND c.period_end >= o.f
"""

INVOICE_ENTRIES_SQL = """
INSERT INTO compliance_ledgerentry (cap_id, entry_date, basis, kind, amount, purchase_order_id, invoice_id, recorded_at)
SELECT c.id, i.invoice_date, 'actual', 'invoice',
       CASE WHEN i.currency = cat.currency THEN i.amount ELSE ROUND(i.amount * r.rate, 2) END, p.id, i.id, now()
FROM transactions_invoice i
JOIN transactions_purchaseorder p ON p.id = i.purchase_order_id
JOIN transactions_transactioncategory cat ON cat.id = p.category_id
JOIN compliance_annualcap c
     ON c.category_id = p.category_id AND c.period_start <= i.invoice_date AND c.period_end >= i.invoice_date
LEFT JOIN transactions_exchangerate r
       ON r.currency = i.currency AND r.target_currency = cat.currency AND r.rate_date = i.invoice_date
WHERE p.number >= %(first)s AND p.number < %(last)s
"""

TOTALS_SQL = """
INSERT INTO compliance_captotals (cap_id, committed, actual)
SELECT c.id,
       COALESCE(SUM(e.amount) FILTER (WHERE e.basis = 'committed'), 0),
       COALESCE(SUM(e.amount) FILTER (WHERE e.basis = 'actual'), 0)
FROM compliance_annualcap c LEFT JOIN compliance_ledgerentry e ON e.cap_id = c.id
GROUP BY c.id
ON CONFLICT (cap_id) DO UPDATE SET committed = EXCLUDED.committed, actual = EXCLUDED.actual
"""

# The baseline: summing the approved orders themselves, the least a design without totals must do.
HAND_SUM_SQL = """
SELECT category_id, SUM(amount) FROM transactions_purchaseorder WHERE status = 'approved' GROUP BY category_id
"""


def add_orders(reference: dict, start: int, stop: int) -> None:
    """Approved orders start..stop-1 through 2026 with their invoices and ledger entries, all set-based."""
    from django.db import connection, transaction

    params = {
        "category": reference["category"].pk, "connected": reference["connected"].pk,
        "clerk": reference["clerk"].pk, "approver": reference["approver"].pk, "start": start, "stop": stop,
        "first": f"BENCH-{start:07d}", "last": f"BENCH-{stop:07d}",
    }  # fmt: skip
    with transaction.atomic(), connection.cursor() as cursor:
        for sql in (ORDERS_SQL, INVOICES_SQL, COMMITMENTS_SQL, INVOICE_ENTRIES_SQL, TOTALS_SQL):
            cursor.execute(sql, params)


def post_entries(start: int, stop: int) -> None:
    """The ledger entries and totals of orders BENCH-start..BENCH-stop-1 and their invoices, set-based
    (also used by bench/monthly_report.py, which adds its orders with bulk_create)."""
    from django.db import connection, transaction

    params = {"first": f"BENCH-{start:07d}", "last": f"BENCH-{stop:07d}"}
    with transaction.atomic(), connection.cursor() as cursor:
        for sql in (COMMITMENTS_SQL, INVOICE_ENTRIES_SQL, TOTALS_SQL):
            cursor.execute(sql, params)


def fresh_orders(reference: dict, run: str, *, count: int = APPROVALS) -> list:
    """Drafts to approve, each with two independent quotes dated before it (passing the quote rule)."""
    from transactions.models import PurchaseOrder, Quote

    orders = []
    for n in range(count):
        day = datetime.date(2026, 6, 1) + datetime.timedelta(days=n)
        order = PurchaseOrder.objects.create(
            number=f"FRESH-{run}-{n}", category=reference["category"], counterparty=reference["connected"],
            order_date=day, amount=Decimal("1000.00"), currency="CNY", created_by=reference["clerk"],
        )  # fmt: skip
        for supplier in reference["suppliers"][:2]:
            Quote.objects.create(purchase_order=order, supplier=supplier, quoted_on=day - datetime.timedelta(days=5),
                                 amount=Decimal("1100.00"), currency="CNY")  # fmt: skip
        orders.append(order)
    return orders


def settle() -> None:
    """What a real database has done long before a million orders accumulate: vacuumed and analysed the
    tables and written the bulk load out. Without it the first approvals after the load share the disk
    with autovacuum and the checkpointer, and time that, not the approval."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
        cursor.execute("CHECKPOINT")


def check_entries_match_the_documents() -> None:
    """The SQL above must post what the product would: compare with compliance.caps.ledger.expected_entries."""
    from django.db.models import Sum

    from compliance.caps.ledger import expected_entries
    from compliance.models import LedgerEntry

    posted = {
        (order, cap, basis): amount
        for order, cap, basis, amount in LedgerEntry.objects.order_by()
        .values("purchase_order", "cap", "basis")
        .annotate(total=Sum("amount"))
        .values_list("purchase_order", "cap", "basis", "total")
        if amount
    }
    if posted != expected_entries():
        sys.exit("The benchmark's ledger entries differ from what the documents say; fix the SQL.")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def best_of(times: int, work) -> float:
    best = float("inf")
    for _ in range(times):
        started = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - started)
    return best


def measure(reference: dict, size: int, *, report: bool, repeat: int) -> dict:
    from django.db import connection

    from compliance.caps.approval import purchase_order_approve
    from compliance.reports.monthly import write_monthly_report
    from compliance.rules.selectors import caps_with_utilisation

    rounds = []
    for run in range(repeat):
        warm_up, *orders = fresh_orders(reference, f"{size}-{run}", count=APPROVALS + 1)
        purchase_order_approve(order_id=warm_up.pk, user=reference["approver"])  # connection and caches, not counted
        approvals = []
        for order in orders:
            started = time.perf_counter()
            purchase_order_approve(order_id=order.pk, user=reference["approver"])
            approvals.append(time.perf_counter() - started)
        rounds.append(approvals)
    # The machine is shared: the round least disturbed by others (lowest p95) counts, as for the report.
    approvals = min(rounds, key=lambda r: percentile(r, 0.95))

    def hand_sum():
        with connection.cursor() as cursor:
            cursor.execute(HAND_SUM_SQL)
            cursor.fetchall()

    utilisation = best_of(5, lambda: list(caps_with_utilisation()))
    baseline = best_of(5, hand_sum)
    report_seconds = None
    if report:
        with tempfile.TemporaryFile() as output:
            started = time.perf_counter()
            write_monthly_report(MONTH, output)
            report_seconds = time.perf_counter() - started
    return {
        "size": size, "p50": statistics.median(approvals), "p95": percentile(approvals, 0.95),
        "utilisation": utilisation, "hand_sum": baseline, "report": report_seconds,
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,100000,1000000", help="approved orders, ascending")
    parser.add_argument("--database", default="cct_ledger_bench", help="the throw-away database's name")
    parser.add_argument("--repeat", type=int, default=3, help="rounds of 20 approvals; the lowest p95 counts")
    parser.add_argument("--report-max", type=int, default=1_000_000, help="largest size at which to time the report")
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection
    from monthly_report import build_reference_data

    if connection.vendor != "postgresql":
        sys.exit("Run the benchmark against PostgreSQL: DATABASE_URL=postgres://USER@HOST:5432/NAME")
    sizes = sorted(int(size) for size in args.sizes.split(","))
    connection.settings_dict.setdefault("TEST", {})["NAME"] = args.database
    database = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    results = []
    try:
        reference = build_reference_data()
        made = 0
        for size in sizes:
            started = time.perf_counter()
            add_orders(reference, made, size)
            made = size
            settle()
            if size == sizes[0]:
                check_entries_match_the_documents()
            print(f"{size:,} approved orders ({time.perf_counter() - started:.0f} s to add); measuring...", flush=True)
            results.append(measure(reference, size, report=size <= args.report_max, repeat=args.repeat))
            print(results[-1], flush=True)
    finally:
        connection.close()
        connection.creation.destroy_test_db(database, verbosity=0)

    print()
    print(f"The cap ledger on PostgreSQL (Python {sys.version.split()[0]}); approvals: {APPROVALS} fresh orders, "
          f"best of {args.repeat} rounds")  # fmt: skip
    print(f"{'orders':>10} {'approval p50':>13} {'approval p95':>13} {'utilisation':>12} {'hand SUM':>10} "
          f"{'monthly report':>15}")  # fmt: skip
    for r in results:
        report = "-" if r["report"] is None else f"{r['report']:.2f} s"
        print(f"{r['size']:>10,} {r['p50']:>11.4f} s {r['p95']:>11.4f} s {r['utilisation']:>10.4f} s "
              f"{r['hand_sum']:>8.4f} s {report:>15}")  # fmt: skip
    first, last = results[0], results[-1]
    print(f"approval p95 at {last['size']:,} / at {first['size']:,}: {last['p95'] / first['p95']:.2f} (target <= 2.0)")
    print(f"utilisation at {last['size']:,} / hand-written SUM ... GROUP BY: "
          f"{last['utilisation'] / last['hand_sum']:.3f} (target <= 1.5)")  # fmt: skip


if __name__ == "__main__":
    main()
