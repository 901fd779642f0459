"""The facts of continuing connected transactions.

Domain words
- A *connected person* (關連人士) is connected to the issuer from `connected_from` until
  `connected_until` (open while still connected). The companies of its group are *counterparties*
  pointing at it; a counterparty pointing at nobody is an *independent third party* (獨立第三方).
- A *framework agreement* (框架協議) with a connected person, board-approved on a date, has
  *transaction categories*, each with its own term, currency (that of its annual caps), minimum
  number of independent quotes and quote validity.
- A category's own `term_start`/`term_end` is its first term; each *renewal* (CategoryRenewal) adds a
  later term with its own caps. The terms of a category never overlap; the term *in force* on a day is
  the latest that has begun by then (the first term before any has). A term longer than three years
  carries the independent financial adviser's explanation (`term_explanation`).
- A renewal is *pending* until the re-compliance steps its classification requires are recorded
  (compliance.lifecycle.renewals): board approval, announcement, circular, independent financial adviser's
  letter, independent shareholders' approval; then *effective*. An agreement records its board
  minutes, the directors who abstained and its announcement; an independent supplier how its
  independence was established (declaration or search) and when.
- A *purchase order* (購買訂單) is placed under a category with a counterparty of the agreement's
  connected person. It is recognised on its order date or spread over a service period. It is a
  draft, then approved or cancelled (never deleted). *Quotes* (報價) are the independent prices it
  was compared with, each with its reference and document (a quote without its document does not
  count while the category requires documents); *invoices* are the actual amounts.
- A category's *direction* says who pays: *purchase* (the group buys from the connected person: purchase
  orders, quotes from independent suppliers, the connected person's invoices) or *sale* (the group sells
  to it: sales orders, price references of what independent customers are charged, the group's sales
  invoices). A sale is stored in the same tables as a purchase (SalesOrder, PriceReference and
  SalesInvoice are proxies of PurchaseOrder, Quote and Invoice, selected by the category's direction), so
  the caps of both directions are counted by one ledger; every list of purchases filters on the direction.
- *Credit notes* reverse part or all of an invoice; only they reduce the actual amount.
- *Exchange rates*: one unit of `currency` is `rate` units of `target_currency` on `rate_date`.

Invariants, enforced in the database (constraints below) and in Python (field validators,
transactions.services):
- every amount is greater than zero with two decimal places and an ISO 4217 currency;
- order numbers and invoice numbers are unique; one rate per currency pair and day;
- date ranges end on or after they start; a category's renewals start on distinct days;
- an order has a service period exactly when it is recognised over one;
- nothing financial is deleted by cascade: every foreign key is PROTECT.
Rules spanning rows (an order's counterparty belongs to its agreement's connected person, only
drafts are edited) live in transactions.services; the approval gates in compliance.caps.approval; terms
that do not overlap and the three-year rule in compliance.rules.terms.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils.text import format_lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from .audit import AuditedManager
from .currencies import CURRENCY_CHOICES
from .documents import ALLOWED_EXTENSIONS, RandomName, private_storage, validate_quote_document
from .money import MONEY, RATE, positive_money

CURRENCY = _("currency")


def currency_field(verbose_name=CURRENCY, **kwargs) -> models.CharField:
    return models.CharField(verbose_name, max_length=3, choices=CURRENCY_CHOICES, **kwargs)


class ConnectedPerson(models.Model):
    name = models.CharField(_("name"), max_length=200, unique=True)
    name_zh = models.CharField(_("name (Chinese)"), max_length=200, blank=True)
    basis = models.TextField(
        _("basis"), help_text=_("Why the person is connected, e.g. a substantial shareholder holding 11.12%.")
    )
    connected_from = models.DateField(_("connected from"))
    connected_until = models.DateField(
        _("connected until"), null=True, blank=True, help_text=_("Leave empty while still connected.")
    )
    objects = AuditedManager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("connected person")
        verbose_name_plural = _("connected persons")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(connected_until__isnull=True) | Q(connected_until__gte=F("connected_from")),
                name="connected_person_until_after_from",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.name_zh})" if self.name_zh else self.name

    def clean(self) -> None:
        if self.connected_until and self.connected_from and self.connected_until < self.connected_from:
            raise ValidationError({"connected_until": _("The connection must end on or after it started.")})


class Counterparty(models.Model):
    class IndependenceBasis(models.TextChoices):
        DECLARATION = "declaration", _("The supplier's written declaration")
        SEARCH = "search", _("A search of registers and shareholdings")

    name = models.CharField(_("name"), max_length=200, unique=True)
    name_zh = models.CharField(_("name (Chinese)"), max_length=200, blank=True)
    connected_person = models.ForeignKey(
        ConnectedPerson,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="counterparties",
        help_text=_("The connected person whose group it belongs to; empty for an independent third party."),
        verbose_name=_("connected person"),
    )
    # How the independence of a supplier was established (evidence for the quote rule).
    independence_basis = models.CharField(
        _("independence established by"), max_length=16, choices=IndependenceBasis.choices, blank=True
    )
    independence_checked_on = models.DateField(_("independence checked on"), null=True, blank=True)
    independence_reference = models.CharField(
        _("independence evidence"),
        max_length=300,
        blank=True,
        help_text=_("e.g. the declaration's date or the search file."),
    )
    # The ERP's vendor or customer code: imports and the completeness check name a counterparty by it.
    erp_code = models.CharField(
        _("ERP code"),
        max_length=64,
        blank=True,
        help_text=_("The vendor or customer code in the ERP; unique when given."),
    )
    objects = AuditedManager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("counterparty")
        ordering = ["name"]
        verbose_name_plural = _("counterparties")
        constraints = [
            models.UniqueConstraint(
                fields=["erp_code"], condition=~Q(erp_code=""), name="counterparty_erp_code_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.name_zh})" if self.name_zh else self.name

    @property
    def is_independent(self) -> bool:
        return self.connected_person_id is None


class FrameworkAgreement(models.Model):
    title = models.CharField(_("title"), max_length=300)
    title_zh = models.CharField(_("title (Chinese)"), max_length=300, blank=True)
    connected_person = models.ForeignKey(
        ConnectedPerson, on_delete=models.PROTECT, related_name="agreements", verbose_name=_("connected person")
    )
    signed_on = models.DateField(_("signed on"))
    board_approved_on = models.DateField(_("board approved on"))
    board_minutes_ref = models.CharField(
        _("board minutes reference"),
        max_length=300,
        blank=True,
        help_text=_("e.g. the minutes of the meeting that approved it."),
    )
    abstaining_directors = models.TextField(
        _("directors who abstained"), blank=True, help_text=_("The interested directors who abstained from voting.")
    )
    announced_on = models.DateField(_("announcement date"), null=True, blank=True)
    announcement_ref = models.CharField(_("announcement reference"), max_length=300, blank=True)
    objects = AuditedManager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("framework agreement")
        verbose_name_plural = _("framework agreements")
        ordering = ["-signed_on", "title"]
        constraints = [
            models.UniqueConstraint(fields=["connected_person", "title"], name="agreement_title_unique"),
        ]

    def __str__(self) -> str:
        return self.title


class TransactionCategory(models.Model):
    class Direction(models.TextChoices):
        PURCHASE = "purchase", _("Purchases from the connected person")
        SALE = "sale", _("Sales to the connected person")

    agreement = models.ForeignKey(
        FrameworkAgreement, on_delete=models.PROTECT, related_name="categories", verbose_name=_("agreement")
    )
    name = models.CharField(_("name"), max_length=200)
    name_zh = models.CharField(_("name (Chinese)"), max_length=200, blank=True)
    term_start = models.DateField(
        _("term start"), help_text=_("The first term as agreed; a renewal adds a later term.")
    )
    term_end = models.DateField(_("term end"))
    term_explanation = models.TextField(
        _("explanation of a term over three years"),
        blank=True,
        help_text=_(
            "Needed when the term is longer than three years: the independent financial adviser's view of "
            "why a longer term is required and is normal business practice (Rule 14A.52)."
        ),
    )
    currency = currency_field(help_text=_("The currency of the annual caps; every amount is converted into it."))
    direction = models.CharField(
        _("direction"),
        max_length=8,
        choices=Direction.choices,
        default=Direction.PURCHASE,
        help_text=_(
            "Purchases: the caps limit what the group pays the connected person. Sales: they limit the group's "
            "revenue from it, and each sale is priced against what independent customers are charged."
        ),
    )
    min_independent_quotes = models.PositiveSmallIntegerField(_("min independent quotes"), default=2)
    quote_validity_days = models.PositiveSmallIntegerField(
        _("quote validity days"),
        default=90,
        help_text=_("A quote counts for orders placed no more than this many days after it."),
    )
    quote_documents_required = models.BooleanField(
        _("quote documents required"),
        default=True,
        help_text=_("A quote counts towards the quote rule only with its document attached."),
    )
    pricing_basis = models.TextField(
        _("pricing basis"),
        blank=True,
        help_text=_("The pricing policy as agreed; a material change is recorded as a change of terms."),
    )
    scope = models.TextField(_("scope"), blank=True, help_text=_("What is bought under the category, as agreed."))
    objects = AuditedManager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["agreement", "name"]
        verbose_name = _("transaction category")
        verbose_name_plural = _("transaction categories")
        constraints = [
            models.UniqueConstraint(fields=["agreement", "name"], name="category_name_unique"),
            models.CheckConstraint(condition=Q(term_end__gte=F("term_start")), name="category_term_ends_after_start"),
            models.CheckConstraint(condition=Q(quote_validity_days__gte=1), name="category_quote_validity_positive"),
            models.CheckConstraint(condition=Q(direction__in=["purchase", "sale"]), name="category_direction_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.name_zh})" if self.name_zh else self.name

    def clean(self) -> None:
        if self.term_start and self.term_end and self.term_end < self.term_start:
            raise ValidationError({"term_end": _("The term must end on or after it starts.")})


class CategoryRenewal(models.Model):
    """A later term of a category, agreed on renewal; the caps of its periods are the category's caps."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending: steps to record")
        EFFECTIVE = "effective", _("Effective")

    category = models.ForeignKey(
        TransactionCategory, on_delete=models.PROTECT, related_name="renewals", verbose_name=_("category")
    )
    term_start = models.DateField(_("term start"))
    term_end = models.DateField(_("term end"))
    term_explanation = models.TextField(
        _("explanation of a term over three years"),
        blank=True,
        help_text=_(
            "Needed when the term is longer than three years: the independent financial adviser's view of "
            "why a longer term is required and is normal business practice (Rule 14A.52)."
        ),
    )
    reference = models.CharField(
        _("reference"),
        max_length=300,
        blank=True,
        help_text=_("e.g. the renewal agreement or the announcement of the new caps."),
    )
    # Re-compliance (Rule 14A.54): the steps the classification requires, recorded as they happen; the
    # renewed term governs no order until every required one is recorded (compliance.lifecycle.renewals).
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING, editable=False
    )
    tier = models.CharField(_("tier"), max_length=40, blank=True, editable=False)
    provisional = models.BooleanField(_("provisional"), default=False, editable=False)
    missing = models.JSONField(_("missing"), default=list, blank=True, editable=False)
    board_approved_on = models.DateField(
        _("board approval"), null=True, blank=True, help_text=_("The day the board approved the renewal.")
    )
    announced_on = models.DateField(_("announcement"), null=True, blank=True)
    circular_issued_on = models.DateField(_("circular issued"), null=True, blank=True)
    adviser_letter_on = models.DateField(_("independent financial adviser's letter"), null=True, blank=True)
    shareholders_approved_on = models.DateField(_("independent shareholders' approval"), null=True, blank=True)
    board_minutes_ref = models.CharField(_("board minutes reference"), max_length=300, blank=True)
    abstaining_directors = models.TextField(_("directors who abstained"), blank=True)
    announcement_ref = models.CharField(_("announcement reference"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        editable=False,
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    objects = AuditedManager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["category", "term_start"]
        verbose_name = _("renewal (a later term)")
        verbose_name_plural = _("renewals (later terms)")
        constraints = [
            models.CheckConstraint(condition=Q(term_end__gte=F("term_start")), name="renewal_term_ends_after_start"),
            models.UniqueConstraint(fields=["category", "term_start"], name="renewal_term_start_unique"),
            models.CheckConstraint(condition=Q(status__in=["pending", "effective"]), name="renewal_status_valid"),
        ]

    def __str__(self) -> str:
        return gettext("%(category)s: %(start)s to %(end)s") % {
            "category": self.category, "start": self.term_start, "end": self.term_end,
        }  # fmt: skip

    @property
    def is_pending(self) -> bool:
        return self.status == self.Status.PENDING

    def clean(self) -> None:
        if self.term_start and self.term_end and self.term_end < self.term_start:
            raise ValidationError({"term_end": _("The term must end on or after it starts.")})


class ExchangeRate(models.Model):
    currency = currency_field()
    target_currency = currency_field(_("target currency"))
    rate_date = models.DateField(_("rate date"))
    rate = models.DecimalField(
        _("rate"), **RATE, help_text=_("One unit of the currency is this many units of the target currency.")
    )
    source = models.CharField(_("source"), max_length=200, blank=True, help_text=_("e.g. PBOC central parity"))
    objects = AuditedManager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("exchange rate")
        verbose_name_plural = _("exchange rates")
        ordering = ["-rate_date", "currency", "target_currency"]
        constraints = [
            models.UniqueConstraint(fields=["currency", "target_currency", "rate_date"], name="exchange_rate_unique"),
            models.CheckConstraint(condition=Q(rate__gt=0), name="exchange_rate_positive"),
            models.CheckConstraint(condition=~Q(currency=F("target_currency")), name="exchange_rate_two_currencies"),
        ]

    def __str__(self) -> str:
        return gettext("1 %(currency)s = %(rate)s %(target)s on %(day)s") % {
            "currency": self.currency, "rate": f"{self.rate.normalize():f}", "target": self.target_currency,
            "day": self.rate_date,
        }  # fmt: skip

    def clean(self) -> None:
        if self.currency and self.currency == self.target_currency:
            raise ValidationError({"target_currency": _("A rate converts between two different currencies.")})
        if self.rate is not None and self.rate <= 0:
            raise ValidationError({"rate": _("A rate is greater than zero.")})


class PurchaseOrder(models.Model):
    class Recognition(models.TextChoices):
        ON_ORDER_DATE = "on_order_date", _("On the order date")
        OVER_SERVICE_PERIOD = "over_service_period", _("Spread over the service period")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        APPROVED = "approved", _("Approved")
        CANCELLED = "cancelled", _("Cancelled")

    number = models.CharField(_("number"), max_length=64, unique=True)
    category = models.ForeignKey(
        TransactionCategory, on_delete=models.PROTECT, related_name="purchase_orders", verbose_name=_("category")
    )
    counterparty = models.ForeignKey(
        Counterparty, on_delete=models.PROTECT, related_name="purchase_orders", verbose_name=_("counterparty")
    )
    description = models.CharField(_("description"), max_length=500, blank=True)
    order_date = models.DateField(_("order date"))
    amount = models.DecimalField(_("amount"), **MONEY, validators=[positive_money])
    currency = currency_field()
    recognition = models.CharField(
        _("recognition"), max_length=24, choices=Recognition.choices, default=Recognition.ON_ORDER_DATE
    )
    service_start = models.DateField(_("service start"), null=True, blank=True)
    service_end = models.DateField(_("service end"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.DRAFT, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        verbose_name=_("approved by"),
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True, editable=False)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        verbose_name=_("cancelled by"),
    )
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True, editable=False)
    cancellation_reason = models.CharField(_("cancellation reason"), max_length=500, blank=True, editable=False)
    cancellation_effective_on = models.DateField(
        _("cancellation effective on"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("The business day from which the commitment is withdrawn."),
    )
    invoiced_before_approval = models.BooleanField(
        _("invoiced before approval"),
        default=False,
        editable=False,
        help_text=_("An invoice was recorded while the order was still a draft."),
    )
    objects = AuditedManager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("purchase order")
        verbose_name_plural = _("purchase orders")
        ordering = ["-order_date", "-id"]
        permissions = [
            ("approve_purchaseorder", "Can approve purchase orders"),
            ("cancel_purchaseorder", "Can cancel purchase orders"),
        ]
        indexes = [models.Index(fields=["category", "status", "order_date"], name="order_category_status_date")]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="order_amount_positive"),
            models.CheckConstraint(
                condition=Q(status__in=["draft", "approved", "cancelled"]), name="order_status_valid"
            ),
            models.CheckConstraint(
                condition=(
                    Q(
                        recognition="over_service_period",
                        service_start__isnull=False,
                        service_end__isnull=False,
                        service_end__gte=F("service_start"),
                    )
                    | Q(recognition="on_order_date", service_start__isnull=True, service_end__isnull=True)
                ),
                name="order_service_period_matches_recognition",
            ),
            models.CheckConstraint(
                condition=~Q(status="approved") | Q(approved_by__isnull=False, approved_at__isnull=False),
                name="order_approved_has_approver",
            ),
            models.CheckConstraint(
                condition=~Q(status="cancelled") | Q(cancelled_by__isnull=False, cancelled_at__isnull=False),
                name="order_cancelled_has_canceller",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    def clean(self) -> None:
        """The service period is given exactly when the order is recognised over it."""
        errors: dict[str, str] = {}
        if self.recognition == self.Recognition.OVER_SERVICE_PERIOD:
            for name in ("service_start", "service_end"):
                if getattr(self, name) is None:
                    errors[name] = _("Enter the service period of an order spread over it.")
            if self.service_start and self.service_end and self.service_end < self.service_start:
                errors["service_end"] = _("The service period must end on or after it starts.")
        else:
            for name in ("service_start", "service_end"):
                if getattr(self, name) is not None:
                    errors[name] = _("Leave the service period empty: this order is recognised on its order date.")
        if errors:
            raise ValidationError(errors)

    @property
    def recognition_start(self):
        return self.service_start if self.recognition == self.Recognition.OVER_SERVICE_PERIOD else self.order_date

    @property
    def recognition_end(self):
        return self.service_end if self.recognition == self.Recognition.OVER_SERVICE_PERIOD else self.order_date

    @property
    def is_draft(self) -> bool:
        return self.status == self.Status.DRAFT


class Quote(models.Model):
    purchase_order = models.ForeignKey(
        PurchaseOrder, on_delete=models.PROTECT, related_name="quotes", verbose_name=_("purchase order")
    )
    supplier = models.ForeignKey(
        Counterparty,
        on_delete=models.PROTECT,
        related_name="quotes",
        help_text=_("Who quoted the price."),
        verbose_name=_("supplier"),
    )
    quoted_on = models.DateField(_("quoted on"))
    amount = models.DecimalField(_("amount"), **MONEY, validators=[positive_money])
    currency = currency_field()
    reference = models.CharField(
        _("reference"), max_length=100, blank=True, help_text=_("The supplier's quote number.")
    )
    document = models.FileField(
        _("document"),
        storage=private_storage,
        upload_to=RandomName("quotes"),
        max_length=200,
        blank=True,
        validators=[validate_quote_document],
        help_text=format_lazy("{}{}", _("PDF, PNG or JPEG: "), ", ".join(ALLOWED_EXTENSIONS)),
    )
    document_name = models.CharField(_("document name"), max_length=200, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        editable=False,
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    objects = AuditedManager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("quote")
        verbose_name_plural = _("quotes")
        ordering = ["purchase_order", "quoted_on", "id"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="quote_amount_positive")]

    def __str__(self) -> str:
        return f"{self.supplier} {self.currency} {self.amount:,.2f} ({self.quoted_on})"


class Invoice(models.Model):
    purchase_order = models.ForeignKey(
        PurchaseOrder, on_delete=models.PROTECT, related_name="invoices", verbose_name=_("purchase order")
    )
    number = models.CharField(_("number"), max_length=64, unique=True)
    invoice_date = models.DateField(_("invoice date"))
    amount = models.DecimalField(_("amount"), **MONEY, validators=[positive_money])
    currency = currency_field()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        editable=False,
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    objects = AuditedManager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        ordering = ["purchase_order", "invoice_date", "id"]
        indexes = [models.Index(fields=["invoice_date"], name="invoice_date")]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="invoice_amount_positive")]

    def __str__(self) -> str:
        return self.number


