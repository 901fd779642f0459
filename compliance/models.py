"""The policy on the facts: annual caps, alerts and who hears of them.

Domain words
- An *annual cap* (年度上限) limits what a transaction category may use in one *period*. Periods
  follow the agreement's dates, not calendar years: any start and end day, inside the category's
  term, never overlapping another period of the same category. Its amount is in the category's
  currency.
- *Committed*: what approved orders allocate to the period (withdrawn again from a cancellation's
  effective day); *actual*: every invoice dated in it, whatever its order's status, less credit
  notes; *headroom* (remaining): the cap less the larger of the two.
- The *cap ledger* (LedgerEntry) records every change to those figures as an entry on a business
  date: commitment, withdrawal, invoice, credit note, revaluation. Entries are never changed or
  deleted (a trigger refuses it on PostgreSQL, migration 0009): a correction is a new entry. The
  figures as at a day are the sums of the entries dated on or before it; today's are kept as running
  totals (CapTotals) changed only together with the entries, under the totals' row lock
  (compliance.ledger).
- A cap's amount is effective-dated: a completed revision takes effect on the date of its last
  required step (CapRevision.effective_on); before it the previous amount applied.
- An *alert* is recorded once per cap, threshold and basis (actual or committed) when the figure
  reaches the threshold (80% by default, further thresholds in AlertThreshold), in the same
  transaction as the change. It is also the outbox for its e-mail: `sent_at` stays empty until sent.
- A *breach* is recorded when a cap's committed or actual amount goes above its amount, in the same
  transaction as the change (compliance.breaches, from compliance.ledger.cap_figures_changed): at most
  one open per cap (a partial UniqueConstraint), then announced and re-complied with (who and when kept
  for each step, CheckConstraints). It is the outbox of its e-mail to the lists that receive breaches.

Invariants: positive amounts and thresholds; period end on or after start; one alert per cap,
threshold and basis (UniqueConstraint); no overlapping periods in a category (an exclusion constraint
on PostgreSQL, migration 0002, and compliance.services everywhere); periods inside the term
(compliance.services). Financial rows are never cascade-deleted (PROTECT).

Delivery and periodic checks
- Alerts, insufficient-headroom warnings, term warnings and the scheduled mailings are *outbox* rows
  (Outbox): recorded with the change, then e-mailed once by compliance.outbox, which claims a row with
  a conditional update; `sent_at` stays empty until the mail server accepts the message.
- *Distribution lists* are named lists of addresses and say what each receives; alert recipients
  per threshold are single addresses (the API's /api/alert-recipients/).
- *Quote-rule findings* are approved orders that no longer pass the quote rule (one open finding per
  order); *job runs* record each run of a scheduled job.

Classification and the cap lifecycle
- A *financial year* holds the issuer's audited figures, the denominators of the percentage ratios
  (百分比率), as full amounts in one currency (RMB 7,785,180 thousand is 7785180000.00 CNY), and the
  market capitalisation: the average closing price of the five business days before a transaction
  date times the shares in issue, both entered with their dates (compliance.classification).
- A *cap revision* raises a cap. It is pending until every step its classification requires is
  recorded (board approval; announcement; independent shareholders' approval), and only then does its
  amount become the cap's amount, in the same transaction (compliance.revisions). Until then the old
  amount governs every gate. One pending revision per cap (UniqueConstraint). A revision proposed when
  the cap was already exceeded is kept and flagged as a breach.
- A *material change of terms* (TermsChange) changes a category's pricing basis or scope from a day on.
  Like a renewal (transactions.CategoryRenewal) it is pending until the re-compliance steps its
  classification requires are recorded (compliance.recompliance, compliance.renewals); meanwhile
  orders touching its days are refused (`recompliance_pending`) and the category keeps its terms.
  Revisions, renewals and changes of terms record the board minutes' reference, the directors who
  abstained and the announcement's reference with their steps.
- A *report job* is a report too long for a request, built by the worker (compliance.report_jobs)
  with its progress; claimed once by a conditional update, its file kept for download.
- A *quote-rule exception* lets one order through the quote rule where fewer independent quotes can
  exist: a reason, evidence, and a second person's approval. The approver is neither the requester
  (CheckConstraint) nor the order's creator (compliance.quote_exceptions); at most one open exception
  per order (UniqueConstraint).
"""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils.text import format_lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from transactions.audit import AuditedManager
from transactions.documents import (
    ALLOWED_EXTENSIONS,
    RandomName,
    evidence_storage,
    private_storage,
    validate_evidence_document,
)
from transactions.models import (
    ConnectedPerson,
    Counterparty,
    CreditNote,
    ExchangeRate,
    Invoice,
    PurchaseOrder,
    TransactionCategory,
    currency_field,
)
from transactions.money import MONEY, mul_div_round, positive_money

from .dates import day_in_words

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


