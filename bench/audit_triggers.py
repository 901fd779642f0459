"""What the database's audit trail costs writes: the same bulk insert, update and delete of purchase orders
with the audit triggers on and off, in one run, on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cct .venv/bin/python bench/audit_triggers.py --rows 20000

It creates a throw-away database of its own (cct_audit_bench) with the migrations (which install the
triggers), and for each run times, in this order: inserting the rows in batches of 1,000
(`bulk_create`), one `UPDATE` of all of them, one `DELETE` of all of them, first with the triggers off
(`ALTER TABLE ... DISABLE TRIGGER USER`), then on, inside a request-like audit context. The fastest of
`--repeat` runs counts; the ratio (on / off) is what to compare, not the seconds.
"""

import argparse
import datetime
import os
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.development")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/cct")
BENCH_DAY = datetime.date(2026, 3, 2)
BENCH_DATABASE = "cct_audit_bench"  # its own name: creating it drops any earlier copy, and nothing else


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=20000, help="purchase orders per run (default 20000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each mode; the fastest counts")
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection

    if connection.vendor != "postgresql":
        sys.exit("Run the benchmark against PostgreSQL: DATABASE_URL=postgres://USER@HOST:5432/NAME")
    connection.settings_dict.setdefault("TEST", {})["NAME"] = BENCH_DATABASE
    database = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        results = measure(args.rows, args.repeat)
    finally:
        connection.creation.destroy_test_db(database, verbosity=0)

    print(f"\nAudit triggers on {args.rows:,} purchase orders, PostgreSQL, fastest of {args.repeat}")
    print(f"{'step':<8} {'triggers off':>13} {'triggers on':>12} {'ratio':>6}")
    for step in ("insert", "update", "delete"):
        off, on = results["off"][step], results["on"][step]
        print(f"{step:<8} {off:>12.2f}s {on:>11.2f}s {on / off:>6.2f}")
    print(f"audit rows written per run with the triggers on: {results['audit_rows']:,}")


def measure(rows: int, repeat: int) -> dict:
    from django.db import connection

    from audit.context import audit_context
    from audit.models import RowChange

    category, counterparty, clerk = _bench_category()
    results: dict = {}
    for mode in ("off", "on"):
        _switch_triggers(mode == "on")
        runs = []
        for run in range(repeat):
            before = RowChange.objects.count()
            with audit_context(url="/bench/", method="POST", user={"id": clerk.pk, "username": clerk.username}):
                runs.append(_one_run(f"{mode}{run}", rows, category=category, counterparty=counterparty, clerk=clerk))
            results["audit_rows"] = RowChange.objects.count() - before
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE transactions_purchaseorder")
        results[mode] = {step: min(run[step] for run in runs) for step in ("insert", "update", "delete")}
    _switch_triggers(True)
    return results


def _bench_category():
    """A connected person's agreement with one category, a connected counterparty and the clerk entering orders."""
    from django.contrib.auth import get_user_model

    from transactions.models import ConnectedPerson, Counterparty, FrameworkAgreement, TransactionCategory

    day = BENCH_DAY
    person = ConnectedPerson.objects.create(name="Bench Group", basis="Shareholder", connected_from=day)
    agreement = FrameworkAgreement.objects.create(
        title="Bench agreement", connected_person=person, signed_on=day, board_approved_on=day
    )
    category = TransactionCategory.objects.create(
        agreement=agreement, name="Bench", currency="CNY", term_start=day, term_end=day + datetime.timedelta(days=300)
    )
    counterparty = Counterparty.objects.create(name="Bench Group Ltd.", connected_person=person)
    clerk = get_user_model().objects.create_user("bench-clerk")
    return category, counterparty, clerk


def _one_run(prefix: str, rows: int, *, category, counterparty, clerk) -> dict[str, float]:
    """Seconds to insert `rows` orders numbered from `prefix`, update them all, then delete them all."""
    from transactions.models import PurchaseOrder

    timings = {}
    started = time.perf_counter()
    PurchaseOrder.objects.bulk_create(
        (
            PurchaseOrder(number=f"{prefix}-{n:07d}", category=category, counterparty=counterparty,
                          order_date=BENCH_DAY, amount=Decimal("1000.00"), currency="CNY", created_by=clerk)
            for n in range(rows)
        ),
        batch_size=1000,
    )  # fmt: skip
    timings["insert"] = time.perf_counter() - started
    started = time.perf_counter()
    PurchaseOrder._base_manager.filter(number__startswith=prefix).update(amount=Decimal("1100.00"))
    timings["update"] = time.perf_counter() - started
    started = time.perf_counter()
    PurchaseOrder._base_manager.filter(number__startswith=prefix).delete()
    timings["delete"] = time.perf_counter() - started
    return timings


def _switch_triggers(enabled: bool) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE transactions_purchaseorder {'ENABLE' if enabled else 'DISABLE'} TRIGGER USER")


if __name__ == "__main__":
    main()
