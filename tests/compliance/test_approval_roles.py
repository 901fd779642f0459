"""Only the compliance role approves and cancels orders, whichever way the request comes: the API, the
order page's buttons, the list's bulk actions, or the service called directly. The service itself checks
the role, so a door that forgets to cannot let anyone else through."""

import pytest
from django.core.exceptions import PermissionDenied

from compliance.caps.approval import purchase_order_approve, purchase_order_cancel
from compliance.models import LedgerEntry
from tests.conftest import client_for

OTHER_ROLES = ["finance", "management", "auditor"]  # and no role: test_roles
APPROVE_REFUSAL = "Only a user with the compliance role can approve purchase orders."
CANCEL_REFUSAL = "Only a user with the compliance role can cancel purchase orders."


def by_service(action, order, user, client):
    act = purchase_order_approve if action == "approve" else purchase_order_cancel
    with pytest.raises(PermissionDenied) as refused:
        act(order_id=order.pk, user=user)
    assert str(refused.value) == (APPROVE_REFUSAL if action == "approve" else CANCEL_REFUSAL)


def by_api(action, order, user, client):
    response = client_for(user).post(f"/api/purchase-orders/{order.pk}/{action}/", {"reason": "Entered twice"})
    assert response.status_code == 403, response.content


def by_admin_button(action, order, user, client):
    client.force_login(user)
    response = client.post(f"/admin/transactions/purchaseorder/{order.pk}/{action}/", {"reason": "Entered twice"})
    assert response.status_code == 403


def by_bulk_action(action, order, user, client):
    client.force_login(user)
    # Refused, by the admin (the action is not offered: the list answers without running it) or by the service
    # (403): either way nothing changes, which the caller checks.
    client.post("/admin/transactions/purchaseorder/", {"action": f"{action}_selected", "_selected_action": [order.pk]})


PATHS = [by_service, by_api, by_admin_button, by_bulk_action]


@pytest.mark.parametrize("path", PATHS, ids=lambda path: path.__name__)
@pytest.mark.parametrize("role", OTHER_ROLES)
def test_no_other_role_approves_an_order_on_any_path(client, ledger, role_users, compliance_user, path, role):
    order = ledger.order("100.00", quotes=("110.00", "120.00"), created_by=compliance_user)

    path("approve", order, role_users[role], client)

    order.refresh_from_db()
    assert (order.status, order.approved_by) == ("draft", None)
    assert not LedgerEntry.objects.filter(purchase_order=order).exists()


@pytest.mark.parametrize("path", PATHS, ids=lambda path: path.__name__)
@pytest.mark.parametrize("role", OTHER_ROLES)
def test_no_other_role_cancels_an_order_on_any_path(client, ledger, role_users, compliance_user, path, role):
    order = ledger.approved("100.00", approver=compliance_user)
    committed = list(LedgerEntry.objects.filter(purchase_order=order).values_list("kind", "amount"))

    path("cancel", order, role_users[role], client)

    order.refresh_from_db()
    assert (order.status, order.cancelled_by) == ("approved", None)
    assert list(LedgerEntry.objects.filter(purchase_order=order).values_list("kind", "amount")) == committed


def test_the_service_still_lets_compliance_approve_and_cancel(ledger, finance_user, compliance_user):
    order = ledger.order("100.00", quotes=("110.00", "120.00"), created_by=finance_user)

    assert purchase_order_approve(order_id=order.pk, user=compliance_user).status == "approved"
    assert purchase_order_cancel(order_id=order.pk, user=compliance_user).status == "cancelled"