class CapTotals(models.Model):
    """The running totals of a cap's ledger: always the sums of its entries (compliance.ledger changes
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

    cap = models.ForeignKey(AnnualCap, on_delete=models.PROTECT, related_name="ledger_entries", verbose_name=_("cap"))
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
            models.Index(fields=["invoice"], name="ledger_invoice"),
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


class AlertThreshold(models.Model):
    """A utilisation percentage at which every cap raises an alert (80% always exists)."""

    percent = models.DecimalField(_("percent"), **PERCENT, unique=True)
    description = models.CharField(_("description"), max_length=200, blank=True)
    objects = AuditedManager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("alert threshold")
        verbose_name_plural = _("alert thresholds")
        ordering = ["percent"]
        constraints = [
            models.CheckConstraint(condition=Q(percent__gt=0) & Q(percent__lte=1000), name="threshold_percent_range"),
        ]

    def __str__(self) -> str:
        return f"{self.percent}%"


class AlertRecipient(models.Model):
    """Who is e-mailed when a cap reaches a threshold."""

    threshold = models.DecimalField(_("threshold"), **PERCENT)
    email = models.EmailField(_("email"))
    name = models.CharField(_("name"), max_length=200, blank=True, help_text=_("e.g. Head of finance"))
    objects = AuditedManager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("alert recipient")
        verbose_name_plural = _("alert recipients")
        ordering = ["threshold", "email"]
        constraints = [
            models.UniqueConstraint(fields=["threshold", "email"], name="alert_recipient_unique"),
            models.CheckConstraint(condition=Q(threshold__gt=0), name="alert_recipient_threshold_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.threshold}%: {self.email}"


class Outbox(models.Model):
    """A row that must be e-mailed once: recorded with the change that calls for it, then delivered
    by compliance.outbox, which claims it with a conditional update (claim_token, claimed_until) so
    that concurrent workers, retries and duplicate task deliveries send it once. `sent_at` stays
    empty until the message is accepted by the mail server; failures keep it pending with the last
    error and a time for the next attempt (backoff)."""

    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    send_attempts = models.PositiveIntegerField(_("send attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    claimed_until = models.DateTimeField(_("claimed until"), null=True, blank=True)
    claim_token = models.UUIDField(_("claim token"), null=True, blank=True)

    class Meta:
        abstract = True

    @property
    def is_sent(self) -> bool:
        return self.sent_at is not None


class Alert(Outbox):
    class Basis(models.TextChoices):
        ACTUAL = "actual", _("Actual")
        COMMITTED = "committed", _("Committed")

    cap = models.ForeignKey(AnnualCap, on_delete=models.PROTECT, related_name="alerts", verbose_name=_("cap"))
    threshold = models.DecimalField(_("threshold"), **PERCENT)
    basis = models.CharField(_("basis"), max_length=16, choices=Basis.choices)
    # The figures when the threshold was reached, kept as evidence.
    utilisation_pct = models.DecimalField(_("utilisation pct"), **PERCENT)
    used_amount = models.DecimalField(_("used amount"), **MONEY)
    cap_amount = models.DecimalField(_("cap amount"), **MONEY)
    reached_on = models.DateField(
        _("reached on"),
        null=True,
        blank=True,
        help_text=_("The business date at which the entries first reached the threshold."),
    )
    triggered_by = models.ForeignKey(
        PurchaseOrder,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("The order whose approval or invoice reached the threshold, when there was one."),
        verbose_name=_("triggered by"),
    )

    class Meta:
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        ordering = ["-created_at", "-id"]
        permissions = [("send_outbox", "Can send pending alerts, warnings and reports now")]
        indexes = [models.Index(fields=["sent_at", "next_attempt_at"], name="alert_pending")]
        constraints = [
            models.UniqueConstraint(fields=["cap", "threshold", "basis"], name="alert_once_per_cap_threshold_basis"),
            models.CheckConstraint(condition=Q(basis__in=["actual", "committed"]), name="alert_basis_valid"),
        ]

    def __str__(self) -> str:
        return gettext("%(cap)s: %(basis)s reached %(threshold)s%%") % {
            "cap": self.cap, "basis": self.get_basis_display().lower(), "threshold": self.threshold,
        }  # fmt: skip


class DistributionList(models.Model):
    """A named list of addresses (e.g. "Senior management") and what it receives."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    description = models.CharField(_("description"), max_length=300, blank=True)
    thresholds = models.ManyToManyField(
        AlertThreshold, blank=True, related_name="distribution_lists",
        help_text=_("Cap alerts at these thresholds are e-mailed to this list."), verbose_name=_("thresholds"),
    )  # fmt: skip
    monthly_report = models.BooleanField(
        _("monthly report"), default=False, help_text=_("Receives the monthly cap report.")
    )
    headroom_warnings = models.BooleanField(
        _("headroom warnings"), default=False, help_text=_("Receives insufficient-headroom warnings.")
    )
    quote_rule_report = models.BooleanField(
        _("quote rule report"), default=False, help_text=_("Receives the weekly quote-rule exceptions.")
    )
    term_warnings = models.BooleanField(
        _("term warnings"), default=False, help_text=_("Receives warnings of terms about to end.")
    )
    reconciliation = models.BooleanField(
        _("reconciliation"),
        default=False,
        help_text=_("Receives any difference found when the caps' figures are reconciled."),
    )
    breaches = models.BooleanField(
        _("breaches"), default=False, help_text=_("Receives a breach of an annual cap the moment it is recorded.")
    )
    signoff_reminders = models.BooleanField(
        _("sign-off reminders"),
        default=False,
        help_text=_("Receives the reminder when last month's figures are not yet signed off."),
    )
    auditor_timetable = models.BooleanField(
        _("auditors' timetable"),
        default=False,
        help_text=_("Receives the reminders of the auditors' letter deadline (Rule 14A.57)."),
    )
    objects = AuditedManager()
    history = HistoricalRecords(m2m_fields=[thresholds])

    class Meta:
        verbose_name = _("distribution list")
        verbose_name_plural = _("distribution lists")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def member_emails(self) -> list[str]:
        return sorted(member.email for member in self.members.all())


