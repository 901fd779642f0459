"""Annual caps and the cap ledger: the caps by period, their running totals and the ledger's entries."""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from transactions.audit import AuditedManager
from transactions.models import (
    CreditNote,
    ExchangeRate,
    Invoice,
    PurchaseOrder,
    TransactionCategory,
)
from transactions.money import MONEY, mul_div_round, positive_money

PERCENT = {"max_digits": 7, "decimal_places": 2}


class AnnualCap(models.Model):
    class Status(models.TextChoices):
        OK = "ok", _("Within cap")
        WARNING = "warning", _("At or above the alert threshold")
        AT_CAP = "at_cap", _("At cap")
        EXCEEDED = "exceeded", _("Exceeded")

    category = models.ForeignKey(
        TransactionCategory, on_delete=models.PROTECT, related_name="caps", verbose_name=_("category")
    )
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    amount = models.DecimalField(
        _("amount"), **MONEY, validators=[positive_money], help_text=_("In the category's currency.")
    )
    objects = AuditedManager()
    history = HistoricalRecords()

    class Meta:
        verbose_name_plural = _("annual caps")
        ordering = ["category", "period_start"]
        verbose_name = _("annual cap")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="cap_amount_positive"),
            models.CheckConstraint(condition=Q(period_end__gte=F("period_start")), name="cap_period_ends_after_start"),
            models.UniqueConstraint(fields=["category", "period_start"], name="cap_period_start_unique"),
        ]

    def __str__(self) -> str:
        return gettext("%(category)s: %(start)s to %(end)s") % {
            "category": self.category, "start": self.period_start, "end": self.period_end,
        }  # fmt: skip

    def clean(self) -> None:
        if self.period_start and self.period_end and self.period_end < self.period_start:
            raise ValidationError({"period_end": _("The period must end on or after it starts.")})

    def covers(self, day) -> bool:
        return self.period_start <= day <= self.period_end

    @property
    def status(self) -> str:
        """ok, warning (at or above the first alert threshold), at_cap (used exactly the amount) or
        exceeded (used above it); on caps from caps_with_utilisation."""
        used = self.used
        if used > self.amount:
            return self.Status.EXCEEDED
        if used == self.amount:
            return self.Status.AT_CAP
        first = getattr(self, "first_threshold", None) or settings.CCT_DEFAULT_ALERT_THRESHOLD
        return self.Status.WARNING if used * 100 >= first * self.amount else self.Status.OK

    # Utilisation, on caps from compliance.rules.selectors.caps_with_utilisation (which annotates
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


class CapTotals(models.Model):
    """The running totals of a cap's ledger: always the sums of its entries (compliance.caps.ledger changes
    them in the same transaction as the entries, with this row locked). Not audited itself: the ledger
    is the record. `exceeded_on` is the first business date the larger of the two went above the cap's
    amount, kept once found (a later revision does not undo a breach)."""

    cap = models.OneToOneField(
        AnnualCap, on_delete=models.PROTECT, primary_key=True, related_name="totals", verbose_name=_("cap")
    )
    committed = models.DecimalField(_("committed"), **MONEY, default=0)
    actual = models.DecimalField(_("actual"), **MONEY, default=0)
    exceeded_on = models.DateField(_("exceeded on"), null=True, blank=True)

    class Meta:
        verbose_name = _("cap totals")
        verbose_name_plural = _("cap totals")

    def __str__(self) -> str:
        return f"{self.cap}: committed {self.committed}, actual {self.actual}"


class LedgerEntry(models.Model):
    """One change to a cap's committed or actual figure, in the cap's currency, on a business date.
    Append-only: never updated or deleted (a PostgreSQL trigger refuses both)."""

    class Basis(models.TextChoices):
        COMMITTED = "committed", _("Committed")
        ACTUAL = "actual", _("Actual")

    class Kind(models.TextChoices):
        COMMITMENT = "commitment", _("Commitment")
        WITHDRAWAL = "withdrawal", _("Withdrawal")
        INVOICE = "invoice", _("Invoice")
        CREDIT_NOTE = "credit_note", _("Credit note")
        REVALUATION = "revaluation", _("Revaluation")

    # No index of its own on `cap` or `purchase_order`: ledger_cap_date and ledger_order_cap begin with them
    # (each index is one more write per entry, and an import writes a million entries).
    cap = models.ForeignKey(
        AnnualCap, on_delete=models.PROTECT, related_name="ledger_entries", verbose_name=_("cap"), db_index=False
    )
    entry_date = models.DateField(
        _("entry date"), help_text=_("The business date: order date, invoice date, credit date, rate date.")
    )
    basis = models.CharField(_("basis"), max_length=16, choices=Basis.choices)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    amount = models.DecimalField(_("amount"), **MONEY, help_text=_("Signed, in the cap's currency."))
    purchase_order = models.ForeignKey(
        PurchaseOrder,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ledger_entries",
        verbose_name=_("purchase order"),
        db_index=False,
    )
    invoice = models.ForeignKey(
        Invoice,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ledger_entries",
        verbose_name=_("invoice"),
    )
    credit_note = models.ForeignKey(
        CreditNote,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ledger_entries",
        verbose_name=_("credit note"),
    )
    exchange_rate = models.ForeignKey(
        ExchangeRate, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        help_text=_("The corrected rate a revaluation follows."), verbose_name=_("exchange rate"),
    )  # fmt: skip
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )

    class Meta:
        ordering = ["cap", "entry_date", "id"]
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        indexes = [
            models.Index(fields=["cap", "entry_date"], name="ledger_cap_date"),
            models.Index(fields=["purchase_order", "cap"], name="ledger_order_cap"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(basis__in=["committed", "actual"]), name="ledger_basis_valid"),
            models.CheckConstraint(
                condition=Q(basis="committed", kind__in=["commitment", "withdrawal", "revaluation"])
                | Q(basis="actual", kind__in=["invoice", "credit_note", "revaluation"]),
                name="ledger_kind_matches_basis",
            ),
            models.CheckConstraint(
                condition=~Q(basis="committed") | Q(purchase_order__isnull=False), name="ledger_commitment_has_order"
            ),
            models.CheckConstraint(
                condition=~Q(basis="actual") | Q(invoice__isnull=False), name="ledger_actual_has_invoice"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.entry_date} {self.kind} {self.amount}"

    @property
    def document(self) -> str:
        """The document the entry comes from, as the API shows it: "purchase_order:42", "invoice:7"."""
        if self.credit_note_id:
            return f"credit_note:{self.credit_note_id}"
        if self.invoice_id:
            return f"invoice:{self.invoice_id}"
        return f"purchase_order:{self.purchase_order_id}"
