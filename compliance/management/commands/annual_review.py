from pathlib import Path

from django.core.management.base import BaseCommand

from compliance.reports.annual_review import annual_review_filename, write_annual_review
from compliance.reports.files import write_file


class Command(BaseCommand):
    help = "Write the annual review pack (.xlsx) of a financial year for the INEDs and the auditors."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--year", type=int, required=True, help="the financial year (1 January-31 December)")
        parser.add_argument("--output", type=Path, help="the file to write (default: cct-annual-review-YYYY.xlsx)")

    def handle(self, *args, year: int, output: Path | None, **options) -> None:
        output = output or Path(annual_review_filename(year))
        write_file(output, lambda out: write_annual_review(year, out))
        self.stdout.write(self.style.SUCCESS(f"Wrote the annual review pack for {year} to {output}."))
