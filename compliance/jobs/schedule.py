"""The schedule of the background jobs: the one place it is defined (Celery beat reads it, the admin's
"Background jobs" page shows it). Times are in TIME_ZONE (Hong Kong by default)."""

from dataclasses import dataclass

from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Job:
    name: str
    task: str
    schedule: crontab
    when: str
    why: str


JOBS = [
    Job("send-pending", "compliance.tasks.send_pending", crontab(minute="*"), _("every minute"),
        _("E-mails any alert, warning or report still unsent (the queue was down, a worker died, the mail "
        "server refused), each no sooner than its backoff allows.")),
    Job("imports-sweep", "compliance.tasks.sweep_imports", crontab(minute="*/5"), _("every 5 minutes"),
        _("Runs any import still queued a few minutes after its upload (its task lost with the queue), and fails "
        "one whose worker stopped while running it (no heartbeat for 5 minutes; nothing of it was written).")),
    Job("report-jobs", "compliance.tasks.sweep_report_jobs", crontab(minute="*"), _("every minute"),
        _("Queues again any report job whose message was lost, and fails one whose worker stopped while building "
        "it (it can then be asked for again).")),
    Job("threshold-sweep", "compliance.tasks.sweep_thresholds", crontab(minute="*/10"), _("every 10 minutes"),
        _("Records any alert a live cap has reached without an approval or invoice noticing, such as after a "
        "corrected exchange rate.")),
    Job("quote-rule-sweep", "compliance.tasks.sweep_quote_rule", crontab(hour=2, minute=0), _("daily at 02:00"),
        _("Re-checks approved orders against the quote rule as the facts stand today (e.g. a supplier later "
        "found to be connected).")),
    Job("quote-rule-report", "compliance.tasks.mail_quote_rule_report", crontab(day_of_week="mon", hour=8, minute=0),
        _("Mondays at 08:00"), _("E-mails compliance the open quote-rule exceptions of the week.")),
    Job("headroom-forecast", "compliance.tasks.forecast_headroom", crontab(hour=6, minute=0), _("daily at 06:00"),
        _("Projects each live cap to its period end and warns senior management once if it will not last.")),
    Job("term-watch", "compliance.tasks.watch_terms", crontab(hour=6, minute=15), _("daily at 06:15"),
        _("Warns compliance once when a category's term ends within 90 days.")),
    Job("reconciliation", "compliance.tasks.reconcile_caps", crontab(hour=5, minute=30), _("daily at 05:30"),
        _("Recomputes each cap's committed and actual amounts from its orders and invoices and e-mails compliance "
        "any difference from the figures the product reports.")),
    Job("monthly-report", "compliance.tasks.mail_monthly_report", crontab(day_of_month=1, hour=7, minute=0),
        _("on the 1st of each month at 07:00"), _("E-mails the previous month's cap report to the finance and "
        "management lists.")),
    Job("monitoring-reminders", "compliance.tasks.monitoring_reminders", crontab(hour=9, minute=0), _("daily at 09:00"),
        _("On the 5th Hong Kong business day, reminds finance once if last month is not signed off; reminds the "
        "auditors' timetable lists ten and three business days before the auditors' letter is due (Rule 14A.57); "
        "builds any evidence binder whose task was lost.")),
]  # fmt: skip


def beat_schedule() -> dict[str, dict]:
    return {job.name: {"task": job.task, "schedule": job.schedule} for job in JOBS}
