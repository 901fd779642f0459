"""Every create, change, approval and cancellation is kept with who, when and what changed,
readable by auditors in the admin and not editable or deletable through the product."""

import pytest

from compliance.services import purchase_order_approve, purchase_order_cancel
from transactions.models import PurchaseOrder
from transactions.services import purchase_order_create, purchase_order_update


@pytest.fixture
def approved_then_cancelled(ledger, finance_user, compliance_user):
    order = purchase_order_create(
        user=finance_user, number="PO-AUDIT-1", category=ledger.category, counterparty=ledger.connected,
        order_date=ledger.caps[1].period_start, amount="100.00", currency="CNY",
    )  # fmt: skip
    for supplier in ledger.independents[:2]:
        order.quotes.create(supplier=supplier, quoted_on=order.order_date, amount="150.00", currency="CNY")
    purchase_order_update(order=order, user=finance_user, description="Racks")
    purchase_order_approve(order_id=order.pk, user=compliance_user)
    purchase_order_cancel(order_id=order.pk, user=compliance_user, reason="Entered twice")
    return order


def test_each_step_of_an_order_is_recorded_with_who_and_what(approved_then_cancelled, finance_user, compliance_user):
    history = list(approved_then_cancelled.history.order_by("history_date", "history_id"))

    assert [(h.history_type, h.status, h.history_user) for h in history] == [
        ("+", "draft", finance_user),
        ("~", "draft", finance_user),
        ("~", "approved", compliance_user),
        ("~", "cancelled", compliance_user),
    ]
    assert history[2].history_change_reason == "approved"
    assert history[3].history_change_reason == "cancelled: Entered twice"
    changed = history[1].diff_against(history[0]).changed_fields
    assert changed == ["description"]


def test_an_auditor_reads_the_history_in_the_admin(client, approved_then_cancelled, auditor_user):
    client.force_login(auditor_user)
    auditor_user.is_staff = True
    auditor_user.save()

    response = client.get(f"/admin/transactions/purchaseorder/{approved_then_cancelled.pk}/history/")

    assert response.status_code == 200
    content = response.content.decode()
    assert "connie.compliance" in content
    assert "fiona.finance" in content


def test_nobody_can_revert_history_or_delete_an_order_through_the_admin(
    client, approved_then_cancelled, django_user_model
):
    boss = django_user_model.objects.create_superuser("boss", "boss@example.com", "a-long-password-123")
    client.force_login(boss)
    first = approved_then_cancelled.history.earliest("history_date")

    version = f"/admin/transactions/purchaseorder/{approved_then_cancelled.pk}/history/{first.history_id}/"
    look = client.get(version)
    revert = client.post(version, {"number": "PO-REVERTED", "_change_history": "1"})
    delete = client.post(f"/admin/transactions/purchaseorder/{approved_then_cancelled.pk}/delete/", {"post": "yes"})

    assert look.status_code == 200
    assert revert.status_code == 403
    assert delete.status_code == 403
    assert PurchaseOrder.objects.get(pk=approved_then_cancelled.pk).number == "PO-AUDIT-1"
    assert approved_then_cancelled.history.count() == 4
