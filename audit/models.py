"""The audit trail kept by the database itself (PostgreSQL).

compliance and transactions keep a model-level history (django-simple-history): what changed through
the models, with the user. It cannot see a write that bypasses them: a `queryset.update()`, raw SQL, a
`manage.py shell` or `dbshell` session. On PostgreSQL a trigger on each table of the ledger
(audit.triggers.TRACKED) writes a RowChange for every insert, update and delete, whatever made it, with
the row before and after as JSON and the context it ran in: the signed-in user and the request, or the
management command, its arguments and the system user (audit.context, the pghistory Context). Rows are
never changed or deleted (a trigger refuses it).

On SQLite (a local trial) there are no triggers: the model-level history is the trail.
"""

import functools

import pgtrigger
from django.apps import apps
from django.db import models
from django.utils.translation import gettext_lazy as _


@functools.cache
def _models_by_table() -> dict:
    # A proxy (e.g. SalesInvoice) shares its concrete model's table; the row is named after the concrete model.
    return {model._meta.db_table: model for model in apps.get_models() if not model._meta.proxy}


class RowChange(models.Model):
    class Operation(models.TextChoices):
        INSERT = "INSERT", _("created")
        UPDATE = "UPDATE", _("changed")
        DELETE = "DELETE", _("deleted")

    table_name = models.CharField(max_length=100)
    operation = models.CharField(max_length=6, choices=Operation.choices)
    row_id = models.CharField(max_length=64, help_text=_("The primary key of the row, as text."))
    old_row = models.JSONField(null=True, blank=True)
    new_row = models.JSONField(null=True, blank=True)
    # The pghistory Context the change was made in (who or what), when there was one. No constraint:
    # the trigger writes it, and a context row is created by the same statement.
    context = models.ForeignKey(
        "pghistory.Context", null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["recorded_at", "id"]
        indexes = [models.Index(fields=["table_name", "row_id"], name="rowchange_row")]
        triggers = [pgtrigger.Protect(name="append_only", operation=pgtrigger.Update | pgtrigger.Delete)]

    def __str__(self) -> str:
        return f"{self.table_name} {self.row_id}: {self.get_operation_display()} at {self.recorded_at}"

    @property
    def changed_fields(self) -> dict[str, tuple[object, object]]:
        """{column: (before, after)} for an update; every column for a creation or deletion."""
        old, new = self.old_row or {}, self.new_row or {}
        return {
            key: (old.get(key), new.get(key)) for key in sorted(old.keys() | new.keys()) if old.get(key) != new.get(key)
        }

    @property
    def record_label(self) -> str:
        """The record in words: "Invoice 7" (the model's name and the row's number or id)."""
        model = _models_by_table().get(self.table_name)
        label = str(model._meta.verbose_name).capitalize() if model else self.table_name
        row = self.new_row or self.old_row or {}
        return f"{label} {row.get('number') or self.row_id}"

    @property
    def who(self) -> str:
        metadata = self.context.metadata if self.context_id and self.context else {}
        if isinstance(metadata.get("user"), dict):
            return str(metadata["user"].get("username"))
        if metadata.get("command"):
            return f"manage.py {metadata['command']} ({metadata.get('system_user', '?')})"
        if metadata.get("task"):
            return f"background job {metadata['task']}"
        return str(_("unknown (no context: e.g. a database session outside the product)"))
