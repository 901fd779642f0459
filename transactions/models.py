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
  (compliance.renewals): board approval, announcement, circular, independent financial adviser's
  letter, independent shareholders' approval; then *effective*. An agreement records its board
  minutes, the directors who abstained and its announcement; an independent supplier how its
  independence was established (declaration or search) and when.
- A *purchase order* (購買訂單) is placed under a category with a counterparty of the agreement's
  connected person. It is recognised on its order date or spread over a service period. It is a
  draft, then approved or cancelled (never deleted). *Quotes* (報價) are the independent prices it
  was compared with, each with its reference and document (a quote without its document does not
  count while the category requires documents); *invoices* are the actual amounts.
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
drafts are edited) live in transactions.services; the approval gates in compliance.services; terms
that do not overlap and the three-year rule in compliance.terms.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from simple_history.models import HistoricalRecords

from .audit import AuditedManager
from .currencies import CURRENCY_CHOICES
from .documents import ALLOWED_EXTENSIONS, RandomName, private_storage, validate_quote_document
from .money import MONEY, RATE, positive_money


def currency_field(verbose_name: str = "currency", **kwargs) -> models.CharField:
    return models.CharField(verbose_name, max_length=3, choices=CURRENCY_CHOICES, **kwargs)


class ConnectedPerson(models.Model):
    name = models.CharField(max_length=200, unique=True)
    name_zh = models.CharField("name (Chinese)", max_length=200, blank=True)
    basis = models.TextField(help_text="Why the person is connected, e.g. a substantial shareholder holding 11.12%.")
    connected_from = models.DateField()
    connected_until = models.DateField(null=True, blank=True, help_text="Leave empty while still connected.")
    objects = AuditedManager()
    history = HistoricalRecords()

    class Meta:
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
            raise ValidationError({"connected_until": "The connection must end on or after it started."})


class Counterparty(models.Model):
    class IndependenceBasis(models.TextChoices):
        DECLARATION = "declaration", "The supplier's written declaration"
        SEARCH = "search", "A search of registers and shareholdings"

    name = models.CharField(max_length=200, unique=True)
    name_zh = models.CharField("name (Chinese)", max_length=200, blank=True)
    connected_person = models.ForeignKey(
        ConnectedPerson,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="counterparties",
        help_text="The connected person whose group it belongs to; empty for an independent third party.",
    )
    # How the independence of a supplier was established (evidence for the quote rule).
    independence_basis = models.CharField(
        "independence established by", max_length=16, choices=IndependenceBasis.choices, blank=True
    )
    independence_checked_on = models.DateField("independence checked on", null=True, blank=True)
    independence_reference = models.CharField(
        "independence evidence", max_length=300, blank=True, help_text="e.g. the declaration's date or the search file."
    )
    # The ERP's vendor or customer code: imports and the completeness check name a counterparty by it.
    erp_code = models.CharField(
        "ERP code", max_length=64, blank=True, help_text="The vendor or customer code in the ERP; unique when given."
    )
    objects = AuditedManager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "counterparties"
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
    title = models.CharField(max_length=300)
    title_zh = models.CharField("title (Chinese)", max_length=300, blank=True)
    connected_person = models.ForeignKey(ConnectedPerson, on_delete=models.PROTECT, related_name="agreements")
    signed_on = models.DateField()
    board_approved_on = models.DateField()
    board_minutes_ref = models.CharField(
        "board minutes reference",
        max_length=300,
        blank=True,
        help_text="e.g. the minutes of the meeting that approved it.",
    )
    abstaining_directors = models.TextField(
        "directors who abstained", blank=True, help_text="The interested directors who abstained from voting."
    )
    announced_on = models.DateField("announcement date", null=True, blank=True)
    announcement_ref = models.CharField("announcement reference", max_length=300, blank=True)
    objects = AuditedManager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["-signed_on", "title"]
        constraints = [
            models.UniqueConstraint(fields=["connected_person", "title"], name="agreement_title_unique"),
        ]

    def __str__(self) -> str:
        return self.title


