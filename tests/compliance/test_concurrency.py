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

from compliance.caps import approval, documents
from compliance.rules import selectors
from compliance.rules.selectors import caps_with_utilisation
from tests.factories import D
from transactions.errors import Refusal
from transactions.models import PurchaseOrder

AMOUNT = Decimal("10000.00")


@pytest.fixture
def slow_figures(monkeypatch):
    real = selectors.caps_with_utilisation

    def slow(*args, **kwargs):
        rows = list(real(*args, **kwargs))
        time.sleep(0.05)
        return rows

    monkeypatch.setattr(approval, "caps_with_utilisation", slow)


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
            approval.purchase_order_approve(order_id=order.pk, user=compliance_user)
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

    from compliance.lifecycle.revisions import cap_revision_propose
    from compliance.models import CapRevision

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


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_invoices_cancellations_and_rate_corrections_racing_approvals_leave_no_over_cap_approval(
    ledger, compliance_user, finance_user, slow_figures
):
    from compliance.caps.ledger import expected_entries
    from compliance.models import LedgerEntry
    from tests.factories import RateFactory
    from transactions.models import ExchangeRate

    RateFactory(currency="USD", target_currency="CNY", rate_date=D("2026-03-02"), rate=Decimal("7.00"))
    RateFactory(currency="USD", target_currency="CNY", rate_date=D("2026-02-20"), rate=Decimal("7.00"))
    cap = ledger.caps[1]  # 2026: 2,000,000.00
    big = ledger.approved("1500000.00", approver=compliance_user, order_date=D("2026-01-15"))
    to_cancel = ledger.approved("100000.00", approver=compliance_user, order_date=D("2026-01-20"))
    # Headroom 400,000.00 (500,000.00 once the cancellation is in); asked for: 10 x 70,000.00 (USD 10,000.00
    # at 7.00, 65,000.00 once the rate is corrected to 6.50) and 10 x 50,000.00.
    drafts = [
        ledger.order("10000.00", quotes=("20000", "20000"), currency="USD", order_date=D("2026-03-02"))
        for _ in range(10)
    ] + [ledger.order("50000.00", quotes=("60000", "60000"), order_date=D("2026-03-02")) for _ in range(10)]
    rate = ExchangeRate.objects.get(currency="USD", rate_date=D("2026-03-02"))
    acts = [lambda o=o: approval.purchase_order_approve(order_id=o.pk, user=compliance_user) for o in drafts]
    acts.append(lambda: approval.purchase_order_cancel(order_id=to_cancel.pk, user=compliance_user))
    acts.append(lambda: documents.exchange_rate_update(exchange_rate=rate, user=compliance_user, rate=Decimal("6.5")))
    acts += [
        lambda n=n: documents.invoice_record(
            user=finance_user,
            purchase_order=big,
            number=f"INV-RACE-{n}",
            invoice_date=D("2026-03-05"),
            amount=Decimal("10000.00"),
            currency="CNY",
        )
        for n in range(5)
    ]
    barrier = threading.Barrier(len(acts))
    outcomes: list[str] = []

    def race(act):
        try:
            barrier.wait()
            act()
            outcomes.append("done")
        except Refusal as refusal:
            outcomes.append(refusal.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=race, args=(act,)) for act in acts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    figures = caps_with_utilisation().get(pk=cap.pk)
    assert set(outcomes) <= {"done", "cap_exceeded"} and "cap_exceeded" in outcomes
    # The rate only went down and the cancellation only freed headroom: no state ever held more than the cap.
    assert figures.committed <= cap.amount
    assert figures.actual == Decimal("50000.00")  # five invoices of 10,000.00, none lost
    # The totals are the entries' sums, and the entries are what the documents say (no order approved at
    # the old rate escaped the revaluation).
    entries = LedgerEntry.objects.filter(cap=cap)
    sums = {
        basis: sum(entries.filter(basis=basis).values_list("amount", flat=True)) for basis in ("committed", "actual")
    }
    assert (figures.committed, figures.actual) == (sums["committed"], sums["actual"])
    by_documents = expected_entries()
    assert sum(v for (_, c, b), v in by_documents.items() if c == cap.pk and b == "committed") == figures.committed