class DistributionListMember(models.Model):
    distribution_list = models.ForeignKey(
        DistributionList, on_delete=models.CASCADE, related_name="members", verbose_name=_("distribution list")
    )
    email = models.EmailField(_("email"))
    name = models.CharField(_("name"), max_length=200, blank=True)
    objects = AuditedManager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("distribution list member")
        verbose_name_plural = _("distribution list members")
        ordering = ["distribution_list", "email"]
        constraints = [
            models.UniqueConstraint(fields=["distribution_list", "email"], name="distribution_list_member_unique")
        ]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>" if self.name else self.email


class HeadroomWarning(Outbox):
    """The forecast says the cap will not be enough before its period ends (once per cap)."""

    cap = models.OneToOneField(
        AnnualCap, on_delete=models.PROTECT, related_name="headroom_warning", verbose_name=_("cap")
    )
    as_of = models.DateField(_("as of"), help_text=_("The business day the forecast was made on."))
    cap_amount = models.DecimalField(_("cap amount"), **MONEY)
    actual = models.DecimalField(_("actual"), **MONEY)
    committed = models.DecimalField(_("committed"), **MONEY)
    projected_actual = models.DecimalField(_("projected actual"), **MONEY)
    projected_committed = models.DecimalField(_("projected committed"), **MONEY)
    projected_reached_on = models.DateField(
        _("projected reached on"),
        null=True,
        blank=True,
        help_text=_("When the cap would be reached at the current pace."),
    )

    class Meta:
        verbose_name = _("headroom warning")
        verbose_name_plural = _("headroom warnings")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return gettext("Insufficient headroom: %(cap)s") % {"cap": self.cap}

    @property
    def projected_used(self) -> Decimal:
        return max(self.projected_actual, self.projected_committed)


class TermWarning(Outbox):
    """A category's term ends soon and no renewal is recorded (once per category and term end)."""

    category = models.ForeignKey(
        TransactionCategory, on_delete=models.PROTECT, related_name="term_warnings", verbose_name=_("category")
    )
    term_end = models.DateField(_("term end"))

    class Meta:
        verbose_name = _("term warning")
        verbose_name_plural = _("term warnings")
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["category", "term_end"], name="term_warning_once_per_term")]

    def __str__(self) -> str:
        return gettext("Term of %(category)s ends on %(day)s") % {"category": self.category, "day": self.term_end}


class QuoteRuleFinding(models.Model):
    """An approved order that no longer passes the quote rule (e.g. a supplier later found to be
    connected). Open while the problem lasts; at most one open finding per order."""

    purchase_order = models.ForeignKey(
        PurchaseOrder, on_delete=models.PROTECT, related_name="quote_rule_findings", verbose_name=_("purchase order")
    )
    detail = models.TextField(_("detail"))
    found_at = models.DateTimeField(_("found at"), auto_now_add=True)
    last_seen_at = models.DateTimeField(_("last seen at"))
    cleared_at = models.DateTimeField(_("cleared at"), null=True, blank=True)

    class Meta:
        verbose_name = _("quote rule finding")
        verbose_name_plural = _("quote rule findings")
        ordering = ["-found_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["purchase_order"], condition=Q(cleared_at__isnull=True), name="quote_rule_finding_open_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.purchase_order}: {self.detail[:80]}"


class Mailing(Outbox):
    """A scheduled report e-mail (the monthly cap report, the weekly quote-rule exceptions), once per
    period. The copy that was sent is kept."""

    class Kind(models.TextChoices):
        MONTHLY_REPORT = "monthly_report", _("Monthly cap report")
        QUOTE_RULE_REPORT = "quote_rule_report", _("Weekly quote-rule exceptions")
        RECONCILIATION = "reconciliation", _("Differences in the caps' figures")
        SIGNOFF_REMINDER = "signoff_reminder", _("Monthly sign-off reminder")
        AUDITOR_LETTER_REMINDER = "auditor_letter", _("Auditors' letter deadline reminder")

    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    period = models.CharField(
        _("period"), max_length=16, help_text=_("2026-10 for a month, 2026-W47 for a week, 2026-11-21 a day.")
    )
    subject = models.CharField(_("subject"), max_length=300, blank=True)
    body = models.TextField(_("body"), blank=True)
    body_html = models.TextField(_("body html"), blank=True)
    attachment = models.FileField(
        _("attachment"), storage=private_storage, upload_to=RandomName("mailings"), blank=True
    )
    attachment_name = models.CharField(_("attachment name"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("mailing")
        verbose_name_plural = _("mailings")
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["kind", "period"], name="mailing_once_per_period")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.period}"


