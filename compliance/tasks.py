"""Celery tasks: thin wrappers that take ids, call a service and record the run.

Every task is idempotent (the outbox claim, unique constraints), so late acknowledgement is safe: a
task whose worker dies is delivered again and does no harm.
"""

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from compliance.delivery import outbox
from compliance.jobs import mailings, reconciliation, runs, sweeps


@shared_task(acks_late=True, ignore_result=True)
def send_pending() -> dict[str, int]:
    with runs.job_run("send-pending") as run:
        outcome = outbox.send_due()
        run.summary = ", ".join(f"{count} {what}" for what, count in outcome.items())
    return outcome


@shared_task(acks_late=True, ignore_result=True)
def sweep_thresholds() -> int:
    with runs.job_run("threshold-sweep") as run:
        recorded = sweeps.record_missing_alerts()
        run.summary = f"{recorded} alerts recorded"
    return recorded


@shared_task(acks_late=True, ignore_result=True)
def sweep_quote_rule() -> dict[str, int]:
    with runs.job_run("quote-rule-sweep") as run:
        counts = sweeps.sweep_quote_rule()
        run.summary = f"{counts['open']} open findings ({counts['opened']} new, {counts['cleared']} cleared)"
    return counts


@shared_task(acks_late=True, ignore_result=True)
def mail_quote_rule_report() -> int:
    with runs.job_run("quote-rule-report") as run:
        mailing, created = mailings.quote_rule_mailing()
        run.summary = f"{mailing} {'queued' if created else 'already recorded'}"
    return mailing.pk


@shared_task(acks_late=True, ignore_result=True)
def forecast_headroom() -> int:
    with runs.job_run("headroom-forecast") as run:
        warnings = sweeps.forecast_headroom()
        run.summary = f"{len(warnings)} insufficient-headroom warnings recorded"
    return len(warnings)


@shared_task(acks_late=True, ignore_result=True)
def watch_terms() -> int:
    with runs.job_run("term-watch") as run:
        warnings = sweeps.watch_terms()
        run.summary = f"{len(warnings)} term warnings recorded"
    return len(warnings)


@shared_task(acks_late=True, ignore_result=True)
def mail_monthly_report() -> int:
    with runs.job_run("monthly-report") as run:
        mailing, created = mailings.monthly_mailing(month=mailings.previous_month(timezone.localdate()))
        run.summary = f"{mailing} {'queued' if created else 'already recorded'}"
    return mailing.pk


@shared_task(acks_late=True, ignore_result=True)
def reconcile_caps() -> int:
    with runs.job_run("reconciliation") as run:
        differences, _ = reconciliation.reconcile_caps()
        run.summary = f"{len(differences)} caps differ" if differences else "every cap reconciles"
    return len(differences)


# A million rows take minutes: more than the default limit of a task.
@shared_task(acks_late=True, ignore_result=True, time_limit=3 * 3600, soft_time_limit=3 * 3600 - 60)
def run_import(import_id: int) -> str:
    from compliance.imports.engine import import_run

    imp = import_run(import_id)
    return "already claimed" if imp is None else imp.status


@shared_task(acks_late=True, ignore_result=True, time_limit=3 * 3600, soft_time_limit=3 * 3600 - 60)
def sweep_imports() -> int:
    from compliance.imports.services import imports_fail_abandoned, imports_run_queued

    with runs.job_run("imports-sweep") as run:
        failed = imports_fail_abandoned()
        ran = imports_run_queued()
        run.summary = f"{ran} queued imports run, {failed} abandoned by their worker failed"
    return ran


# Not acks_late: a report can outlast the broker's visibility timeout, and a second delivery would wait
# for nothing (the job is claimed once). A job whose worker dies is failed by the sweep, to be asked again.
@shared_task(ignore_result=True, time_limit=settings.CCT_REPORT_JOB_TIME_LIMIT, soft_time_limit=None)
def build_report(pk: int) -> str:
    from compliance.jobs.report_jobs import report_job_build

    return report_job_build(pk)


@shared_task(acks_late=True, ignore_result=True)
def sweep_report_jobs() -> dict[str, int]:
    from compliance.jobs.report_jobs import sweep_report_jobs as sweep

    with runs.job_run("report-jobs") as run:
        outcome = sweep()
        run.summary = f"{outcome['requeued']} queued again, {outcome['failed']} failed"
    return outcome


@shared_task(acks_late=True, ignore_result=True)
def build_evidence_binder(pk: int) -> str:
    from compliance.evidence.binders import evidence_binder_build

    return evidence_binder_build(binder_id=pk)


@shared_task(acks_late=True, ignore_result=True)
def monitoring_reminders() -> str:
    from compliance.evidence.binders import stale_binders_build
    from compliance.evidence.monitoring import auditor_letter_reminders, signoff_reminder

    with runs.job_run("monitoring-reminders") as run:
        _mailing, signoff = signoff_reminder()
        letters = auditor_letter_reminders()
        binders = stale_binders_build()
        run.summary = (
            f"sign-off reminder {'queued' if signoff else 'not due'}; {len(letters)} auditors' letter reminders; "
            f"{binders} stale evidence binders built"
        )
    return run.summary


@shared_task(acks_late=True, ignore_result=True)
def send_outbox_item(kind: str, pk: int) -> str:
    """Send one outbox row (queued by name by compliance.common.queue.enqueue after the commit that recorded it)."""
    return outbox.send(kind, pk)
