"""Admin for the reference facts: connected persons, counterparties, agreements, exchange rates.

Purchase orders, their quotes and invoices, categories and caps are in compliance.admin.orders, because
saving them runs compliance rules. Every page keeps a change history (who, when, what), readable
by every role and revertible by nobody.
"""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import Count
from django.utils.translation import gettext, gettext_lazy, gettext_noop
from simple_history.admin import SimpleHistoryAdmin

from . import services
from .models import ConnectedPerson, Counterparty, ExchangeRate, FrameworkAgreement, Quote
from .selectors import exchange_rate_in_use


class HistoryAdmin(SimpleHistoryAdmin):
    """Shows who changed what and when; an old version can be looked at, never saved back. On
    PostgreSQL the page also lists what the database's own trail recorded for the record (audit.models):
    every change, including those made outside the product's forms and API."""

    object_history_template = "admin/cct_object_history.html"

    def __init__(self, model, admin_site) -> None:
        # A proxy (a sales order is a purchase order's row) keeps the history of its concrete model; the
        # library looks for its history manager on the proxy's own options, so they are given its name.
        concrete = model._meta.concrete_model._meta
        if model._meta.proxy and hasattr(concrete, "simple_history_manager_attribute"):
            model._meta.simple_history_manager_attribute = concrete.simple_history_manager_attribute
        super().__init__(model, admin_site)

    def database_changes(self, object_id):
        """What the database's trail holds for this record (a subclass adds the records that belong to it)."""
        from audit.models import RowChange

        return RowChange.objects.filter(table_name=self.model._meta.db_table, row_id=str(object_id))

    def history_view(self, request, object_id, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "database_changes": list(
                self.database_changes(object_id).select_related("context").order_by("-recorded_at", "-id")[:200]
            )
            if connection.vendor == "postgresql"
            else None,
        }
        return super().history_view(request, object_id, extra_context)

    def set_history_delta_changes(self, request, historical_records, foreign_keys_are_objs=True):
        """Each entry's changes against the one before, over every recorded field (the library's default
        leaves out fields no form edits, such as status and approved by: what an approval changes), with
        related records named (one query per related model for the page). An entry without a reason says
        "created" or "—" rather than "None"."""
        records = list(historical_records)
        fields = [field for field in self.model._meta.concrete_fields if field.name != "id"]
        names = {}
        for field in fields:
            if field.is_relation:
                ids = {getattr(record, field.attname) for record in records} - {None}
                names[field.name] = {obj.pk: str(obj) for obj in field.related_model._base_manager.filter(pk__in=ids)}

        def shown(record, field):
            value = getattr(record, field.attname)
            if value is None or value == "":
                return "—"
            if field.is_relation:
                return names[field.name].get(value, value)
            if field.choices:
                return dict(field.flatchoices).get(value, value)
            return value

        for newer, older in zip(records, [*records[1:], None][: len(records)], strict=True):
            if not newer.history_change_reason:
                newer.history_change_reason = gettext("created") if newer.history_type == "+" else "—"
            else:
                newer.history_change_reason = reason_shown(newer.history_change_reason)
            if older is None:
                continue
            newer.history_delta_changes = [
                {"field": str(field.verbose_name).capitalize(), "old": shown(older, field), "new": shown(newer, field)}
                for field in fields
                if getattr(older, field.attname) != getattr(newer, field.attname)
            ]

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method != "GET":
            raise PermissionDenied("The change history is evidence; it cannot be reverted.")
        return super().history_form_view(request, object_id, version_id, extra_context)


# Words of the history pages (django-simple-history's templates and admin) that its catalogues lack in
# Traditional Chinese: marked here so that the product's catalogues carry them in both.
HISTORY_WORDS = (
    gettext_noop("View history: %s"), gettext_noop("Change history: %s"), gettext_noop("View %s"),
    gettext_noop("Object"), gettext_noop("Comment"), gettext_noop("Changed by"), gettext_noop("Change reason"),
    gettext_noop("Created"), gettext_noop("Changed"), gettext_noop("Deleted"),
    gettext_noop("This object doesn't have a change history."),
)  # fmt: skip


