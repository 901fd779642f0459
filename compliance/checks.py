"""The periodic checks behind the internal controls, each idempotent (safe to run again at any time):

- threshold sweep: records any alert a live cap has reached without an approval or invoice noticing
  (a corrected exchange rate, an edited invoice);
- quote-rule sweep: re-checks approved orders against the quote rule as the facts stand today and
  keeps one open finding per failing order;
- headroom forecast: warns senior management once per cap when, at the pace so far, the cap will not
  last until its period ends;
- term watch: warns compliance once per term when a category's term ends within 90 days;
- scheduled mailings: the monthly cap report and the weekly quote-rule exceptions, once per period;
- reconciliation: each cap's running totals against the sums of its ledger entries, and those against
  a recomputation from its orders, invoices and credit notes; any difference is e-mailed to compliance.

Each records what it creates in the same transaction and queues the e-mail after commit
(compliance.outbox); the pending sweep delivers anything the queue missed.
"""

import contextlib
import datetime
import io
import logging
from collections.abc import Iterator
from decimal import Decimal

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Sum
from django.template.loader import render_to_string
from django.utils import timezone

from transactions.models import PurchaseOrder, TransactionCategory
from transactions.money import format_money
from transactions.selectors import RateBook

from . import outbox
from .breaches import breaches_record
from .forecast import forecast_cap
from .ledger import totals_lock
from .models import (
    AnnualCap,
    Breach,
    HeadroomWarning,
    IssuedReport,
    JobRun,
    LedgerEntry,
    Mailing,
    QuoteRuleException,
    QuoteRuleFinding,
    TermWarning,
)
from .quote_exceptions import quote_rule_exception_list
from .reports.issued import issued_report_record
from .reports.monthly import monthly_report_filename, write_monthly_report
from .selectors import (
    assess_quote_rule,
    caps_with_utilisation,
    live_caps_for_forecast,
    order_allocation,
    quote_rule_rates,
)
from .services import alerts_record, quote_rule_refusal
from .terms import category_terms

log = logging.getLogger(__name__)


@contextlib.contextmanager
def job_run(job: str) -> Iterator[JobRun]:
    """Record a run of a scheduled job, its outcome and summary, for the admin's job page."""
    run = JobRun.objects.create(job=job, started_at=timezone.now())
    try:
        yield run
    except Exception as error:
        run.succeeded, run.summary = False, f"{type(error).__name__}: {error}"[:2000]
        raise
    else:
        run.succeeded = True
    finally:
        run.finished_at = timezone.now()
        run.save(update_fields=["succeeded", "summary", "finished_at"])


def breaches_sweep(*, cap_ids: list[int]) -> list[Breach]:
    """The safety net (the threshold sweep): lock the caps' totals and open any breach missing."""
    totals_lock(cap_ids)
    caps = list(caps_with_utilisation(AnnualCap.objects.filter(pk__in=cap_ids)))
    return breaches_record(caps=caps)


def record_missing_alerts(*, on: datetime.date | None = None) -> int:
    """Threshold sweep over the caps live on `on` (today): how many alerts it recorded. It also opens any
    breach a cap above its amount is missing (compliance.breaches)."""
    on = on or timezone.localdate()
    cap_ids = list(AnnualCap.objects.filter(period_start__lte=on, period_end__gte=on).values_list("pk", flat=True))
    with transaction.atomic():
        breaches_sweep(cap_ids=cap_ids)
        return len(alerts_record(cap_ids=cap_ids))


