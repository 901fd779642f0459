"""The database's own audit trail (PostgreSQL triggers): every insert, update and delete of the ledger's
tables is recorded with its context, including writes that bypass the models (queryset updates, raw
SQL) and those of a `manage.py shell` session."""

import collections
import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.db import connection

from audit import context
from audit.models import RowChange
from audit.triggers import TRACKED
from transactions.models import PurchaseOrder

pytestmark = pytest.mark.postgres


def changes_of(obj) -> list[RowChange]:
    return list(RowChange.objects.filter(table_name=obj._meta.db_table, row_id=str(obj.pk)).select_related("context"))


def test_every_tracked_table_has_the_trigger(db):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT event_object_table FROM information_schema.triggers WHERE trigger_name LIKE 'pgtrigger_audit_%%'"
        )
        tables = collections.Counter(row[0] for row in cursor.fetchall())
    from django.apps import apps

    assert tables == {apps.get_model(label)._meta.db_table: 3 for label in TRACKED}  # insert, update, delete


def test_an_update_that_bypasses_the_models_is_recorded_with_before_and_after(ledger):
    order = ledger.order("100000.00")

    PurchaseOrder._base_manager.filter(pk=order.pk).update(amount="1.00")

    insert, update = changes_of(order)
    assert (insert.operation, update.operation) == ("INSERT", "UPDATE")
    assert update.changed_fields == {"amount": (100000.0, 1.0)}


def test_raw_sql_is_recorded_too(ledger):
    order = ledger.order("100000.00")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE transactions_purchaseorder SET number = 'PO-RAW' WHERE id = %s", [order.pk])
        cursor.execute("DELETE FROM transactions_quote WHERE purchase_order_id = %s", [order.pk])

    assert changes_of(order)[-1].changed_fields == {"number": (order.number, "PO-RAW")}
    deleted = RowChange.objects.filter(table_name="transactions_quote", operation="DELETE")
    assert deleted.count() == 2 and all(change.old_row["purchase_order_id"] == order.pk for change in deleted)


def test_an_api_write_is_recorded_with_the_user(finance_api, finance_user, ledger):
    order = ledger.order("100000.00")

    response = finance_api.patch(f"/api/purchase-orders/{order.pk}/", {"amount": "90000.00"}, format="json")

    assert response.status_code == 200, response.content
    change = changes_of(order)[-1]
    assert change.changed_fields == {"amount": (100000.0, 90000.0)}
    assert change.context.metadata["user"] == {"id": finance_user.pk, "username": finance_user.username}
    assert change.context.metadata["url"] == f"/api/purchase-orders/{order.pk}/"
    assert change.who == finance_user.username


def test_the_trail_cannot_be_changed_or_deleted(ledger):
    ledger.order("100000.00")
    change = RowChange.objects.first()

    with pytest.raises(Exception, match="append_only"):
        RowChange.objects.filter(pk=change.pk).delete()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_shell_session_is_recorded_with_the_command_and_the_system_user(ledger):
    order = ledger.order("100000.00")
    database = connection.settings_dict
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "DATABASE_", "CCT_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.development",
        DATABASE_URL=f"postgres://{database['USER'] or 'postgres'}@{database['HOST'] or '127.0.0.1'}:"
        f"{database['PORT'] or 5432}/{database['NAME']}",
    )
    code = (
        f"from transactions.models import PurchaseOrder; PurchaseOrder.objects.filter(pk={order.pk}).update(amount=5)"
    )

    done = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code], cwd=settings.BASE_DIR, env=env, capture_output=True,
        text=True, timeout=120, check=False,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    change = changes_of(order)[-1]
    assert change.changed_fields == {"amount": (100000.0, 5.0)}
    assert change.context.metadata["command"].startswith("shell -c from transactions.models")
    assert change.context.metadata["system_user"]
    assert change.who.startswith("manage.py shell -c")


def test_the_history_page_shows_what_the_database_recorded(client, ledger, auditor_user):
    order = ledger.order("100000.00")
    PurchaseOrder._base_manager.filter(pk=order.pk).update(amount="1.00")
    client.force_login(auditor_user)

    page = client.get(f"/admin/transactions/purchaseorder/{order.pk}/history/")

    assert page.status_code == 200
    section = page.content.decode().split('id="database-changes"')[1]
    assert "amount" in section and "100000.0 → 1.0" in section
    assert "changed" in section and "created" in section


def test_a_background_job_is_recorded_with_its_task(ledger):
    from celery.signals import task_postrun, task_prerun

    from compliance.tasks import sweep_thresholds

    order = ledger.order("100000.00")
    task_prerun.send(sender=sweep_thresholds, task=sweep_thresholds, task_id="t1", args=(), kwargs={})
    PurchaseOrder._base_manager.filter(pk=order.pk).update(amount="2.00")
    task_postrun.send(sender=sweep_thresholds, task=sweep_thresholds, task_id="t1", args=(), kwargs={})

    during = changes_of(order)[-1]
    assert during.context.metadata["task"] == "compliance.tasks.sweep_thresholds"
    assert during.who == "background job compliance.tasks.sweep_thresholds"
    assert context.running_task_contexts() == 0  # left when the task ended
