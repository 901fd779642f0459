"""Benchmark: the PDF packs against the workbooks, for the same data.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cct .venv/bin/python bench/report_formats.py
    (--sizes 1000,5000 by default; --repeat N takes the fastest of N runs)

In a throw-away database of its own (cct_formats_bench), filled as bench/monthly_report.py fills its own
(approved orders through 2026, two independent quotes each, seven in ten invoiced, a tenth in USD, a third
spread over a service period), it times, each in a fresh process, the monthly report for December 2026
and the annual review pack for 2026, as a workbook and as a PDF, and prints the PDF's time divided by the
workbook's: the weight a PDF carries when deciding whether a report is built in the request or by the
worker (CCT_REPORT_PDF_WEIGHT, compliance.jobs.report_jobs).
"""

import argparse
import datetime
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/cct")
BENCH_DATABASE = "cct_formats_bench"  # its own name: creating it drops any earlier copy, and nothing else

REPORTS = ("monthly", "annual")


def measure(report: str, fmt: str, database: str) -> dict:
    import django

    django.setup()
    from django.db import connection

    connection.settings_dict["NAME"] = database
    from compliance.reports.annual_review import write_annual_review
    from compliance.reports.monthly import write_monthly_report

    pdf = fmt == "pdf"
    with tempfile.TemporaryFile() as output:
        started = time.perf_counter()
        if report == "monthly":
            write_monthly_report(datetime.date(2026, 12, 1), output, pdf=pdf)
        else:
            write_annual_review(2026, output, pdf=pdf)
        seconds = time.perf_counter() - started
        size = output.tell()
    return {"seconds": seconds, "bytes": size}


def child(report: str, fmt: str, database: str) -> dict:
    command = [sys.executable, __file__, "--child", f"{report}:{fmt}", "--database", database]
    result = subprocess.run(command, capture_output=True, text=True, check=False, cwd=ROOT)  # noqa: S603
    if result.returncode != 0:
        sys.exit(f"The {report} {fmt} measurement failed:\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,5000", help="order counts, ascending (default: 1000,5000)")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each measurement; the fastest counts")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--database", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        report, fmt = args.child.split(":")
        print(json.dumps(measure(report, fmt, args.database)))
        return

    import django

    django.setup()
    from django.db import connection
    from monthly_report import add_orders, build_reference_data

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
            add_orders(reference, made, size)
            made = size
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
            print(f"{size:,} orders in the database; measuring...", flush=True)
            for report in REPORTS:
                best = {}
                for fmt in ("xlsx", "pdf"):
                    runs = [child(report, fmt, database) for _ in range(args.repeat)]
                    best[fmt] = min(runs, key=lambda run: run["seconds"])
                results.append((size, report, best["xlsx"], best["pdf"]))
    finally:
        connection.creation.destroy_test_db(database, verbosity=0)

    print()
    print(f"PDF pack against workbook, same data, PostgreSQL (Python {sys.version.split()[0]}, fastest of "
          f"{args.repeat})")  # fmt: skip
    print(f"{'orders':>8} {'report':>8} {'workbook':>9} {'PDF':>9} {'ratio':>6} {'xlsx size':>10} {'PDF size':>10}")
    for size, report, xlsx, pdf in results:
        print(
            f"{size:>8,} {report:>8} {xlsx['seconds']:>8.2f}s {pdf['seconds']:>8.2f}s "
            f"{pdf['seconds'] / xlsx['seconds']:>6.2f} {xlsx['bytes'] / 1024:>7.0f} KiB {pdf['bytes'] / 1024:>7.0f} KiB"
        )
    print("ratio: the PDF's time / the workbook's, the same report of the same data, each in a fresh process")


if __name__ == "__main__":
    main()