def sweep_quote_rule() -> dict[str, int]:
    """Re-check every approved order; open a finding for each that fails, clear those that pass again.

    A fixed number of queries: the orders, their quotes with suppliers, the rates, the open findings.
    """
    orders = list(
        PurchaseOrder.objects.filter(status=PurchaseOrder.Status.APPROVED)
        .select_related("category", "counterparty")
        .prefetch_related("quotes__supplier__connected_person")
    )
    # An order let through by an approved quote-rule exception is documented, not an exception found.
    excepted = {
        exception.purchase_order_id
        for exception in quote_rule_exception_list().filter(status=QuoteRuleException.Status.APPROVED)
        if exception.covers(exception.purchase_order)
    }
    rates = RateBook([key for o in orders for key in quote_rule_rates(o, list(o.quotes.all()), o.category.currency)])
    now = timezone.now()
    counts = {"opened": 0, "cleared": 0, "open": 0}
    with transaction.atomic():
        open_findings = {
            f.purchase_order_id: f for f in QuoteRuleFinding.objects.select_for_update().filter(cleared_at__isnull=True)
        }
        failing: dict[int, str] = {}
        for order in orders:
            if order.pk in excepted:
                continue
            result = assess_quote_rule(order, list(order.quotes.all()), rates, order.category)
            refusal = quote_rule_refusal(order, result, order.category)
            if refusal is not None:
                failing[order.pk] = refusal.detail
        new = [
            QuoteRuleFinding(purchase_order_id=pk, detail=detail, last_seen_at=now)
            for pk, detail in failing.items()
            if pk not in open_findings
        ]
        QuoteRuleFinding.objects.bulk_create(new)
        QuoteRuleFinding.objects.filter(purchase_order_id__in=failing.keys(), cleared_at__isnull=True).update(
            last_seen_at=now
        )
        cleared = [f.pk for pk, f in open_findings.items() if pk not in failing]
        QuoteRuleFinding.objects.filter(pk__in=cleared).update(cleared_at=now)
    counts.update(opened=len(new), cleared=len(cleared), open=len(failing))
    return counts


def forecast_headroom(*, on: datetime.date | None = None) -> list[HeadroomWarning]:
    """Warn once per cap whose forecast is insufficient; returns the warnings recorded now."""
    on = on or timezone.localdate()
    recorded = []
    with transaction.atomic():
        warned = set(HeadroomWarning.objects.values_list("cap_id", flat=True))
        for cap in live_caps_for_forecast(on=on):
            if cap.pk in warned:
                continue
            forecast = forecast_cap(
                period_start=cap.period_start,
                period_end=cap.period_end,
                cap_amount=cap.amount,
                as_of=on,
                actual=cap.actual,
                committed=cap.committed,
                actual_one_off=cap.actual_one_off,
                min_days=settings.CCT_FORECAST_MIN_DAYS,
            )
            if forecast.insufficient:
                warning, created = HeadroomWarning.objects.get_or_create(
                    cap=cap,
                    defaults={
                        "as_of": on,
                        "cap_amount": cap.amount,
                        "actual": cap.actual,
                        "committed": cap.committed,
                        "projected_actual": forecast.projected_actual,
                        "projected_committed": forecast.projected_committed,
                        "projected_reached_on": forecast.reached_on,
                    },
                )
                if created:
                    recorded.append(warning)
        ids = [w.pk for w in recorded]
        transaction.on_commit(lambda: outbox.enqueue("headroom", ids))
    return recorded


def watch_terms(*, on: datetime.date | None = None) -> list[TermWarning]:
    """Warn once per term that ends within CCT_TERM_WARNING_DAYS of `on` with no later term (renewal)
    recorded after it."""
    on = on or timezone.localdate()
    horizon = on + datetime.timedelta(days=settings.CCT_TERM_WARNING_DAYS)
    recorded = []
    with transaction.atomic():
        for category in TransactionCategory.objects.prefetch_related("renewals"):
            last_day = max(term.end for term in category_terms(category, renewals=list(category.renewals.all())))
            if on <= last_day <= horizon:
                warning, created = TermWarning.objects.get_or_create(category=category, term_end=last_day)
                if created:
                    recorded.append(warning)
        ids = [w.pk for w in recorded]
        transaction.on_commit(lambda: outbox.enqueue("term", ids))
    return recorded


