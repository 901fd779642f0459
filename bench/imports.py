"""Benchmark of importing invoices on PostgreSQL: 100,000 and 1,000,000 invoice rows from CSV, validated and
recorded with their ledger entries, against a bare COPY of the same file into an unconstrained table.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cct python bench/imports.py [--sizes 100000,1000000]
    (or: make bench-imports BENCH_ARGS="--sizes 100000,1000000")

It creates a throw-away database of its own (cct_imports_bench by default, --database to change it) with
one category (caps of 2026 and 2027), 1,000 draft orders and a USD rate for every day of 2026. For each
size it writes a CSV file of invoices (a tenth in USD, dated through 2026, spread over the orders, named
by order number) and then, in a fresh process so that peak memory belongs to that size alone:
- COPY: the file into an unconstrained table of text columns (`COPY ... FROM STDIN (FORMAT csv)`), the
  least any import must do to get the rows into PostgreSQL;
- import: compliance.imports.engine.import_run on the same file: staging, every check, the invoices, their
  history and audit rows, the orders' flags, the ledger entries, the caps' totals, alerts and breaches;
- peak memory: the process's maximum resident set (ru_maxrss) after the import.
It prints the ratio import / COPY at each size (target at most 5) and peak memory at the largest size over
the smallest (target at most 1.3), and checks that the ledger's actual equals the sum of the file.
The database is dropped at the end.

--kind credit_notes measures credit notes instead: the invoices are imported first (not timed), then a file
of as many credit notes, one a tenth of each invoice on its date, is timed the same way. --row-path times
the row-by-row path instead of the set-based one (the same outcome, for a comparison at small sizes).
"""

import argparse
import datetime
import json
import os
import resource
import subprocess
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

ORDERS = 1000


def write_file(path: Path, size: int, prefix: str) -> Decimal:
    """The CSV of `size` invoices; returns the sum of the CNY ones (USD are converted by the ledger)."""
    total = Decimal("0.00")
    start = datetime.date(2026, 1, 1)
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("purchase_order,number,invoice_date,amount,currency\n")
        for i in range(size):
            cents = 10000 + (i * 7919) % 4990000
            amount = f"{cents // 100}.{cents % 100:02d}"
            currency = "USD" if i % 10 == 0 else "CNY"
            if currency == "CNY":
                total += Decimal(amount)
            out.write(f"BENCH-{i % ORDERS:05d},{prefix}-{i:08d},{start + datetime.timedelta(days=i % 365)},"
                      f"{amount},{currency}\n")  # fmt: skip
    return total


def write_credit_notes(path: Path, size: int, prefix: str) -> None:
    """The CSV of `size` credit notes, a tenth of each invoice of write_file's, on the invoice's date."""
    start = datetime.date(2026, 1, 1)
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("invoice,number,credit_date,amount,currency\n")
        for i in range(size):
            cents = (10000 + (i * 7919) % 4990000) // 10
            out.write(f"{prefix}-{i:08d},CN{prefix}-{i:08d},{start + datetime.timedelta(days=i % 365)},"
                      f"{cents // 100}.{cents % 100:02d},{'USD' if i % 10 == 0 else 'CNY'}\n")  # fmt: skip


def _import(path: str, kind: str, clerk):
    from django.core.files import File

    from compliance.imports.engine import import_run
    from compliance.models import Import

    with open(path, "rb") as source:
        imp = Import(kind=kind, created_by=clerk, file_name=Path(path).name)
        imp.file.save("bench.csv", File(source), save=False)
        imp.save()
    return lambda: import_run(imp.pk)


