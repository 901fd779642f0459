"""Classification and the cap lifecycle: financial years, cap revisions, material changes of terms and
quote-rule exceptions.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.text import format_lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from compliance.common.dates import day_in_words
from compliance.models.caps import AnnualCap
from transactions.audit import AuditedManager
from transactions.documents import (
    ALLOWED_EXTENSIONS,
    RandomName,
    evidence_storage,
    validate_evidence_document,
)
from transactions.models import (
    Counterparty,
    PurchaseOrder,
    TransactionCategory,
    currency_field,
)
from transactions.money import MONEY, positive_money

SHARE_PRICE = {"max_digits": 14, "decimal_places": 4}


def _evidence_help():
    return format_lazy("{}{}", _("PDF, PNG or JPEG: "), ", ".join(ALLOWED_EXTENSIONS))


class Tier(models.TextChoices):
    """The consequence of a classification under Rule 14A.76, from the least to the most demanding."""

    FULLY_EXEMPT = "fully_exempt", _("Fully exempt")
    ANNOUNCEMENT_AND_ANNUAL_REVIEW = "announcement_and_annual_review", _("Announcement, reporting and annual review")
    SHAREHOLDERS_APPROVAL = "shareholders_approval", _("Independent shareholders' approval")


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
    renewal it needs the re-compliance steps its classification requires (compliance.lifecycle.renewals); until
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
