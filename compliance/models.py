"""The policy on the facts: annual caps, alerts and who hears of them.

Domain words
- An *annual cap* (年度上限) limits what a transaction category may use in one *period*. Periods
  follow the agreement's dates, not calendar years: any start and end day, inside the category's
  term, never overlapping another period of the same category. Its amount is in the category's
  currency.
- *Committed*: what approved, uncancelled orders allocate to the period; *actual*: their invoices
  dated in it; *headroom* (remaining): the cap less the larger of the two. Computed, never stored
  (compliance.selectors).
- An *alert* is recorded once per cap, threshold and basis (actual or committed) when the figure
  reaches the threshold (80% by default, further thresholds in AlertThreshold), in the same
  transaction as the change. It is also the outbox for its e-mail: `sent_at` stays empty until sent.

Invariants: positive amounts and thresholds; period end on or after start; one alert per cap,
threshold and basis (UniqueConstraint); no overlapping periods in a category (an exclusion constraint
on PostgreSQL, migration 0002, and compliance.services everywhere); periods inside the term
(compliance.services). Financial rows are never cascade-deleted (PROTECT).
"""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from simple_history.models import HistoricalRecords

from transactions.models import PurchaseOrder, TransactionCategory
from transactions.money import MONEY, mul_div_round, positive_money

PERCENT = {"max_digits": 7, "decimal_places": 2}


class AnnualCap(models.Model):
    category = models.ForeignKey(TransactionCategory, on_delete=models.PROTECT, related_name="caps")
    period_start = models.DateField()
    period_end = models.DateField()
    amount = models.DecimalField(**MONEY, validators=[positive_money], help_text="In the category's currency.")
    history = HistoricalRecords()

    class Meta:
        ordering = ["category", "period_start"]
        verbose_name = "annual cap"
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="cap_amount_positive"),
            models.CheckConstraint(condition=Q(period_end__gte=F("period_start")), name="cap_period_ends_after_start"),
            models.UniqueConstraint(fields=["category", "period_start"], name="cap_period_start_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.category}: {self.period_start} to {self.period_end}"

    def clean(self) -> None:
        if self.period_start and self.period_end and self.period_end < self.period_start:
            raise ValidationError({"period_end": "The period must end on or after it starts."})

    def covers(self, day) -> bool:
        return self.period_start <= day <= self.period_end

    # Utilisation, on caps from compliance.selectors.caps_with_utilisation (which annotates
    # `committed` and `actual`); reading them on a plain cap is a programming error.
    @property
    def used(self) -> Decimal:
        """The larger of committed and actual: what the cap's headroom is measured against."""
        return max(self.committed, self.actual)

    @property
    def remaining(self) -> Decimal:
        return self.amount - self.used

    @property
    def committed_pct(self) -> Decimal:
        return mul_div_round(self.committed, 100, self.amount)

    @property
    def actual_pct(self) -> Decimal:
        return mul_div_round(self.actual, 100, self.amount)

    @property
    def used_pct(self) -> Decimal:
        return mul_div_round(self.used, 100, self.amount)


class AlertThreshold(models.Model):
    """A utilisation percentage at which every cap raises an alert (80% always exists)."""

    percent = models.DecimalField(**PERCENT, unique=True)
    description = models.CharField(max_length=200, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["percent"]
        constraints = [
            models.CheckConstraint(condition=Q(percent__gt=0) & Q(percent__lte=1000), name="threshold_percent_range"),
        ]

    def __str__(self) -> str:
        return f"{self.percent}%"


class AlertRecipient(models.Model):
    """Who is e-mailed when a cap reaches a threshold."""

    threshold = models.DecimalField(**PERCENT)
    email = models.EmailField()
    name = models.CharField(max_length=200, blank=True, help_text="e.g. Head of finance")
    history = HistoricalRecords()

    class Meta:
        ordering = ["threshold", "email"]
        constraints = [
            models.UniqueConstraint(fields=["threshold", "email"], name="alert_recipient_unique"),
            models.CheckConstraint(condition=Q(threshold__gt=0), name="alert_recipient_threshold_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.threshold}%: {self.email}"


class Alert(models.Model):
    class Basis(models.TextChoices):
        ACTUAL = "actual", "Actual"
        COMMITTED = "committed", "Committed"

    cap = models.ForeignKey(AnnualCap, on_delete=models.PROTECT, related_name="alerts")
    threshold = models.DecimalField(**PERCENT)
    basis = models.CharField(max_length=16, choices=Basis.choices)
    # The figures when the threshold was reached, kept as evidence.
    utilisation_pct = models.DecimalField(**PERCENT)
    used_amount = models.DecimalField(**MONEY)
    cap_amount = models.DecimalField(**MONEY)
    triggered_by = models.ForeignKey(
        PurchaseOrder,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The order whose approval or invoice reached the threshold, when there was one.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    send_attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["cap", "threshold", "basis"], name="alert_once_per_cap_threshold_basis"),
            models.CheckConstraint(condition=Q(basis__in=["actual", "committed"]), name="alert_basis_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.cap}: {self.basis} reached {self.threshold}%"
