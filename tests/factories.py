"""Factories for the facts and a small ready-made ledger to arrange tests on."""

import datetime
import io
import itertools
from dataclasses import dataclass, field
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model

from compliance.models import AnnualCap, FinancialYear
from transactions.documents import simple_pdf
from transactions.models import (
    ConnectedPerson,
    Counterparty,
    ExchangeRate,
    FrameworkAgreement,
    Invoice,
    PurchaseOrder,
    Quote,
    TransactionCategory,
)

D = datetime.date.fromisoformat


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("correct-horse-battery-staple")


class ConnectedPersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ConnectedPerson

    name = factory.Sequence(lambda n: f"Connected Group {n}")
    name_zh = "關連集團"
    basis = "Substantial shareholder holding 11.12%"
    connected_from = D("2020-01-01")


class CounterpartyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Counterparty

    name = factory.Sequence(lambda n: f"Supplier {n} Ltd.")
    connected_person = None


class AgreementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FrameworkAgreement

    title = factory.Sequence(lambda n: f"Framework agreement {n}")
    connected_person = factory.SubFactory(ConnectedPersonFactory)
    signed_on = D("2025-07-29")
    board_approved_on = D("2025-07-29")


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TransactionCategory

    agreement = factory.SubFactory(AgreementFactory)
    name = factory.Sequence(lambda n: f"Category {n}")
    term_start = D("2025-07-29")
    term_end = D("2026-12-31")
    currency = "CNY"


class CapFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AnnualCap

    category = factory.SubFactory(CategoryFactory)
    period_start = D("2026-01-01")
    period_end = D("2026-12-31")
    amount = Decimal("1000000.00")


class FinancialYearFactory(factory.django.DjangoModelFactory):
    """A profitable year in CNY whose ratios are easy to read: a cap of CNY 1,000,000 is 0.1% of revenue."""

    class Meta:
        model = FinancialYear
        django_get_or_create = ("year_end",)

    year_end = D("2025-12-31")
    currency = "CNY"
    revenue = Decimal("1000000000.00")
    total_assets = Decimal("2000000000.00")
    profit_before_tax = Decimal("100000000.00")


class RateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ExchangeRate

    currency = "USD"
    target_currency = "CNY"
    rate_date = D("2026-03-02")
    rate = Decimal("7.1000000000")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        # Through the service, as the API and the admin do: documents converted at it are revalued.
        from compliance.caps.documents import exchange_rate_save

        return exchange_rate_save(rate=model_class(*args, **kwargs), user=None)


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PurchaseOrder

    number = factory.Sequence(lambda n: f"PO-{n:06d}")
    category = factory.SubFactory(CategoryFactory)
    counterparty = factory.SubFactory(CounterpartyFactory)
    order_date = D("2026-03-02")
    amount = Decimal("100000.00")
    currency = "CNY"
    created_by = factory.SubFactory(UserFactory)

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        # An order written as approved (the gates tested elsewhere) posts its commitment like an approval.
        from compliance.caps.ledger import order_commitment_post

        order = super()._create(model_class, *args, **kwargs)
        if order.status == PurchaseOrder.Status.APPROVED:
            order_commitment_post(order, user=order.approved_by)
        return order


class QuoteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Quote

    purchase_order = factory.SubFactory(OrderFactory)
    supplier = factory.SubFactory(CounterpartyFactory)
    quoted_on = D("2026-02-20")
    amount = Decimal("110000.00")
    currency = "CNY"
    # The quote rule counts a quote only with its document (while the category requires documents).
    document = factory.django.FileField(filename="quote.pdf", data=simple_pdf("Quotation", "(test)"))
    document_name = "quote.pdf"


class InvoiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Invoice

    purchase_order = factory.SubFactory(OrderFactory)
    number = factory.Sequence(lambda n: f"INV-{n:06d}")
    invoice_date = D("2026-03-31")
    amount = Decimal("100000.00")
    currency = "CNY"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        # Through the service, so that the invoice is posted to the cap ledger like any recorded invoice.
        from compliance.caps.documents import invoice_save

        invoice = model_class(*args, **kwargs)
        return invoice_save(invoice=invoice, user=invoice.created_by or invoice.purchase_order.created_by)


_SALE_NUMBERS = itertools.count(1)


