"""Send the monthly cap report for a month by hand (the schedule sends it on the 1st of each month)."""

import datetime

from django.core.management.base import BaseCommand, CommandError

from compliance.delivery import outbox
from compliance.jobs import mailings


def month_argument(value: str) -> datetime.date:
    try:
        return datetime.datetime.strptime(value, "%Y-%m").date()
    except ValueError as error:
        raise CommandError(f"--month must look like 2026-10, not {value!r}.") from error


class Command(BaseCommand):
    help = "E-mail the monthly cap report for --month YYYY-MM to the lists that receive it (once per month)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--month", required=True, help="The month reported, as YYYY-MM.")

    def handle(self, *args, month: str, **options) -> None:
        mailing, _ = mailings.monthly_mailing(month=month_argument(month))
        if mailing.sent_at is not None:
            self.stdout.write(f"The report for {mailing.period} was already sent on {mailing.sent_at:%Y-%m-%d %H:%M}.")
            return
        outcome = outbox.send("mailing", mailing.pk)
        mailing.refresh_from_db()
        if outcome == outbox.SENT:
            self.stdout.write(self.style.SUCCESS(f"Sent the monthly cap report for {mailing.period}."))
        elif outcome == outbox.SKIPPED:
            self.stdout.write(f"The report for {mailing.period} is being sent by a worker right now.")
        else:
            raise CommandError(
                f"Could not send the report for {mailing.period}: {mailing.last_error} "
                "It stays pending and will be retried by the worker."
            )
