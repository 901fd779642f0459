"""The database's audit trail, for auditors and compliance: read only, searchable by table and row."""

from django.contrib import admin
from django.utils.translation import gettext_lazy

from .models import RowChange


@admin.register(RowChange)
class RowChangeAdmin(admin.ModelAdmin):
    list_display = ["recorded_at", "table_name", "row_id", "operation", "who"]
    list_filter = ["table_name", "operation"]
    search_fields = ["=row_id", "table_name"]
    date_hierarchy = "recorded_at"
    list_select_related = ["context"]
    fields = ["recorded_at", "table_name", "row_id", "operation", "who", "changes", "old_row", "new_row"]
    readonly_fields = fields

    @admin.display(description=gettext_lazy("changes"))
    def changes(self, change: RowChange) -> str:
        return "; ".join(f"{field}: {before} → {after}" for field, (before, after) in change.changed_fields.items())

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
