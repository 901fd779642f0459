import argparse
import datetime
import re
from pathlib import Path

from django.core.management.base import BaseCommand

from compliance.reports.directors import directors_report_filename, half_name, write_directors_report
from compliance.reports.files import write_file


def half(value: str) -> datetime.date:
    match = re.fullmatch(r"(\d{4})-H([12])", value)
    if not match:
        raise argparse.ArgumentTypeError(f"{value!r} is not a half year: use YYYY-H1 (Jan-Jun) or YYYY-H2 (Jul-Dec)")
    return datetime.date(int(match[1]), 1 if match[2] == "1" else 7, 1)


class Command(BaseCommand):
    help = "Write the semi-annual directors' report (.xlsx) of a half year, with its figures as at the half year end."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--half", type=half, required=True, help="YYYY-H1 (January-June) or YYYY-H2 (July-December)"
        )
        parser.add_argument(
            "--output", type=Path, help="the file to write (default: cct-directors-report-YYYY-Hn.xlsx)"
        )

    def handle(self, *args, half: datetime.date, output: Path | None, **options) -> None:
        output = output or Path(directors_report_filename(half))
        write_file(output, lambda out: write_directors_report(half, out))
        self.stdout.write(self.style.SUCCESS(f"Wrote the directors' report for {half_name(half)} to {output}."))