def child(size: int, path: str, kind: str = "invoices", row_path: bool = False) -> None:
    """One size, in a process of its own: the bare COPY, then the import, then peak memory."""
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection

    clerk = get_user_model().objects.get(username="bench.clerk")
    if kind == "credit_notes":  # the invoices they credit first, not timed
        invoices = _import(path, "invoices", clerk)()
        if invoices.status != "done":
            sys.exit(f"The invoices' import failed: {invoices.errors[:3]}")
        path = str(Path(path).with_suffix(".credit_notes.csv"))
        write_credit_notes(Path(path), size, f"INV{size}")
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_bare_copy")
        cursor.execute(f"CREATE UNLOGGED TABLE bench_bare_copy ({', '.join(f'c{n} text' for n in range(5))})")
        cursor.execute("CHECKPOINT")
        started = time.perf_counter()
        with (
            open(path, "rb") as source,
            cursor.copy("COPY bench_bare_copy FROM STDIN (FORMAT csv, HEADER true)") as copy,
        ):
            while chunk := source.read(1 << 20):
                copy.write(chunk)
        copy_seconds = time.perf_counter() - started
        cursor.execute("DROP TABLE bench_bare_copy")
        cursor.execute("CHECKPOINT")
    run = _import(path, kind, clerk)
    if row_path:
        from django.conf import settings

        settings.CCT_IMPORTS_BULK = False
    statements = []

    def timed(execute, sql, params, many, context):
        began = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            statements.append((time.perf_counter() - began, " ".join(str(sql).split())[:150]))

    started = time.perf_counter()
    with connection.execute_wrapper(timed):
        imp = run()
    import_seconds = time.perf_counter() - started
    for seconds, sql in sorted(statements, reverse=True)[:8]:
        print(f"{seconds:8.3f} s  {sql}", file=sys.stderr)
    print(json.dumps({
        "size": size, "copy": copy_seconds, "import": import_seconds, "status": imp.status, "created": imp.created,
        "errors": imp.errors[:3], "peak_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }))  # fmt: skip


def setup() -> None:
    from django.contrib.auth.models import Group
    from monthly_report import build_reference_data

    from transactions.models import PurchaseOrder

    reference = build_reference_data()
    reference["clerk"].groups.add(Group.objects.get(name="finance"))
    PurchaseOrder.objects.bulk_create([
        PurchaseOrder(number=f"BENCH-{n:05d}", category=reference["category"], counterparty=reference["connected"],
                      order_date=datetime.date(2026, 1, 1), amount=Decimal("1000.00"), currency="CNY",
                      created_by=reference["clerk"])
        for n in range(ORDERS)
    ])  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100000,1000000", help="invoice rows, ascending")
    parser.add_argument("--database", default="cct_imports_bench", help="the throw-away database's name")
    parser.add_argument("--kind", default="invoices", choices=("invoices", "credit_notes"), help="what is timed")
    parser.add_argument("--row-path", action="store_true", help="time the row-by-row path")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(int(args.child[0]), args.child[1], args.kind, args.row_path)

    import django

    django.setup()
    from django.db import connection

    if connection.vendor != "postgresql":
        sys.exit("Run the benchmark against PostgreSQL: DATABASE_URL=postgres://USER@HOST:5432/NAME")
    sizes = sorted(int(size) for size in args.sizes.split(","))
    connection.settings_dict.setdefault("TEST", {})["NAME"] = args.database
    database = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    settings = connection.settings_dict
    host = f"{settings['HOST'] or '127.0.0.1'}:{settings['PORT'] or 5432}"
    url = f"postgres://{settings['USER'] or 'postgres'}@{host}/{database}"
    results = []
    try:
        setup()
        connection.close()
        with tempfile.TemporaryDirectory() as folder:
            for size in sizes:
                path = Path(folder) / f"invoices-{size}.csv"
                write_file(path, size, f"INV{size}")
                print(f"{size:,} rows ({path.stat().st_size / 1e6:.0f} MB); measuring...", flush=True)
                env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "config.settings.development",
                       "DJANGO_DEBUG": "false"}  # fmt: skip
                command = [sys.executable, __file__, "--kind", args.kind, *(["--row-path"] if args.row_path else []),
                           "--child", str(size), str(path)]  # fmt: skip
                done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
                if done.returncode:
                    sys.exit(done.stderr[-3000:])
                results.append(json.loads(done.stdout.strip().splitlines()[-1]))
                print("slowest statements:\n" + done.stderr[-3000:], flush=True)
                print(results[-1], flush=True)
                if results[-1]["status"] != "done":
                    sys.exit(f"The import failed: {results[-1]['errors']}")
        check_ledger()
    finally:
        connection.close()
        connection.creation.destroy_test_db(database, verbosity=0)

    print()
    print(f"Importing {args.kind.replace('_', ' ')} from CSV on PostgreSQL (Python {sys.version.split()[0]})")
    print(f"{'rows':>10} {'bare COPY':>10} {'import':>10} {'ratio':>6} {'peak memory':>12}")
    for r in results:
        print(f"{r['size']:>10,} {r['copy']:>8.2f} s {r['import']:>8.2f} s {r['import'] / r['copy']:>6.2f} "
              f"{r['peak_kib'] / 1024:>9.0f} MiB")  # fmt: skip
    first, last = results[0], results[-1]
    print(f"import / COPY at {last['size']:,}: {last['import'] / last['copy']:.2f} (target <= 5)")
    print(f"peak memory at {last['size']:,} / at {first['size']:,}: {last['peak_kib'] / first['peak_kib']:.2f} "
          "(target <= 1.3)")  # fmt: skip


def check_ledger() -> None:
    """The ledger's actual equals what the documents say (compliance.caps.ledger.expected_entries's rule): the
    invoices less the credit notes, each at the rate of its own date."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("""
            SELECT (SELECT COALESCE(SUM(actual), 0) FROM compliance_captotals),
                   (SELECT COALESCE(SUM(amount), 0) FROM compliance_ledgerentry WHERE basis = 'actual'),
                   (SELECT COALESCE(SUM(CASE WHEN i.currency = 'CNY' THEN i.amount
                                             ELSE ROUND(i.amount * r.rate, 2) END), 0)
                    FROM transactions_invoice i
                    LEFT JOIN transactions_exchangerate r ON r.currency = i.currency AND r.target_currency = 'CNY'
                     AND r.rate_date = i.invoice_date)
                 - (SELECT COALESCE(SUM(CASE WHEN n.currency = 'CNY' THEN n.amount
                                             ELSE ROUND(n.amount * r.rate, 2) END), 0)
                    FROM transactions_creditnote n
                    LEFT JOIN transactions_exchangerate r ON r.currency = n.currency AND r.target_currency = 'CNY'
                     AND r.rate_date = n.credit_date)""")  # fmt: skip
        totals, entries, documents = cursor.fetchone()
    if not totals == entries == documents:
        sys.exit(f"The ledger does not match the invoices: totals {totals}, entries {entries}, invoices {documents}")


if __name__ == "__main__":
    main()
