"""The admin's pages for sales to the connected person: sales orders with their price references (and
documents), the pricing rule's status, the allocation to the sales caps and the sales invoices, approved
and cancelled with the same buttons as purchase orders; price references and sales invoices listed for
search and audit. The rows are those of purchases (transactions.models: proxies selected by the
category's direction), so the purchase pages show none of them and these show no purchases."""

from django.contrib import admin
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from compliance.admin.orders import (
    InvoiceAdmin,
    InvoiceForm,
    InvoiceInline,
    PurchaseOrderAdmin,
    QuoteForm,
    QuoteInline,
)
from compliance.rules import selectors
from transactions.admin import AuditedAdmin, ReadOnlyAdmin
from transactions.models import PriceReference, SalesInvoice, SalesOrder, TransactionCategory
from transactions.money import format_money


class PriceReferenceForm(QuoteForm):
    class Meta(QuoteForm.Meta):
        model = PriceReference
        labels = {"supplier": _("independent customer"), "quoted_on": _("dated")}
        help_texts = {"reference": _("The contract, invoice or offer to the customer.")}


class PriceReferenceInline(QuoteInline):
    model = PriceReference
    form = PriceReferenceForm
    verbose_name = _("price reference (what an independent customer is charged)")
    verbose_name_plural = _("price references (what independent customers are charged)")


class SalesInvoiceForm(InvoiceForm):
    class Meta(InvoiceForm.Meta):
        model = SalesInvoice


class SalesInvoiceInline(InvoiceInline):
    model = SalesInvoice
    form = SalesInvoiceForm


@admin.register(SalesOrder)
class SalesOrderAdmin(PurchaseOrderAdmin):
    direction = TransactionCategory.Direction.SALE
    inlines = [PriceReferenceInline, SalesInvoiceInline]
    fieldsets = [
        (None, {"fields": ["number", "category", "counterparty", "description"]}),
        (_("Amount and recognition"), {"fields": ["order_date", "amount", "currency", "recognition",
                                                   "service_start", "service_end"]}),
        (_("Compliance"), {"fields": ["before_approval", "pricing_rule", "allocation"]}),
        (_("Status"), {"fields": PurchaseOrderAdmin.audit_fields}),
    ]  # fmt: skip

    def get_readonly_fields(self, request, obj=None):
        return ["pricing_rule" if name == "quote_rule" else name for name in super().get_readonly_fields(request, obj)]

    @admin.display(description=_("pricing rule"))
    def pricing_rule(self, order) -> str:
        """The references counted, and by how much the sale is priced above (or below) the highest."""
        if order.pk is None:
            return gettext("Shown once the order is saved.")
        result = selectors.quote_rule_for_order(order)
        currency = order.currency
        rows = format_html_join(
            "",
            "<li>{} · {} · {} · {} · {}</li>",
            (
                (
                    a.quote.supplier,
                    a.quote.quoted_on,
                    a.quote.reference or "-",
                    format_money(a.quote.amount, a.quote.currency)
                    + ("" if a.quote.currency == currency else " " + gettext("(%(amount)s at the order date's rate)")
                       % {"amount": format_money(a.compared, currency)}),
                    gettext("counted") if a.counted else gettext("not counted: %(reason)s") % {"reason": a.reason},
                )
                for a in result.assessments
            ),
        )  # fmt: skip
        verdict = gettext("passes") if result.passes else gettext("does not pass")
        if result.order_amount is None or result.margin is None:
            comparison = gettext("the price cannot be compared until the rates the references need are recorded")
        elif result.margin < 0:
            comparison = gettext("priced %(amount)s below the highest counted reference") % {
                "amount": format_money(-result.margin, currency)
            }
        else:
            comparison = gettext("priced %(amount)s at or above the highest counted reference") % {
                "amount": format_money(result.margin, currency)
            }
        documents = (
            gettext("References count only with their document attached (PDF, PNG or JPEG).")
            if order.category.quote_documents_required
            else ""
        )
        return format_html(
            "<p><strong>{} {}</strong>: {}; {}. {}</p><ul>{}</ul>{}",
            gettext("The sale"),
            verdict,
            gettext("%(count)s of %(required)s independent customers' references")
            % {"count": result.independent_suppliers, "required": result.required},
            comparison,
            documents,
            rows,
            self._exception_note(order),
        )


@admin.register(PriceReference)
class PriceReferenceAdmin(ReadOnlyAdmin, AuditedAdmin):
    """All price references, for search and audit; they are entered on their sales order."""

    list_display = ["purchase_order", "supplier", "quoted_on", "currency", "amount", "reference", "document_name"]
    list_select_related = ["purchase_order", "supplier"]
    search_fields = ["purchase_order__number", "supplier__name", "supplier__name_zh", "reference"]
    date_hierarchy = "quoted_on"


@admin.register(SalesInvoice)
class SalesInvoiceAdmin(InvoiceAdmin):
    """All sales invoices, for search and audit; they are entered on their sales order."""

    def get_queryset(self, request):
        return SalesInvoice.objects.select_related("purchase_order")