class Breach(Outbox):
    """A cap whose committed or actual amount went above its amount: a breach of the Listing Rules
    (Rule 14A.54 asks for re-compliance before a cap is exceeded). Opened in the same transaction as the
    change that took the cap over (compliance.breaches, from compliance.ledger.cap_figures_changed), at
    most one open per cap (UniqueConstraint); then announced and re-complied with, each step recorded
    with its date and who recorded it. It is also the outbox of the e-mail that tells compliance and
    the company secretary at once."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open: to announce")
        ANNOUNCED = "announced", _("Announced: re-compliance to record")
        RECOMPLIED = "recomplied", _("Re-complied: closed")

    class Basis(models.TextChoices):
        COMMITTED = "committed", _("Committed")
        ACTUAL = "actual", _("Actual")

    cap = models.ForeignKey(AnnualCap, on_delete=models.PROTECT, related_name="breaches", verbose_name=_("cap"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.OPEN, editable=False)
    detected_on = models.DateField(
        _("detected on"),
        editable=False,
        help_text=_("The business date of the document that took the cap over its amount."),
    )
    basis = models.CharField(_("basis"), max_length=16, choices=Basis.choices, editable=False)
    # The figures at detection, in the cap's currency, kept as evidence.
    currency = currency_field(editable=False)
    cap_amount = models.DecimalField(_("cap amount"), **MONEY, editable=False)
    used_amount = models.DecimalField(_("used amount"), **MONEY, editable=False)
    amount_over = models.DecimalField(
        _("amount over"), **MONEY, editable=False, help_text=_("Used less the cap, at detection.")
    )
    triggered_by = models.ForeignKey(
        PurchaseOrder, on_delete=models.PROTECT, null=True, blank=True, related_name="+", editable=False,
        verbose_name=_("triggered by"),
        help_text=_("The order whose approval, invoice or credit note took the cap over, when there was one."),
    )  # fmt: skip
    announced_on = models.DateField(_("announced on"), null=True, blank=True)
    announcement_ref = models.CharField(_("announcement reference"), max_length=300, blank=True)
    announced_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        verbose_name=_("announced by"),
    )
    announced_at = models.DateTimeField(_("announced at"), null=True, blank=True, editable=False)
    recomplied_on = models.DateField(_("re-complied on"), null=True, blank=True)
    recomplied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        verbose_name=_("recomplied by"),
    )
    recomplied_at = models.DateTimeField(_("recomplied at"), null=True, blank=True, editable=False)
    history = HistoricalRecords(excluded_fields=["sent_at", "send_attempts", "last_error", "next_attempt_at",
                                                 "claimed_until", "claim_token"])  # fmt: skip

    class Meta:
        ordering = ["-detected_on", "-id"]
        verbose_name = _("breach of a cap")
        verbose_name_plural = _("breaches of caps")
        indexes = [models.Index(fields=["sent_at", "next_attempt_at"], name="breach_pending")]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["open", "announced", "recomplied"]), name="breach_status_valid"
            ),
            models.CheckConstraint(condition=Q(basis__in=["committed", "actual"]), name="breach_basis_valid"),
            models.CheckConstraint(condition=Q(amount_over__gt=0), name="breach_amount_over_positive"),
            # One open breach per cap: a second change above the cap adds to the breach already open.
            models.UniqueConstraint(
                fields=["cap"], condition=Q(status__in=["open", "announced"]), name="breach_one_open_per_cap"
            ),
            models.CheckConstraint(
                condition=Q(status="open")
                | Q(announced_on__isnull=False, announced_by__isnull=False, announced_at__isnull=False),
                name="breach_announced_has_who_and_when",
            ),
            models.CheckConstraint(
                condition=~Q(status="recomplied")
                | Q(recomplied_on__isnull=False, recomplied_by__isnull=False, recomplied_at__isnull=False),
                name="breach_recomplied_has_who_and_when",
            ),
        ]

    def __str__(self) -> str:
        return gettext("Breach of %(cap)s on %(day)s") % {"cap": self.cap, "day": self.detected_on}

    @property
    def is_open(self) -> bool:
        return self.status != self.Status.RECOMPLIED


# The outbox rows a Delivery can belong to (one of them, exactly), by the name of its foreign key.
DELIVERY_ITEMS = ("alert", "headroom_warning", "term_warning", "mailing", "breach")


def _exactly_one(fields: tuple[str, ...]) -> Q:
    condition = Q()
    for chosen in fields:
        condition |= Q(**{f"{name}__isnull": name != chosen for name in fields})
    return condition


class Delivery(models.Model):
    """One recipient of one outbox row (contract v2: e-mail delivery is per recipient).

    The recipients are fixed when the row is first sent; each is claimed, sent and retried on its own,
    with its own error and backoff, so a refused address never holds back the others and those who
    have the message never get it again. The outbox row counts as sent when all of them are."""

    alert = models.ForeignKey(
        Alert, on_delete=models.CASCADE, null=True, blank=True, related_name="deliveries", verbose_name=_("alert")
    )
    headroom_warning = models.ForeignKey(
        HeadroomWarning,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="deliveries",
        verbose_name=_("headroom warning"),
    )
    term_warning = models.ForeignKey(
        TermWarning,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="deliveries",
        verbose_name=_("term warning"),
    )
    mailing = models.ForeignKey(
        Mailing, on_delete=models.CASCADE, null=True, blank=True, related_name="deliveries", verbose_name=_("mailing")
    )
    breach = models.ForeignKey(
        "Breach", on_delete=models.CASCADE, null=True, blank=True, related_name="deliveries", verbose_name=_("breach")
    )
    email = models.EmailField(_("email"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    send_attempts = models.PositiveIntegerField(_("send attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    claimed_until = models.DateTimeField(_("claimed until"), null=True, blank=True)
    claim_token = models.UUIDField(_("claim token"), null=True, blank=True)

    class Meta:
        verbose_name = _("delivery")
        ordering = ["email", "id"]
        verbose_name_plural = _("deliveries")
        constraints = [
            models.CheckConstraint(condition=_exactly_one(DELIVERY_ITEMS), name="delivery_of_exactly_one_item"),
            models.UniqueConstraint(fields=["alert", "email"], name="delivery_once_per_alert"),
            models.UniqueConstraint(fields=["headroom_warning", "email"], name="delivery_once_per_headroom_warning"),
            models.UniqueConstraint(fields=["term_warning", "email"], name="delivery_once_per_term_warning"),
            models.UniqueConstraint(fields=["mailing", "email"], name="delivery_once_per_mailing"),
            models.UniqueConstraint(fields=["breach", "email"], name="delivery_once_per_breach"),
        ]

    def __str__(self) -> str:
        return f"{self.email}: {gettext('sent') if self.sent_at else gettext('pending')}"


class JobRun(models.Model):
    """One run of a scheduled job, so administrators can see that the schedule runs and what it did."""

    job = models.CharField(_("job"), max_length=100)
    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    succeeded = models.BooleanField(_("succeeded"), null=True)
    summary = models.TextField(_("summary"), blank=True)

    class Meta:
        verbose_name = _("job run")
        verbose_name_plural = _("job runs")
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["job", "-started_at"], name="job_run_latest")]

    def __str__(self) -> str:
        return f"{self.job} at {self.started_at:%Y-%m-%d %H:%M}"


# --- Classification and the cap lifecycle ----------------------------------------------------------


class Tier(models.TextChoices):
    """The consequence of a classification under Rule 14A.76, from the least to the most demanding."""

    FULLY_EXEMPT = "fully_exempt", _("Fully exempt")
    ANNOUNCEMENT_AND_ANNUAL_REVIEW = "announcement_and_annual_review", _("Announcement, reporting and annual review")
    SHAREHOLDERS_APPROVAL = "shareholders_approval", _("Independent shareholders' approval")


SHARE_PRICE = {"max_digits": 14, "decimal_places": 4}


class FinancialYear(models.Model):
    year_end = models.DateField(
        _("year end"), unique=True, help_text=_("The last day of the financial year, e.g. 31 Dec 2024.")
    )
    currency = currency_field(help_text=_("The currency of the figures below (CNY for RMB)."))
    revenue = models.DecimalField(
        _("revenue"), **MONEY, validators=[positive_money], help_text=_("Full amount, not thousands.")
    )
    total_assets = models.DecimalField(
        _("total assets"), **MONEY, validators=[positive_money], help_text=_("Full amount, not thousands.")
    )
    profit_before_tax = models.DecimalField(
        _("profit or loss before tax"), **MONEY, help_text=_("Negative for a loss. Full amount, not thousands.")
    )
    share_price = models.DecimalField(
        _("average closing price"),
        **SHARE_PRICE,
        null=True,
        blank=True,
        help_text=_("Average closing price per share of the five business days before the transaction date."),
    )
    share_price_currency = currency_field(_("share price currency"), blank=True)
    share_price_date = models.DateField(
        _("transaction date of the price"), null=True, blank=True, help_text=_("The five business days precede it.")
    )
    shares_in_issue = models.PositiveBigIntegerField(_("shares in issue"), null=True, blank=True)
    shares_in_issue_on = models.DateField(_("shares in issue on"), null=True, blank=True)
    market_cap = models.DecimalField(
        _("market capitalisation"),
        **MONEY,
        null=True,
        blank=True,
        help_text=_("Average closing price times shares in issue (computed when both are given)."),
    )
    market_cap_currency = currency_field(_("market capitalisation currency"), blank=True)
    source = models.CharField(
        _("source"), max_length=300, blank=True, help_text=_("e.g. Annual results announcement for 2024.")
    )
    objects = AuditedManager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("financial year")
        verbose_name_plural = _("financial years")
        ordering = ["-year_end"]
        constraints = [
            models.CheckConstraint(condition=Q(revenue__gt=0), name="financial_year_revenue_positive"),
            models.CheckConstraint(condition=Q(total_assets__gt=0), name="financial_year_total_assets_positive"),
            models.CheckConstraint(
                condition=Q(market_cap__isnull=True, market_cap_currency="")
                | Q(market_cap__gt=0) & ~Q(market_cap_currency=""),
                name="financial_year_market_cap_with_currency",
            ),
            models.CheckConstraint(
                condition=Q(
                    share_price__isnull=True,
                    share_price_currency="",
                    share_price_date__isnull=True,
                    shares_in_issue__isnull=True,
                    shares_in_issue_on__isnull=True,
                )
                | Q(
                    share_price__gt=0,
                    share_price_date__isnull=False,
                    shares_in_issue__gt=0,
                    shares_in_issue_on__isnull=False,
                )
                & ~Q(share_price_currency=""),
                name="financial_year_share_price_complete",
            ),
        ]

    def __str__(self) -> str:
        return gettext("Financial year ended %(day)s") % {"day": day_in_words(self.year_end)}

    @property
    def is_loss(self) -> bool:
        return self.profit_before_tax <= 0


class CapRevision(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending: steps to record")
        COMPLETED = "completed", _("Completed: in force")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    cap = models.ForeignKey(AnnualCap, on_delete=models.PROTECT, related_name="revisions", verbose_name=_("cap"))
    previous_amount = models.DecimalField(
        _("previous amount"), **MONEY, editable=False, help_text=_("The cap when the revision was proposed.")
    )
    new_amount = models.DecimalField(
        _("new amount"), **MONEY, validators=[positive_money], help_text=_("In the category's currency.")
    )
    reason = models.TextField(
        _("reason"), help_text=_("Why the cap is insufficient, e.g. the forecast of the remaining months.")
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING, editable=False
    )
    # The classification of the revised cap, aggregated with the connected person's other caps.
    tier = models.CharField(_("tier"), max_length=40, choices=Tier.choices, editable=False)
    provisional = models.BooleanField(_("provisional"), default=False, editable=False)
    missing = models.JSONField(_("missing"), default=list, blank=True, editable=False)
    # The steps of re-compliance; which are required follows from the tier.
    board_approved_on = models.DateField(_("board approval"), null=True, blank=True)
    announced_on = models.DateField(_("announcement"), null=True, blank=True)
    shareholders_approved_on = models.DateField(_("independent shareholders' approval"), null=True, blank=True)
    circular_issued_on = models.DateField(_("circular issued"), null=True, blank=True)
    adviser_letter_on = models.DateField(_("independent financial adviser's letter"), null=True, blank=True)
    board_minutes_ref = models.CharField(_("board minutes reference"), max_length=300, blank=True)
    abstaining_directors = models.TextField(_("directors who abstained"), blank=True)
    announcement_ref = models.CharField(_("announcement reference"), max_length=300, blank=True)
    # The larger of committed and actual when proposed, and whether the old cap was already exceeded.
    used_when_proposed = models.DecimalField(_("used when proposed"), **MONEY, editable=False)
    breach = models.BooleanField(
        _("breach"),
        default=False,
        editable=False,
        help_text=_("The cap was already exceeded before the revision took effect: a breach of the Listing Rules."),
    )
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
        verbose_name=_("proposed by"),
    )
    proposed_at = models.DateTimeField(_("proposed at"), auto_now_add=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        verbose_name=_("completed by"),
    )
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True, editable=False)
    effective_on = models.DateField(
        _("effective on"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("The date of the last required step: the new amount applies from it."),
    )
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        verbose_name=_("withdrawn by"),
    )
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True, editable=False)
    withdrawal_reason = models.CharField(_("withdrawal reason"), max_length=500, blank=True, editable=False)
    objects = AuditedManager()
    history = HistoricalRecords()

    class Meta:
        verbose_name_plural = _("cap revisions")
        ordering = ["-proposed_at", "-id"]
        verbose_name = _("cap revision")
        constraints = [
            models.CheckConstraint(condition=Q(new_amount__gt=0), name="revision_new_amount_positive"),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "completed", "withdrawn"]), name="revision_status_valid"
            ),
            models.UniqueConstraint(fields=["cap"], condition=Q(status="pending"), name="revision_one_pending_per_cap"),
            models.CheckConstraint(
                condition=~Q(status="completed") | Q(completed_by__isnull=False, completed_at__isnull=False),
                name="revision_completed_has_who_and_when",
            ),
        ]

    def __str__(self) -> str:
        return gettext("Revision of %(cap)s to %(amount)s") % {"cap": self.cap, "amount": f"{self.new_amount:,.2f}"}

    @property
    def is_pending(self) -> bool:
        return self.status == self.Status.PENDING


class TermsChange(models.Model):
    """A material change of a category's terms (its pricing basis or scope) from a day on. Like a
    renewal it needs the re-compliance steps its classification requires (compliance.renewals); until
    they are recorded, orders dated from that day are refused and the category keeps its old terms."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending: steps to record")
        EFFECTIVE = "effective", _("Effective")

    category = models.ForeignKey(
        TransactionCategory, on_delete=models.PROTECT, related_name="terms_changes", verbose_name=_("category")
    )
    effective_from = models.DateField(_("effective from"), help_text=_("The first day the new terms govern orders."))
    pricing_basis = models.TextField(_("new pricing basis"), blank=True)
    scope = models.TextField(_("new scope"), blank=True)
    reason = models.TextField(_("reason"), help_text=_("Why the terms change."))
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING, editable=False
    )
    tier = models.CharField(_("tier"), max_length=40, choices=Tier.choices, editable=False)
    provisional = models.BooleanField(_("provisional"), default=False, editable=False)
    missing = models.JSONField(_("missing"), default=list, blank=True, editable=False)
    board_approved_on = models.DateField(_("board approval"), null=True, blank=True)
    announced_on = models.DateField(_("announcement"), null=True, blank=True)
    circular_issued_on = models.DateField(_("circular issued"), null=True, blank=True)
    adviser_letter_on = models.DateField(_("independent financial adviser's letter"), null=True, blank=True)
    shareholders_approved_on = models.DateField(_("independent shareholders' approval"), null=True, blank=True)
    board_minutes_ref = models.CharField(_("board minutes reference"), max_length=300, blank=True)
    abstaining_directors = models.TextField(_("directors who abstained"), blank=True)
    announcement_ref = models.CharField(_("announcement reference"), max_length=300, blank=True)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
        verbose_name=_("proposed by"),
    )
    proposed_at = models.DateTimeField(_("proposed at"), auto_now_add=True)
    objects = AuditedManager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["category", "effective_from", "id"]
        verbose_name = _("material change of terms")
        verbose_name_plural = _("material changes of terms")
        constraints = [
            models.CheckConstraint(condition=Q(status__in=["pending", "effective"]), name="terms_change_status_valid"),
            models.CheckConstraint(condition=~Q(pricing_basis="", scope=""), name="terms_change_changes_something"),
        ]

    def __str__(self) -> str:
        return gettext("%(category)s: new terms from %(day)s") % {"category": self.category, "day": self.effective_from}

    @property
    def is_pending(self) -> bool:
        return self.status == self.Status.PENDING