def reason_shown(reason: str) -> str:
    """A change reason the product records (in English, as evidence) in the reader's language; a person's own
    words (a cancellation's reason) as written."""
    fixed = {"approved": gettext("approved"), "cancelled": gettext("cancelled"), "created": gettext("created"),
             "invoiced before approval": gettext("invoiced before approval")}  # fmt: skip
    if reason in fixed:
        return fixed[reason]
    if reason.startswith("cancelled: "):
        return gettext("cancelled: %(reason)s") % {"reason": reason.removeprefix("cancelled: ")}
    return reason


class ReadOnlyAdmin:
    """For lists of records the product writes itself (or that are entered elsewhere): read, never
    added, changed or deleted here."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class AuditedAdmin(HistoryAdmin):
    """Nothing is deleted through the admin unless a subclass says otherwise."""

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class CounterpartyInline(admin.TabularInline):
    model = Counterparty
    fields = ["name", "name_zh"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ConnectedPerson)
class ConnectedPersonAdmin(AuditedAdmin):
    list_display = ["name", "name_zh", "connected_from", "connected_until", "counterparty_count"]
    search_fields = ["name", "name_zh"]
    inlines = [CounterpartyInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(counterparty_total=Count("counterparties"))

    @admin.display(description=gettext_lazy("group companies"), ordering="counterparty_total")
    def counterparty_count(self, person) -> int:
        return person.counterparty_total


@admin.register(Counterparty)
class CounterpartyAdmin(AuditedAdmin):
    list_display = ["name", "name_zh", "erp_code", "connected_person", "independent"]
    list_filter = [("connected_person", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["connected_person"]
    search_fields = ["name", "name_zh", "erp_code"]

    @admin.display(boolean=True, description=gettext_lazy("independent third party"))
    def independent(self, counterparty) -> bool:
        return counterparty.is_independent


@admin.register(FrameworkAgreement)
class FrameworkAgreementAdmin(AuditedAdmin):
    list_display = ["title", "title_zh", "connected_person", "signed_on", "board_approved_on"]
    list_select_related = ["connected_person"]
    search_fields = ["title", "title_zh", "connected_person__name"]
    date_hierarchy = "signed_on"


@admin.register(ExchangeRate)
class ExchangeRateAdmin(AuditedAdmin):
    list_display = ["rate_date", "currency", "target_currency", "rate", "source"]
    list_filter = [("currency", admin.AllValuesFieldListFilter), ("target_currency", admin.AllValuesFieldListFilter)]
    search_fields = ["currency", "target_currency", "source"]
    date_hierarchy = "rate_date"

    def get_actions(self, request):
        # One at a time, through the service that refuses to delete a rate in use.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def has_delete_permission(self, request, obj=None) -> bool:
        allowed = request.user.has_perm("transactions.delete_exchangerate")
        return allowed and (obj is None or not exchange_rate_in_use(obj))

    def delete_model(self, request, obj) -> None:
        services.exchange_rate_delete(rate=obj, user=request.user)


@admin.register(Quote)
class QuoteAdmin(ReadOnlyAdmin, AuditedAdmin):
    """All quotes, for search and audit; they are entered on their purchase order."""

    list_display = ["purchase_order", "supplier", "quoted_on", "currency", "amount", "document_name"]
    list_select_related = ["purchase_order", "supplier"]
    list_filter = [("supplier", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["purchase_order__number", "supplier__name", "supplier__name_zh", "reference"]
    date_hierarchy = "quoted_on"

    def get_queryset(self, request):
        # A sale's price references are listed under price references (compliance.admin.sales).
        return super().get_queryset(request).filter(purchase_order__category__direction="purchase")
