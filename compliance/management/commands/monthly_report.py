import argparse
import datetime
from pathlib import Path

from django.core.management.base import BaseCommand

from compliance.reports.files import write_file
from compliance.reports.monthly import monthly_report_filename, write_monthly_report


def month(value: str) -> datetime.date:
    try:
        return datetime.datetime.strptime(value, "%Y-%m").date()
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a month: use YYYY-MM, e.g. 2026-03") from None


class Command(BaseCommand):
    help = "Write the monthly cap report (.xlsx) of a month, with its figures as at the month end."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--month", type=month, required=True, help="YYYY-MM, e.g. 2026-03")
        parser.add_argument("--output", type=Path, help="the file to write (default: cct-monthly-report-YYYY-MM.xlsx)")

    def handle(self, *args, month: datetime.date, output: Path | None, **options) -> None:
        output = output or Path(monthly_report_filename(month))
        write_file(output, lambda out: write_monthly_report(month, out))
        self.stdout.write(self.style.SUCCESS(f"Wrote the monthly cap report for {month:%B %Y} to {output}."))
