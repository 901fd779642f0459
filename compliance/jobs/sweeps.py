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
(compliance.delivery.outbox); the pending sweep delivers anything the queue missed.
"""

import datetime
import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from compliance.alerts.breaches import breaches_record
from compliance.alerts.recording import alerts_record
from compliance.caps.approval import quote_rule_refusal
from compliance.caps.ledger import totals_lock
from compliance.common import queue
from compliance.models import AnnualCap, Breach, HeadroomWarning, QuoteRuleException, QuoteRuleFinding, TermWarning
from compliance.rules.forecast import forecast_cap
from compliance.rules.quote_exceptions import quote_rule_exception_list
from compliance.rules.selectors import (
    assess_quote_rule,
    caps_with_utilisation,
    live_caps_for_forecast,
    quote_rule_rates,
)
from compliance.rules.terms import category_terms
from transactions.models import PurchaseOrder, TransactionCategory
from transactions.selectors import RateBook

log = logging.getLogger(__name__)


def breaches_sweep(*, cap_ids: list[int]) -> list[Breach]:
    """The safety net (the threshold sweep): lock the caps' totals and open any breach missing."""
    totals_lock(cap_ids)
    caps = list(caps_with_utilisation(AnnualCap.objects.filter(pk__in=cap_ids)))
    return breaches_record(caps=caps)


def record_missing_alerts(*, on: datetime.date | None = None) -> int:
    """Threshold sweep over the caps live on `on` (today): how many alerts it recorded. It also opens any
    breach a cap above its amount is missing (compliance.alerts.breaches)."""
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
        transaction.on_commit(lambda: queue.enqueue("headroom", ids))
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
        transaction.on_commit(lambda: queue.enqueue("term", ids))
    return recorded
