"""Admin of transaction categories and their annual caps: terms, classification, utilisation and the caps'
history of amounts and revisions.
"""

import itertools

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, gettext_lazy

from compliance.admin import users as user_admin  # noqa: F401 (the user pages)
from compliance.admin.lifecycle import amount_history_panel, classification_panel, revisions_panel, terms_panel
from compliance.admin.orders import ServiceCheckedForm, money_column
from compliance.caps import setup
from compliance.common.dates import day_in_words
from compliance.delivery import outbox  # noqa: F401 (the user pages)
from compliance.delivery.links import revision_start_url
from compliance.models import (
    AnnualCap,
    LedgerEntry,
)
from compliance.rules import classification, selectors
from compliance.templatetags.cct import cap_status_label, utilisation_bar
from transactions.admin import AuditedAdmin
from transactions.models import (
    CreditNote,
    Invoice,
    PurchaseOrder,
    TransactionCategory,
)
from transactions.money import format_money

# --- Categories and caps ----------------------------------------------------------------------------------


class UtilisationColumns:
    """Read-only utilisation of caps from compliance.rules.selectors.caps_with_utilisation."""

    utilisation_fields = ["actual_column", "committed_column", "utilisation", "remaining_column", "status_column"]

    @admin.display(description=gettext_lazy("status"))
    def status_column(self, cap) -> str:
        return "-" if cap.pk is None else cap_status_label(cap)

    @admin.display(description=gettext_lazy("actual"))
    def actual_column(self, cap) -> str:
        return "-" if cap.pk is None else money_column(cap.actual, cap.category.currency)

    @admin.display(description=gettext_lazy("committed"))
    def committed_column(self, cap) -> str:
        return "-" if cap.pk is None else money_column(cap.committed, cap.category.currency)

    @admin.display(description=gettext_lazy("utilisation (larger of actual and committed)"))
    def utilisation(self, cap) -> str:
        return "-" if cap.pk is None else utilisation_bar(cap.used_pct)

    @admin.display(description=gettext_lazy("remaining"))
    def remaining_column(self, cap) -> str:
        return "-" if cap.pk is None else money_column(cap.remaining, cap.category.currency)

    @admin.display(description=gettext_lazy("period"), ordering="period_start")
    def period(self, cap) -> str:
        return format_html('<span style="white-space:nowrap">{} – {}</span>', cap.period_start, cap.period_end)

    @admin.display(description=gettext_lazy("utilisation"))
    def utilisation_with_figures(self, cap) -> str:
        currency = cap.category.currency
        return format_html(
            '{}<br><small style="white-space:nowrap">{}<br>{}</small>',
            utilisation_bar(cap.used_pct),
            gettext("actual %(amount)s") % {"amount": format_money(cap.actual, currency)},
            gettext("committed %(amount)s") % {"amount": format_money(cap.committed, currency)},
        )


def _document(reference: str) -> str:
    """A ledger entry's document ("invoice:7", as the API gives it) in words: the kind's name and its id."""
    kind, _colon, pk = reference.partition(":")
    names = {"purchase_order": PurchaseOrder, "invoice": Invoice, "credit_note": CreditNote}
    model = names.get(kind)
    return f"{model._meta.verbose_name} {pk}" if model else reference


class AnnualCapForm(ServiceCheckedForm):
    service_check = staticmethod(setup.annual_cap_check)

    class Meta:
        model = AnnualCap
        fields = ["category", "period_start", "period_end", "amount"]


class AnnualCapFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        periods = sorted(
            (form.cleaned_data["period_start"], form.cleaned_data["period_end"])
            for form in self.forms
            if form.cleaned_data.get("period_start") and form.cleaned_data.get("period_end")
            and not form.cleaned_data.get("DELETE")
        )  # fmt: skip
        for (_, end), (next_start, _) in itertools.pairwise(periods):
            if next_start <= end:
                raise ValidationError(gettext("Two of these periods overlap; a day belongs to one period only."))


class AnnualCapInline(UtilisationColumns, admin.TabularInline):
    model = AnnualCap
    form = AnnualCapForm
    formset = AnnualCapFormSet
    extra = 0
    can_delete = False
    fields = ["period_start", "period_end", "amount", *UtilisationColumns.utilisation_fields]
    readonly_fields = UtilisationColumns.utilisation_fields
    show_change_link = True

    def get_queryset(self, request):
        return selectors.caps_with_utilisation(super().get_queryset(request)).order_by("period_start")


class TransactionCategoryForm(ServiceCheckedForm):
    service_check = staticmethod(setup.transaction_category_check)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Left out of a form, a category keeps its direction (a new one: purchases).
        if "direction" in self.fields:  # absent where the page is read-only
            self.fields["direction"].required = False

    def clean_direction(self) -> str:
        return self.cleaned_data.get("direction") or self.instance.direction or TransactionCategory.Direction.PURCHASE

    class Meta:
        model = TransactionCategory
        fields = [
            "agreement", "name", "name_zh", "direction", "term_start", "term_end", "term_explanation", "currency",
            "min_independent_quotes", "quote_validity_days", "quote_documents_required", "pricing_basis", "scope",
        ]  # fmt: skip