class TransactionCategory(models.Model):
    agreement = models.ForeignKey(FrameworkAgreement, on_delete=models.PROTECT, related_name="categories")
    name = models.CharField(max_length=200)
    name_zh = models.CharField("name (Chinese)", max_length=200, blank=True)
    term_start = models.DateField(help_text="The first term as agreed; a renewal adds a later term.")
    term_end = models.DateField()
    term_explanation = models.TextField(
        "explanation of a term over three years",
        blank=True,
        help_text="Needed when the term is longer than three years: the independent financial adviser's view of "
        "why a longer term is required and is normal business practice (Rule 14A.52).",
    )
    currency = currency_field(help_text="The currency of the annual caps; every amount is converted into it.")
    min_independent_quotes = models.PositiveSmallIntegerField(default=2)
    quote_validity_days = models.PositiveSmallIntegerField(
        default=90, help_text="A quote counts for orders placed no more than this many days after it."
    )
    quote_documents_required = models.BooleanField(
        default=True, help_text="A quote counts towards the quote rule only with its document attached."
    )
    pricing_basis = models.TextField(
        blank=True, help_text="The pricing policy as agreed; a material change is recorded as a change of terms."
    )
    scope = models.TextField(blank=True, help_text="What is bought under the category, as agreed.")
    objects = AuditedManager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["agreement", "name"]
        verbose_name = "transaction category"
        verbose_name_plural = "transaction categories"
        constraints = [
            models.UniqueConstraint(fields=["agreement", "name"], name="category_name_unique"),
            models.CheckConstraint(condition=Q(term_end__gte=F("term_start")), name="category_term_ends_after_start"),
            models.CheckConstraint(condition=Q(quote_validity_days__gte=1), name="category_quote_validity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.name_zh})" if self.name_zh else self.name

    def clean(self) -> None:
        if self.term_start and self.term_end and self.term_end < self.term_start:
            raise ValidationError({"term_end": "The term must end on or after it starts."})


class CategoryRenewal(models.Model):
    """A later term of a category, agreed on renewal; the caps of its periods are the category's caps."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending: steps to record"
        EFFECTIVE = "effective", "Effective"

    category = models.ForeignKey(TransactionCategory, on_delete=models.PROTECT, related_name="renewals")
    term_start = models.DateField()
    term_end = models.DateField()
    term_explanation = models.TextField(
        "explanation of a term over three years",
        blank=True,
        help_text="Needed when the term is longer than three years: the independent financial adviser's view of "
        "why a longer term is required and is normal business practice (Rule 14A.52).",
    )
    reference = models.CharField(
        max_length=300, blank=True, help_text="e.g. the renewal agreement or the announcement of the new caps."
    )
    # Re-compliance (Rule 14A.54): the steps the classification requires, recorded as they happen; the
    # renewed term governs no order until every required one is recorded (compliance.renewals).
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING, editable=False)
    tier = models.CharField(max_length=40, blank=True, editable=False)
    provisional = models.BooleanField(default=False, editable=False)
    missing = models.JSONField(default=list, blank=True, editable=False)
    board_approved_on = models.DateField(
        "board approval", null=True, blank=True, help_text="The day the board approved the renewal."
    )
    announced_on = models.DateField("announcement", null=True, blank=True)
    circular_issued_on = models.DateField("circular issued", null=True, blank=True)
    adviser_letter_on = models.DateField("independent financial adviser's letter", null=True, blank=True)
    shareholders_approved_on = models.DateField("independent shareholders' approval", null=True, blank=True)
    board_minutes_ref = models.CharField("board minutes reference", max_length=300, blank=True)
    abstaining_directors = models.TextField("directors who abstained", blank=True)
    announcement_ref = models.CharField("announcement reference", max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+", editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    objects = AuditedManager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["category", "term_start"]
        verbose_name = "renewal (a later term)"
        verbose_name_plural = "renewals (later terms)"
        constraints = [
            models.CheckConstraint(condition=Q(term_end__gte=F("term_start")), name="renewal_term_ends_after_start"),
            models.UniqueConstraint(fields=["category", "term_start"], name="renewal_term_start_unique"),
            models.CheckConstraint(condition=Q(status__in=["pending", "effective"]), name="renewal_status_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.category}: {self.term_start} to {self.term_end}"

    @property
    def is_pending(self) -> bool:
        return self.status == self.Status.PENDING

    def clean(self) -> None:
        if self.term_start and self.term_end and self.term_end < self.term_start:
            raise ValidationError({"term_end": "The term must end on or after it starts."})


class ExchangeRate(models.Model):
    currency = currency_field()
    target_currency = currency_field("target currency")
    rate_date = models.DateField()
    rate = models.DecimalField(**RATE, help_text="One unit of the currency is this many units of the target currency.")
    source = models.CharField(max_length=200, blank=True, help_text="e.g. PBOC central parity")
    objects = AuditedManager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["-rate_date", "currency", "target_currency"]
        constraints = [
            models.UniqueConstraint(fields=["currency", "target_currency", "rate_date"], name="exchange_rate_unique"),
            models.CheckConstraint(condition=Q(rate__gt=0), name="exchange_rate_positive"),
            models.CheckConstraint(condition=~Q(currency=F("target_currency")), name="exchange_rate_two_currencies"),
        ]

    def __str__(self) -> str:
        return f"1 {self.currency} = {self.rate.normalize():f} {self.target_currency} on {self.rate_date}"

    def clean(self) -> None:
        if self.currency and self.currency == self.target_currency:
            raise ValidationError({"target_currency": "A rate converts between two different currencies."})
        if self.rate is not None and self.rate <= 0:
            raise ValidationError({"rate": "A rate is greater than zero."})


class PurchaseOrder(models.Model):
    class Recognition(models.TextChoices):
        ON_ORDER_DATE = "on_order_date", "On the order date"
        OVER_SERVICE_PERIOD = "over_service_period", "Spread over the service period"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        APPROVED = "approved", "Approved"
        CANCELLED = "cancelled", "Cancelled"

    number = models.CharField(max_length=64, unique=True)
    category = models.ForeignKey(TransactionCategory, on_delete=models.PROTECT, related_name="purchase_orders")
    counterparty = models.ForeignKey(Counterparty, on_delete=models.PROTECT, related_name="purchase_orders")
    description = models.CharField(max_length=500, blank=True)
    order_date = models.DateField()
    amount = models.DecimalField(**MONEY, validators=[positive_money])
    currency = currency_field()
    recognition = models.CharField(max_length=24, choices=Recognition.choices, default=Recognition.ON_ORDER_DATE)
    service_start = models.DateField(null=True, blank=True)
    service_end = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", editable=False
    )
    approved_at = models.DateTimeField(null=True, blank=True, editable=False)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", editable=False
    )
    cancelled_at = models.DateTimeField(null=True, blank=True, editable=False)
    cancellation_reason = models.CharField(max_length=500, blank=True, editable=False)
    cancellation_effective_on = models.DateField(
        null=True, blank=True, editable=False, help_text="The business day from which the commitment is withdrawn."
    )
    invoiced_before_approval = models.BooleanField(
        default=False, editable=False, help_text="An invoice was recorded while the order was still a draft."
    )
    objects = AuditedManager()
    history = HistoricalRecords()

    class Meta:
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
                    errors[name] = "Enter the service period of an order spread over it."
            if self.service_start and self.service_end and self.service_end < self.service_start:
                errors["service_end"] = "The service period must end on or after it starts."
        else:
            for name in ("service_start", "service_end"):
                if getattr(self, name) is not None:
                    errors[name] = "Leave the service period empty: this order is recognised on its order date."
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
    purchase_order = models.ForeignKey(PurchaseOrder, on_delete=models.PROTECT, related_name="quotes")
    supplier = models.ForeignKey(
        Counterparty, on_delete=models.PROTECT, related_name="quotes", help_text="Who quoted the price."
    )
    quoted_on = models.DateField()
    amount = models.DecimalField(**MONEY, validators=[positive_money])
    currency = currency_field()
    reference = models.CharField(max_length=100, blank=True, help_text="The supplier's quote number.")
    document = models.FileField(
        storage=private_storage,
        upload_to=RandomName("quotes"),
        max_length=200,
        blank=True,
        validators=[validate_quote_document],
        help_text="PDF, PNG or JPEG: " + ", ".join(ALLOWED_EXTENSIONS),
    )
    document_name = models.CharField(max_length=200, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+", editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    objects = AuditedManager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["purchase_order", "quoted_on", "id"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="quote_amount_positive")]

    def __str__(self) -> str:
        return f"{self.supplier} {self.currency} {self.amount:,.2f} ({self.quoted_on})"


class Invoice(models.Model):
    purchase_order = models.ForeignKey(PurchaseOrder, on_delete=models.PROTECT, related_name="invoices")
    number = models.CharField(max_length=64, unique=True)
    invoice_date = models.DateField()
    amount = models.DecimalField(**MONEY, validators=[positive_money])
    currency = currency_field()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+", editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    objects = AuditedManager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["purchase_order", "invoice_date", "id"]
        indexes = [models.Index(fields=["invoice_date"], name="invoice_date")]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="invoice_amount_positive")]

    def __str__(self) -> str:
        return self.number


class CreditNote(models.Model):
    """A supplier's credit against one invoice: the only way an actual amount is reduced (an invoice is
    never deleted, whatever becomes of its order). At most what remains of the invoice (compliance.services)."""

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="credit_notes")
    number = models.CharField(max_length=64, unique=True)
    credit_date = models.DateField()
    amount = models.DecimalField(**MONEY, validators=[positive_money], help_text="Positive: the amount credited.")
    currency = currency_field()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+", editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    objects = AuditedManager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["invoice", "credit_date", "id"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="credit_note_amount_positive")]

    def __str__(self) -> str:
        return self.number