def _month_end(month: datetime.date) -> datetime.date:
    following = (month.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
    return following - datetime.timedelta(days=1)


def previous_month(on: datetime.date) -> datetime.date:
    return (on.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)


def monthly_mailing(*, month: datetime.date) -> tuple[Mailing, bool]:
    """The monthly cap report mailing for `month` (any day of it), created once with its content."""
    month = month.replace(day=1)
    with transaction.atomic():
        mailing, created = Mailing.objects.get_or_create(kind=Mailing.Kind.MONTHLY_REPORT, period=f"{month:%Y-%m}")
        if created:
            month_end = _month_end(month)
            caps = caps_with_utilisation(
                AnnualCap.objects.filter(period_start__lte=month_end, period_end__gte=month), as_of=month_end
            ).order_by("category__agreement__title", "category__name", "period_start")
            rows = [
                {
                    "cap": cap,
                    "agreement": cap.category.agreement.title,
                    "category": str(cap.category),
                    "cap_amount": format_money(cap.amount, cap.category.currency),
                    "actual": format_money(cap.actual, cap.category.currency),
                    "committed": format_money(cap.committed, cap.category.currency),
                    "remaining": format_money(cap.remaining, cap.category.currency),
                }
                for cap in caps
            ]
            # The workbook is the report; the body repeats its summary for a reader without Excel.
            workbook = io.BytesIO()
            write_monthly_report(month, workbook)
            mailing.attachment_name = monthly_report_filename(month)
            mailing.attachment.save(mailing.attachment_name, ContentFile(workbook.getvalue()), save=False)
            context = {"month": month, "month_end": month_end, "rows": rows, "attachment_name": mailing.attachment_name}
            mailing.subject = f"Monthly cap report {month:%Y-%m} · 每月年度上限報告"
            mailing.body = render_to_string("compliance/mail/monthly.txt", context).strip() + "\n"
            mailing.body_html = render_to_string("compliance/mail/monthly.html", context)
            mailing.save()
            # Kept as issued, for the auditors' binder.
            issued_report_record(
                kind=IssuedReport.Kind.MONTHLY, period=f"{month:%Y-%m}", filename=mailing.attachment_name,
                content=io.BytesIO(workbook.getvalue()), how=IssuedReport.How.EMAIL,
                issued_to="The lists that receive the monthly cap report", mailing=mailing,
            )  # fmt: skip
            transaction.on_commit(lambda: outbox.enqueue("mailing", [mailing.pk]))
    return mailing, created


def quote_rule_mailing(*, on: datetime.date | None = None) -> tuple[Mailing, bool]:
    """The weekly e-mail to compliance of the open quote-rule findings, once per ISO week."""
    on = on or timezone.localdate()
    year, week, _ = on.isocalendar()
    period = f"{year}-W{week:02d}"
    with transaction.atomic():
        mailing, created = Mailing.objects.get_or_create(kind=Mailing.Kind.QUOTE_RULE_REPORT, period=period)
        if created:
            findings = QuoteRuleFinding.objects.filter(cleared_at__isnull=True).select_related(
                "purchase_order__category"
            )
            context = {"period": period, "findings": list(findings)}
            mailing.subject = f"Quote-rule exceptions, week {period} · 報價規則例外"
            mailing.body = render_to_string("compliance/mail/quote_rule_report.txt", context).strip() + "\n"
            mailing.body_html = render_to_string("compliance/mail/quote_rule_report.html", context)
            mailing.save()
            transaction.on_commit(lambda: outbox.enqueue("mailing", [mailing.pk]))
    return mailing, created


def recompute_caps() -> dict[int, tuple[Decimal, Decimal]]:
    """Every cap's (committed, actual) recomputed in Python from the documents themselves, by the rules of
    contract v2 and independently of the ledger: the allocation of approved orders; every invoice, whatever
    its order's status, less its credit notes. A fixed number of queries."""
    caps_by_category: dict[int, list[AnnualCap]] = {}
    for cap in AnnualCap.objects.order_by("period_start"):
        caps_by_category.setdefault(cap.category_id, []).append(cap)
    orders = list(PurchaseOrder.objects.select_related("category").prefetch_related("invoices__credit_notes"))
    rates = RateBook(
        [(o.currency, o.category.currency, o.order_date) for o in orders]
        + [(i.currency, o.category.currency, i.invoice_date) for o in orders for i in o.invoices.all()]
        + [
            (n.currency, o.category.currency, n.credit_date)
            for o in orders
            for i in o.invoices.all()
            for n in i.credit_notes.all()
        ]
    )
    totals = {cap.pk: [Decimal("0.00"), Decimal("0.00")] for caps in caps_by_category.values() for cap in caps}

    def add_actual(caps, amount, currency, target, day, sign=1):
        converted = rates.convert(amount, currency, target, day)
        cap = next((c for c in caps if c.covers(day)), None)
        if cap is not None and converted is not None:
            totals[cap.pk][1] += sign * converted

    for order in orders:
        caps = caps_by_category.get(order.category_id, [])
        target = order.category.currency
        converted = rates.convert(order.amount, order.currency, target, order.order_date)
        if order.status == PurchaseOrder.Status.APPROVED and converted is not None:
            for share in order_allocation(order, converted, caps):
                if share.cap is not None:
                    totals[share.cap.pk][0] += share.amount
        for invoice in order.invoices.all():
            add_actual(caps, invoice.amount, invoice.currency, target, invoice.invoice_date)
            for note in invoice.credit_notes.all():
                add_actual(caps, note.amount, note.currency, target, note.credit_date, sign=-1)
    return {pk: (committed, actual) for pk, (committed, actual) in totals.items()}


def ledger_sums() -> dict[int, tuple[Decimal, Decimal]]:
    """Every cap's (committed, actual) as the sums of its ledger entries (one query)."""
    sums: dict[int, list[Decimal]] = {}
    rows = LedgerEntry.objects.order_by().values("cap_id", "basis").annotate(total=Sum("amount"))
    for cap_id, basis, total in rows.values_list("cap_id", "basis", "total"):
        sums.setdefault(cap_id, [Decimal("0.00"), Decimal("0.00")])[0 if basis == "committed" else 1] = total
    return {cap_id: (committed, actual) for cap_id, (committed, actual) in sums.items()}


def _figures(committed: Decimal, actual: Decimal, currency: str) -> str:
    return f"committed {format_money(committed, currency)}, actual {format_money(actual, currency)}"


def reconcile_caps(*, on: datetime.date | None = None) -> tuple[list[dict], Mailing | None]:
    """The ledger's two invariants, for every cap: the running totals the product reports equal the sums
    of its entries, and the entries equal what the documents say (recomputed from the orders, invoices
    and credit notes). Any difference is e-mailed to the lists that take reconciliation differences
    (once per day)."""
    on = on or timezone.localdate()
    recomputed = recompute_caps()
    entries = ledger_sums()
    zero = (Decimal("0.00"), Decimal("0.00"))
    differences = []
    for cap in sorted(caps_with_utilisation(), key=lambda c: (c.category.name, c.period_start)):
        committed, actual = recomputed.get(cap.pk, zero)
        in_entries = entries.get(cap.pk, zero)
        if (cap.committed, cap.actual) != (committed, actual) or in_entries != (committed, actual):
            currency = cap.category.currency
            differences.append(
                {
                    "cap": cap,
                    "reported": _figures(cap.committed, cap.actual, currency)
                    + f" (ledger entries: {_figures(*in_entries, currency)})",
                    "recomputed": _figures(committed, actual, currency),
                }
            )
    if not differences:
        return [], None
    with transaction.atomic():
        mailing, created = Mailing.objects.get_or_create(kind=Mailing.Kind.RECONCILIATION, period=on.isoformat())
        if created:
            context = {"on": on, "differences": differences}
            mailing.subject = f"Cap figures do not reconcile ({on}) · 年度上限數字核對差異"
            mailing.body = render_to_string("compliance/mail/reconciliation.txt", context).strip() + "\n"
            mailing.body_html = render_to_string("compliance/mail/reconciliation.html", context)
            mailing.save()
            transaction.on_commit(lambda: outbox.enqueue("mailing", [mailing.pk]))
    return differences, mailing