class CreditNote(models.Model):
    """A supplier's credit against one invoice: the only way an actual amount is reduced (an invoice is
    never deleted, whatever becomes of its order). At most what remains of the invoice (compliance.caps.documents)."""

    invoice = models.ForeignKey(
        Invoice, on_delete=models.PROTECT, related_name="credit_notes", verbose_name=_("invoice")
    )
    number = models.CharField(_("number"), max_length=64, unique=True)
    credit_date = models.DateField(_("credit date"))
    amount = models.DecimalField(
        _("amount"), **MONEY, validators=[positive_money], help_text=_("Positive: the amount credited.")
    )
    currency = currency_field()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        editable=False,
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    objects = AuditedManager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("credit note")
        verbose_name_plural = _("credit notes")
        ordering = ["invoice", "credit_date", "id"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="credit_note_amount_positive")]

    def __str__(self) -> str:
        return self.number


# --- Sales to the connected person ----------------------------------------------------------------
# The same rows as purchases, told apart by their category's direction: one ledger, one set of gates, one
# audit trail. The proxies give the sales side its own names, admin pages, API resources and permissions.

SALE = TransactionCategory.Direction.SALE
PURCHASE = TransactionCategory.Direction.PURCHASE


class SalesOrderManager(AuditedManager):
    def get_queryset(self):
        return super().get_queryset().filter(category__direction=SALE)


