"""The audit trail beyond single saves.

django-simple-history records every save() and delete() of an audited model, with the user of the
request. Two paths would escape it: queryset bulk operations (update(), bulk_update(), bulk_create())
and work done outside a request (management commands, shell scripts). So:

- every audited model's default manager is AuditedManager, whose bulk operations write a history
  row for each row they change, in the same transaction;
- `audit_reason("manage.py load_demo")` marks what a command or script writes: every history row
  recorded inside it without a reason of its own gets that one.

(A change made with SQL directly against the database is outside the product; restrict database
credentials accordingly.)
"""

import contextlib
import contextvars
import getpass
import os
from collections.abc import Iterator

from django.core.management.base import BaseCommand
from django.db import models, transaction
from django.dispatch import receiver
from simple_history.signals import pre_create_historical_record

_reason: contextvars.ContextVar[str] = contextvars.ContextVar("audit_reason", default="")


@contextlib.contextmanager
def audit_reason(reason: str) -> Iterator[None]:
    token = _reason.set(reason)
    try:
        yield
    finally:
        _reason.reset(token)


def current_reason(default: str = "") -> str:
    return _reason.get() or default


@receiver(pre_create_historical_record, dispatch_uid="cct_audit_reason")
def _mark_reason(sender, history_instance, **kwargs) -> None:
    if not history_instance.history_change_reason and _reason.get():
        history_instance.history_change_reason = _reason.get()


class AuditedQuerySet(models.QuerySet):
    """Bulk operations that leave the same trail as saving each row."""

    def _record(self, rows: list, *, update: bool, what: str) -> None:
        rows = [row for row in rows if row.pk is not None]
        if rows:
            self.model.history.bulk_history_create(rows, update=update, default_change_reason=current_reason(what))

    def update(self, **kwargs) -> int:
        # bulk_update() goes through update() too, so it is covered here.
        with transaction.atomic(using=self.db):
            pks = list(self.values_list("pk", flat=True))
            count = super().update(**kwargs)
            self._record(
                list(self.model._base_manager.using(self.db).filter(pk__in=pks)), update=True, what="bulk update"
            )
        return count

    def bulk_create(self, objs, *args, **kwargs) -> list:
        with transaction.atomic(using=self.db):
            created = super().bulk_create(objs, *args, **kwargs)
            self._record(created, update=False, what="bulk create")
        return created


AuditedManager = models.Manager.from_queryset(AuditedQuerySet)


class AuditedCommand(BaseCommand):
    """A management command whose writes are marked in the audit trail with its name and who ran it."""

    def execute(self, *args, **options):
        try:
            who = getpass.getuser()
        except (KeyError, OSError):
            who = f"uid {os.getuid()}"
        name = self.__module__.rsplit(".", 1)[-1]
        with audit_reason(f"manage.py {name} (run by {who})"):
            return super().execute(*args, **options)
