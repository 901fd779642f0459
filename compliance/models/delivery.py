"""Alerts and what the product e-mails: thresholds, recipients, distribution lists, the outbox rows
(alerts, warnings, mailings, breaches) with their deliveries, and quote-rule findings.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from compliance.models.caps import PERCENT, AnnualCap
from transactions.audit import AuditedManager
from transactions.documents import (
    RandomName,
    private_storage,
)
from transactions.models import (
    PurchaseOrder,
    TransactionCategory,
    currency_field,
)
from transactions.money import MONEY

# The outbox rows a Delivery can belong to (one of them, exactly), by the name of its foreign key.
DELIVERY_ITEMS = ("alert", "headroom_warning", "term_warning", "mailing", "breach")


def _exactly_one(fields: tuple[str, ...]) -> Q:
    condition = Q()
    for chosen in fields:
        condition |= Q(**{f"{name}__isnull": name != chosen for name in fields})
    return condition


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
    by compliance.delivery.outbox, which claims it with a conditional update (claim_token, claimed_until) so
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
    change that took the cap over (compliance.alerts.breaches, from compliance.caps.ledger.cap_figures_changed), at
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
