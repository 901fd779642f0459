"""Every list in the API takes the same number of queries whatever the number of rows."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from compliance.alerts.recording import alerts_record
from compliance.caps.approval import purchase_order_approve
from compliance.models import AlertRecipient, DistributionList
from tests.conftest import client_for
from tests.factories import (
    CapFactory,
    CategoryFactory,
    CounterpartyFactory,
    D,
    InvoiceFactory,
    RateFactory,
    UserFactory,
)

LISTS = [
    "connected-persons", "counterparties", "agreements", "categories", "caps", "exchange-rates",
    "purchase-orders", "quotes", "invoices", "alerts", "alert-recipients", "distribution-lists",
    "sales-orders", "price-references", "sales-invoices",
]  # fmt: skip


def grow(ledger, n: int, tag: str, first: int = 0) -> None:
    """n more rows of every kind the lists show."""
    approver = UserFactory(username=f"approver-{tag}")
    for i in range(first, first + n):
        order = ledger.approved("10.00", approver=approver, order_date=D("2026-02-01") + datetime.timedelta(days=i))
        InvoiceFactory(purchase_order=order, amount=Decimal("5.00"), invoice_date=D("2026-03-01"))
        CounterpartyFactory(connected_person=ledger.person)
        RateFactory(rate_date=D("2030-01-01") + datetime.timedelta(days=i))
        category = CategoryFactory(agreement=ledger.agreement, name=f"Category {tag}{i}")
        cap = CapFactory(category=category, amount=Decimal("10.00"))
        AlertRecipient.objects.create(threshold=Decimal("80.00"), email=f"r{tag}{i}@example.com")
        members = DistributionList.objects.create(name=f"List {tag}{i}").members
        members.create(email=f"m{tag}{i}@example.com")
        InvoiceFactory(purchase_order=ledger.order("9.00", category=category, counterparty=ledger.connected),
                       amount=Decimal("9.00"))  # fmt: skip
        alerts_record(cap_ids=[cap.pk])
        sale = purchase_order_approve(order_id=ledger.sale("10.00", references=("9.00", "10.00")).pk, user=approver)
        InvoiceFactory(purchase_order=sale, amount=Decimal("5.00"), invoice_date=D("2026-03-01"))


def queries(client, path: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200, response.content
    return len(captured)


@pytest.mark.parametrize("resource", LISTS)
def test_a_list_takes_the_same_queries_for_few_and_many_rows(ledger, auditor_user, resource):
    client = client_for(auditor_user)
    grow(ledger, 2, "a")
    client.get(f"/api/{resource}/")  # the user's permissions are read once, then cached
    few = queries(client, f"/api/{resource}/")

    grow(ledger, 6, "b", first=2)

    assert queries(client, f"/api/{resource}/") == few
