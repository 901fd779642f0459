"""Concurrent approvals against the same cap serialise on the category's row lock (PostgreSQL).

Each racer runs in its own thread with its own database connection. The read of the caps' figures is
slowed down so that, without the lock, every racer would see the same headroom and too many would
be approved; with the lock each sees what the previous one approved.
"""

import threading
import time
from decimal import Decimal

import pytest
from django.db import connection

from compliance import services
from compliance.selectors import caps_with_utilisation
from tests.factories import D
from transactions.errors import Refusal
from transactions.models import PurchaseOrder

AMOUNT = Decimal("10000.00")


@pytest.fixture
def slow_figures(monkeypatch):
    real = services.caps_with_utilisation

    def slow(*args, **kwargs):
        rows = list(real(*args, **kwargs))
        time.sleep(0.05)
        return rows

    monkeypatch.setattr(services, "caps_with_utilisation", slow)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("racers", [2, 50])
def test_concurrent_approvals_never_approve_more_than_the_cap_holds(ledger, compliance_user, slow_figures, racers):
    cap = ledger.caps[1]  # 2026: 2,000,000.00
    fits = racers // 2
    ledger.approved(str(cap.amount - AMOUNT * fits), approver=compliance_user, order_date=D("2026-01-15"))
    orders = [ledger.order(str(AMOUNT), quotes=("20000", "20000")) for _ in range(racers)]
    barrier = threading.Barrier(racers)
    outcomes: list[str] = []

    def race(order):
        try:
            barrier.wait()
            services.purchase_order_approve(order_id=order.pk, user=compliance_user)
            outcomes.append("approved")
        except Refusal as refusal:
            outcomes.append(refusal.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=race, args=(order,)) for order in orders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    figures = caps_with_utilisation().get(pk=cap.pk)
    assert sorted(outcomes) == sorted(["approved"] * fits + ["cap_exceeded"] * (racers - fits))
    assert figures.committed == cap.amount
    assert PurchaseOrder.objects.filter(status="approved").count() == fits + 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_proposals_to_revise_one_cap_leave_one_pending_revision(ledger, compliance_user):
    from django.core.exceptions import ValidationError

    from compliance.models import CapRevision
    from compliance.revisions import cap_revision_propose

    racers = 4
    barrier = threading.Barrier(racers)
    outcomes: list[str] = []

    def race(n):
        try:
            barrier.wait()
            cap_revision_propose(user=compliance_user, cap=ledger.caps[1], new_amount=Decimal(3000000 + n),
                                 reason=f"Proposal {n}")  # fmt: skip
            outcomes.append("proposed")
        except ValidationError as error:
            outcomes.append(next(iter(error.message_dict)))
        finally:
            connection.close()

    threads = [threading.Thread(target=race, args=(n,)) for n in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(outcomes) == ["cap"] * (racers - 1) + ["proposed"]
    assert CapRevision.objects.filter(status="pending").count() == 1