def _evidence_help():
    return format_lazy("{}{}", _("PDF, PNG or JPEG: "), ", ".join(ALLOWED_EXTENSIONS))


class QuoteRuleException(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending: awaiting a second approver")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    purchase_order = models.ForeignKey(
        PurchaseOrder, on_delete=models.PROTECT, related_name="quote_rule_exceptions", verbose_name=_("purchase order")
    )
    reason = models.TextField(
        _("reason"), help_text=_("Why fewer than the required independent quotes exist, e.g. a sole supplier.")
    )
    evidence = models.FileField(
        _("evidence"),
        storage=evidence_storage,
        upload_to=RandomName("exceptions"),
        max_length=200,
        validators=[validate_evidence_document],
        help_text=_evidence_help(),
    )
    evidence_name = models.CharField(_("evidence name"), max_length=200, blank=True, editable=False)
    # The order as it stood when the exception was requested: the exception covers that order only.
    order_amount = models.DecimalField(_("order amount"), **MONEY, editable=False)
    order_currency = currency_field(_("order currency"), editable=False)
    order_counterparty = models.ForeignKey(
        Counterparty, on_delete=models.PROTECT, related_name="+", editable=False, verbose_name=_("order counterparty")
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING, editable=False
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
        verbose_name=_("requested by"),
    )
    requested_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True, editable=False)
    rejection_reason = models.CharField(_("rejection reason"), max_length=500, blank=True, editable=False)
    objects = AuditedManager()
    history = HistoricalRecords()

    class Meta:
        verbose_name_plural = _("quote-rule exceptions")
        ordering = ["-requested_at", "-id"]
        verbose_name = _("quote-rule exception")
        permissions = [("approve_quoteruleexception", "Can approve or reject quote-rule exceptions")]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["pending", "approved", "rejected"]), name="exception_status_valid"
            ),
            models.UniqueConstraint(
                fields=["purchase_order"],
                condition=Q(status__in=["pending", "approved"]),
                name="exception_one_open_per_order",
            ),
            models.CheckConstraint(
                condition=Q(status="pending") | Q(decided_by__isnull=False, decided_at__isnull=False),
                name="exception_decided_has_who_and_when",
            ),
            models.CheckConstraint(
                condition=Q(decided_by__isnull=True) | ~Q(decided_by=F("requested_by")),
                name="exception_second_person_decides",
            ),
        ]

    def __str__(self) -> str:
        return gettext("Quote-rule exception for %(order)s") % {"order": self.purchase_order}

    @property
    def is_approved(self) -> bool:
        return self.status == self.Status.APPROVED

    def covers(self, order: PurchaseOrder) -> bool:
        """The order is still the one the exception was requested for (same amount, currency, counterparty)."""
        return (
            order.pk == self.purchase_order_id
            and order.amount == self.order_amount
            and order.currency == self.order_currency
            and order.counterparty_id == self.order_counterparty_id
        )


