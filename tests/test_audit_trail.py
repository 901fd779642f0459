"""Every create, change, approval and cancellation is kept with who, when and what changed,
readable by auditors in the admin and not editable or deletable through the product."""

import pytest

from compliance.caps.approval import purchase_order_approve, purchase_order_cancel
from tests.factories import QuoteFactory
from transactions.models import PurchaseOrder
from transactions.services import purchase_order_create, purchase_order_update


@pytest.fixture
def approved_then_cancelled(ledger, finance_user, compliance_user):
    order = purchase_order_create(
        user=finance_user, number="PO-AUDIT-1", category=ledger.category, counterparty=ledger.connected,
        order_date=ledger.caps[1].period_start, amount="100.00", currency="CNY",
    )  # fmt: skip
    for supplier in ledger.independents[:2]:
        QuoteFactory(purchase_order=order, supplier=supplier, quoted_on=order.order_date, amount="150.00")
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


def test_a_bulk_update_leaves_a_history_row_for_each_row_it_changes(ledger):
    first, second = ledger.order(), ledger.order()

    changed = PurchaseOrder.objects.filter(pk__in=[first.pk, second.pk]).update(description="Corrected in bulk")

    assert changed == 2
    for order in (first, second):
        latest = order.history.latest("history_date")
        assert (latest.history_type, latest.description, latest.history_change_reason) == (
            "~", "Corrected in bulk", "bulk update",
        )  # fmt: skip


def test_bulk_create_and_bulk_update_leave_history_too(ledger):
    from tests.factories import D
    from transactions.models import ExchangeRate

    rates = ExchangeRate.objects.bulk_create(
        [ExchangeRate(currency="USD", target_currency="CNY", rate_date=D("2026-05-01"), rate="7.1"),
         ExchangeRate(currency="HKD", target_currency="CNY", rate_date=D("2026-05-01"), rate="0.91")]
    )  # fmt: skip
    rates[0].rate = "7.2"
    ExchangeRate.objects.bulk_update(rates[:1], ["rate"])

    assert ExchangeRate.history.filter(history_type="+").count() == 2
    corrected = ExchangeRate.history.get(history_type="~")
    assert (str(corrected.rate), corrected.currency) == ("7.2000000000", "USD")


def test_a_queryset_delete_leaves_a_history_row(db):
    from compliance.models import DistributionList, DistributionListMember

    members = DistributionList.objects.create(name="Board").members
    members.create(email="a@example.com")
    members.create(email="b@example.com")

    DistributionListMember.objects.filter(email__in=["a@example.com", "b@example.com"]).delete()

    assert DistributionListMember.history.filter(history_type="-").count() == 2


def test_what_a_management_command_writes_is_marked_with_the_command(db):
    from django.core.management import call_command

    from compliance.models import AnnualCap

    call_command("load_demo", verbosity=0)

    reasons = set(AnnualCap.history.values_list("history_change_reason", flat=True))
    assert len(reasons) == 1
    assert reasons.pop().startswith("manage.py load_demo (run by ")
    approved = PurchaseOrder.history.filter(history_type="~", status="approved").first()
    assert approved.history_change_reason == "approved"
    assert approved.history_user.username == "demo.compliance"


def change_rows(page: str) -> list[str]:
    """The model-level history table's rows, as text, newest first."""
    import html
    import re

    table = page.split('id="change-history"')[1].split("</table>")[0]
    text = [html.unescape(re.sub(r"<[^>]+>", " ", row)) for row in table.split("<tr>")[2:]]
    return [re.sub(r"\s+", " ", row).strip() for row in text]


def test_the_history_shows_what_an_approval_and_a_cancellation_changed_and_why(
    client, approved_then_cancelled, auditor_user
):
    client.force_login(auditor_user)

    page = client.get(f"/admin/transactions/purchaseorder/{approved_then_cancelled.pk}/history/").content.decode()

    cancelled, approved, edited, created = change_rows(page)
    assert "cancelled: Entered twice" in cancelled and "Status: Approved → Cancelled" in cancelled
    assert "Cancellation reason: — → Entered twice" in cancelled
    assert "approved" in approved and "Status: Draft → Approved" in approved
    assert "Approved by: — → connie.compliance" in approved
    assert "Description: — → Racks" in edited
    assert "created" in created and "None" not in created.replace("fiona.finance", "")


@pytest.mark.postgres
def test_an_orders_history_includes_its_quotes_and_an_invoice_added_later(client, ledger, auditor_user):
    from tests.factories import InvoiceFactory

    order = ledger.approved("100.00", approver=auditor_user)
    InvoiceFactory(purchase_order=order, number="INV-LATER-1", amount="60.00")
    client.force_login(auditor_user)

    page = client.get(f"/admin/transactions/purchaseorder/{order.pk}/history/").content.decode()

    section = page.split('id="database-changes"')[1]
    assert "Invoice INV-LATER-1" in section
    assert section.count("Quote ") >= 2
    assert f"Purchase order {order.number}" in section