@admin.register(TransactionCategory)
class TransactionCategoryAdmin(AuditedAdmin):
    form = TransactionCategoryForm
    inlines = [AnnualCapInline]
    list_display = [
        "name", "name_zh", "agreement", "direction", "term_start", "term_end", "currency", "min_independent_quotes",
    ]  # fmt: skip
    list_select_related = ["agreement"]
    list_filter = ["direction", "agreement"]
    search_fields = ["name", "name_zh", "agreement__title"]
    readonly_fields = ["terms", "ratios_and_tier"]

    @admin.display(description=gettext_lazy("terms (first and renewals)"))
    def terms(self, category) -> str:
        return terms_panel(category)

    @admin.display(description=gettext_lazy("classification (Rule 14A.76)"))
    def ratios_and_tier(self, category) -> str:
        if category.pk is None:
            return gettext("Shown once the category is saved.")
        return classification_panel(classification.category_classification(category))

    def save_model(self, request, obj, form, change) -> None:
        setup.transaction_category_save(category=obj, user=request.user)

    def save_formset(self, request, form, formset, change) -> None:
        for instance in formset.save(commit=False):
            if isinstance(instance, AnnualCap):
                setup.annual_cap_save(cap=instance, user=request.user)


class LiveFilter(admin.SimpleListFilter):
    title = gettext_lazy("period")
    parameter_name = "period"

    def lookups(self, request, model_admin):
        return [("live", gettext("Live today")), ("past", gettext("Ended")), ("future", gettext("Not started"))]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        if self.value() == "live":
            return queryset.filter(period_start__lte=today, period_end__gte=today)
        if self.value() == "past":
            return queryset.filter(period_end__lt=today)
        if self.value() == "future":
            return queryset.filter(period_start__gt=today)
        return queryset


@admin.register(AnnualCap)
class AnnualCapAdmin(UtilisationColumns, AuditedAdmin):
    form = AnnualCapForm
    # At a laptop's width: actual and committed sit under the utilisation bar rather than in columns of
    # their own (the cap's page and its category's page show them in full).
    list_display = [
        "category", "period", "amount_column", "utilisation_with_figures", "remaining_column", "status_column",
        "revise",
    ]  # fmt: skip
    list_filter = [LiveFilter, "category"]
    readonly_fields = [*UtilisationColumns.utilisation_fields, "exceeded_on", "revisions", "amount_history", "ledger"]
    search_fields = ["category__name", "category__name_zh", "category__agreement__title"]

    def get_queryset(self, request):
        return selectors.caps_with_utilisation(super().get_queryset(request))

    @admin.display(description=gettext_lazy("cap"), ordering="amount")
    def amount_column(self, cap) -> str:
        return money_column(cap.amount, cap.category.currency)

    @admin.display(description=gettext_lazy("revision"))
    def revise(self, cap) -> str:
        return format_html('<a href="{}">{}</a>', revision_start_url(cap), gettext("Revise"))

    @admin.display(description=gettext_lazy("revisions"))
    def revisions(self, cap) -> str:
        return revisions_panel(cap)

    @admin.display(description=gettext_lazy("first exceeded on"))
    def exceeded_on(self, cap) -> str:
        return "-" if cap.pk is None or cap.exceeded_on is None else day_in_words(cap.exceeded_on)

    @admin.display(description=gettext_lazy("ledger (latest entries)"))
    def ledger(self, cap) -> str:
        if cap.pk is None:
            return "-"
        entries = list(LedgerEntry.objects.filter(cap=cap).order_by("-entry_date", "-id")[:20])
        if not entries:
            return gettext_lazy("No entries yet.")
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td style='text-align:right'>{}</td><td>{}</td></tr>",
            (
                (e.entry_date, e.get_basis_display(), e.get_kind_display(), f"{e.amount:,.2f}", _document(e.document))
                for e in entries
            ),
        )
        return format_html(
            "<table><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>{}</table>"
            "<p>{} <code>/api/caps/{}/ledger/</code></p>",
            gettext_lazy("date"),
            gettext_lazy("basis"),
            gettext_lazy("kind"),
            gettext_lazy("amount"),
            gettext_lazy("document"),
            rows,
            gettext_lazy("Every entry:"),
            cap.pk,
        )

    @admin.display(description=gettext_lazy("history of the cap's values"))
    def amount_history(self, cap) -> str:
        return amount_history_panel(cap)

    def save_model(self, request, obj, form, change) -> None:
        setup.annual_cap_save(cap=obj, user=request.user)