# --- Imports from the ERP and the completeness check -------------------------------------------------


class Import(models.Model):
    """One upload of ERP rows of one kind (compliance.imports). It is queued, run by a worker and kept
    with its outcome: all its rows were written (`done`) or none was (`failed`, with the row errors).
    A dry run checks every rule and writes nothing."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    kind = models.CharField(_("kind"), max_length=32)
    file = models.FileField(_("file"), storage=private_storage, upload_to=RandomName("imports"), max_length=200)
    file_name = models.CharField(_("file name"), max_length=200, blank=True)
    dry_run = models.BooleanField(_("dry run"), default=False)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.QUEUED)
    rows = models.PositiveIntegerField(_("rows"), default=0)
    progress = models.PositiveSmallIntegerField(_("progress"), default=0)
    created = models.PositiveIntegerField(_("created"), default=0)
    unchanged = models.PositiveIntegerField(_("unchanged"), default=0)
    errors = models.JSONField(_("errors"), default=list, blank=True)
    error_count = models.PositiveIntegerField(_("errors"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("created by")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    # Only the worker that moved the import from queued to running processes it (a redelivered task
    # finds it claimed).
    claimed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["queued", "running", "done", "failed"]), name="import_status_valid"
            ),
            models.CheckConstraint(condition=Q(progress__lte=100), name="import_progress_at_most_100"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.file_name or self.pk} ({self.status})"


class CompletenessCheck(models.Model):
    """The ERP's postings to a connected person's companies for a period, compared with the product:
    what the ERP has that the product lacks and the reverse, kept as evidence for the annual pack."""

    connected_person = models.ForeignKey(
        ConnectedPerson, on_delete=models.PROTECT, related_name="+", verbose_name=_("connected person")
    )
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    file_name = models.CharField(_("file name"), max_length=200, blank=True)
    erp_rows = models.PositiveIntegerField(_("ERP rows"), default=0)
    matched = models.PositiveIntegerField(_("matched"), default=0)
    missing_in_product = models.JSONField(_("missing in the product"), default=list, blank=True)
    missing_in_erp = models.JSONField(_("missing in the ERP"), default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("created by")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["-period_end", "-id"]
        verbose_name = _("completeness check")
        verbose_name_plural = _("completeness checks")
        constraints = [
            models.CheckConstraint(condition=Q(period_end__gte=F("period_start")), name="completeness_period_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.connected_person}: {self.period_start} to {self.period_end}"

    @property
    def complete(self) -> bool:
        return not self.missing_in_product and not self.missing_in_erp


def _report_job_storage():
    # Imported late: the storage follows the settings in force (tests use a temporary folder).
    from transactions.documents import private_storage

    return private_storage()


class ReportJob(models.Model):
    """A report built by the worker because it is too long for a request (compliance.report_jobs): who
    asked for which report, its progress, and the file once built, kept under PRIVATE_MEDIA_ROOT and
    served only to someone who reads reports. A job is claimed once (a conditional update from queued to
    running), so a message delivered twice builds it once."""

    class Report(models.TextChoices):
        MONTHLY = "monthly", _("Monthly cap report")
        DIRECTORS = "directors", _("Directors' report")
        ANNUAL_REVIEW = "annual-review", _("Annual review pack")

    class Format(models.TextChoices):
        XLSX = "xlsx", _("Workbook (.xlsx)")
        PDF = "pdf", _("Printable PDF")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Being built")
        DONE = "done", _("Ready to download")
        FAILED = "failed", _("Failed")

    report = models.CharField(_("report"), max_length=16, choices=Report.choices)
    period = models.CharField(
        _("period"), max_length=10, help_text=_("The month (YYYY-MM), half year (YYYY-H1) or year (YYYY).")
    )
    format = models.CharField(_("format"), max_length=4, choices=Format.choices)
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    stage = models.CharField(_("stage"), max_length=200, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("requested by")
    )
    requested_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    orders = models.PositiveIntegerField(
        _("orders"), default=0, help_text=_("The orders the report reads, counted when it was requested.")
    )
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    file = models.FileField(_("file"), storage=_report_job_storage, upload_to="reports/%Y/", max_length=200, blank=True)
    filename = models.CharField(_("file name"), max_length=100)
    size = models.PositiveBigIntegerField(_("size (bytes)"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        verbose_name = _("report job")
        verbose_name_plural = _("report jobs")
        constraints = [
            models.CheckConstraint(condition=Q(progress__lte=100), name="report_job_progress_at_most_100"),
            models.CheckConstraint(
                condition=~Q(status="done") | (Q(finished_at__isnull=False) & ~Q(file="")),
                name="report_job_done_has_its_file",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_report_display()} {self.period} ({self.format})"


# Board and auditor deliverables (monitoring evidence, issued reports, the auditors' timetable).
from .evidence_models import *  # noqa: E402, F403