@dataclass
class Ledger:
    """One connected person, its two group companies, three independent suppliers, an agreement and a
    category (term 2025-07-29 to 2026-12-31, CNY) with two caps: 1,000,000.00 for 2025-07-29 to
    2025-12-31 and 2,000,000.00 for 2026."""

    person: ConnectedPerson
    connected: Counterparty
    connected_other: Counterparty
    independents: list[Counterparty]
    agreement: FrameworkAgreement
    category: TransactionCategory
    caps: list[AnnualCap] = field(default_factory=list)
    clerk: object = None
    sales: TransactionCategory | None = None
    sales_caps: list[AnnualCap] = field(default_factory=list)

    @classmethod
    def build_default(cls) -> "Ledger":
        person = ConnectedPersonFactory(name="Xiaomi Group", name_zh="小米集團")
        category = CategoryFactory(agreement=AgreementFactory(connected_person=person), name="IDC services")
        ledger = cls(
            person=person,
            connected=CounterpartyFactory(name="Xiaomi Corporation", connected_person=person),
            connected_other=CounterpartyFactory(name="Xiaomi Subsidiary", connected_person=person),
            independents=[CounterpartyFactory(name=f"Independent {c} Ltd.") for c in "ABC"],
            agreement=category.agreement,
            category=category,
            clerk=UserFactory(username="clerk"),
        )
        ledger.caps = [
            CapFactory(category=category, period_start=D("2025-07-29"), period_end=D("2025-12-31"),
                       amount=Decimal("1000000.00")),
            CapFactory(category=category, period_start=D("2026-01-01"), period_end=D("2026-12-31"),
                       amount=Decimal("2000000.00")),
        ]  # fmt: skip
        return ledger

    def order(self, amount="100000.00", *, quotes=("110000.00", "112000.00"), quoted_on=None, **fields):
        """A draft order by the clerk with independent quotes dated before it (by default passing the rule)."""
        fields.setdefault("category", self.category)
        fields.setdefault("counterparty", self.connected)
        fields.setdefault("created_by", self.clerk)
        if fields.get("service_start"):
            fields.setdefault("recognition", PurchaseOrder.Recognition.OVER_SERVICE_PERIOD)
        order = OrderFactory(amount=Decimal(amount), **fields)
        day = quoted_on or order.order_date - datetime.timedelta(days=10)
        for supplier, quote_amount in zip(self.independents, quotes, strict=False):
            QuoteFactory(purchase_order=order, supplier=supplier, quoted_on=day, amount=Decimal(quote_amount),
                         currency=order.currency)  # fmt: skip
        return order

    def approved(self, amount="100000.00", *, approver, **fields):
        from compliance.caps.approval import purchase_order_approve

        order = self.order(amount, quotes=(str(Decimal(amount) + 1), str(Decimal(amount) + 2)), **fields)
        grant_approval(approver)
        return purchase_order_approve(order_id=order.pk, user=approver)

    def sales_category(self) -> TransactionCategory:
        """A category of sales to the connected person under the same agreement (made once): "Cloud services",
        CNY, the same term, caps of 500,000.00 for 2025-07-29 to 2025-12-31 and 800,000.00 for 2026."""
        if self.sales is None:
            self.sales = CategoryFactory(agreement=self.agreement, name="Cloud services", direction="sale")
            self.sales_caps = [
                CapFactory(category=self.sales, period_start=D("2025-07-29"), period_end=D("2025-12-31"),
                           amount=Decimal("500000.00")),
                CapFactory(category=self.sales, period_start=D("2026-01-01"), period_end=D("2026-12-31"),
                           amount=Decimal("800000.00")),
            ]  # fmt: skip
        return self.sales

    def sale(self, amount="100000.00", *, references=("90000.00", "100000.00"), dated=None, **fields):
        """A draft sales order to the connected person by the clerk, with price references of independent
        customers dated before it (by default not higher than the order: passing the pricing rule)."""
        fields.setdefault("category", self.sales_category())
        fields.setdefault("counterparty", self.connected)
        fields.setdefault("created_by", self.clerk)
        fields.setdefault("number", f"SO-{next(_SALE_NUMBERS):06d}")
        if fields.get("service_start"):
            fields.setdefault("recognition", PurchaseOrder.Recognition.OVER_SERVICE_PERIOD)
        order = OrderFactory(amount=Decimal(amount), **fields)
        day = dated or order.order_date - datetime.timedelta(days=10)
        for customer, reference in zip(self.independents, references, strict=False):
            QuoteFactory(purchase_order=order, supplier=customer, quoted_on=day, amount=Decimal(reference),
                         currency=order.currency, reference=f"REF-{customer.pk}")  # fmt: skip
        return order


def grant_approval(user) -> None:
    """Let a user without the compliance role approve purchase and sales orders (the approval service checks
    the permission)."""
    from django.contrib.auth.models import Permission

    for codename in ("approve_purchaseorder", "approve_salesorder"):
        if not user.has_perm(f"transactions.{codename}"):
            user.user_permissions.add(Permission.objects.get(codename=codename))
            for cache in ("_perm_cache", "_user_perm_cache", "_group_perm_cache"):
                user.__dict__.pop(cache, None)


def _blank_pdf() -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


# A well-formed one-page PDF: uploads are opened and judged by their content (transactions.documents).
PDF = _blank_pdf()


def post_to_ledger(*, orders=(), invoices=()) -> None:
    """Post documents written in bulk (orders approved and invoices in the category's currency) to the cap
    ledger in one posting, as their approval and recording would have: for query-count tests."""
    from django.db import transaction

    from compliance.caps.ledger import commitment_entries, ledger_post
    from compliance.models import LedgerEntry
    from compliance.rules.selectors import order_allocation

    caps: dict[int, list[AnnualCap]] = {}

    def caps_of(category_id):
        if category_id not in caps:
            caps[category_id] = list(AnnualCap.objects.filter(category_id=category_id))
        return caps[category_id]

    entries = []
    for order in orders:
        entries += commitment_entries(order, order_allocation(order, order.amount, caps_of(order.category_id)))
    for invoice in invoices:
        order = invoice.purchase_order
        cap = next(c for c in caps_of(order.category_id) if c.covers(invoice.invoice_date))
        entries.append(
            LedgerEntry(
                cap=cap,
                entry_date=invoice.invoice_date,
                basis="actual",
                kind="invoice",
                amount=invoice.amount,
                purchase_order_id=order.pk,
                invoice=invoice,
            )
        )
    with transaction.atomic():
        ledger_post(entries)