class PriceReferenceManager(AuditedManager):
    def get_queryset(self):
        return super().get_queryset().filter(purchase_order__category__direction=SALE)


class SalesInvoiceManager(AuditedManager):
    def get_queryset(self):
        return super().get_queryset().filter(purchase_order__category__direction=SALE)


class SalesOrder(PurchaseOrder):
    """An order of the connected person under a category of direction `sale` (the group sells)."""

    objects = SalesOrderManager()

    class Meta:
        proxy = True
        ordering = ["-order_date", "-id"]
        verbose_name = _("sales order")
        verbose_name_plural = _("sales orders")
        permissions = [
            ("approve_salesorder", "Can approve sales orders"),
            ("cancel_salesorder", "Can cancel sales orders"),
        ]


class PriceReference(Quote):
    """What the group charged or offered an independent customer for comparable goods or services: the
    benchmark a sales order's price must not fall below (`supplier` holds the customer)."""

    objects = PriceReferenceManager()

    class Meta:
        proxy = True
        ordering = ["purchase_order", "quoted_on", "id"]
        verbose_name = _("price reference")
        verbose_name_plural = _("price references")

    def __str__(self) -> str:
        return f"{self.supplier} {self.currency} {self.amount:,.2f} ({self.quoted_on})"


class SalesInvoice(Invoice):
    """The group's invoice to the connected person under a sales order: the actual revenue."""

    objects = SalesInvoiceManager()

    class Meta:
        proxy = True
        ordering = ["purchase_order", "invoice_date", "id"]
        verbose_name = _("sales invoice")
        verbose_name_plural = _("sales invoices")
