"""Cap revisions: the old cap governs every gate until the steps its classification requires are recorded;
then the new amount takes effect, with the history of the cap's values kept. A revision attempted after the
cap was already exceeded is recorded and flagged as a breach."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from compliance.caps.approval import purchase_order_approve
from compliance.caps.setup import annual_cap_update
from compliance.lifecycle.revisions import (
    cap_amount_history,
    cap_revision_propose,
    cap_revision_record_steps,
    steps_outstanding,
)
from compliance.models import AnnualCap, CapRevision
from tests.factories import D, FinancialYearFactory, InvoiceFactory, RateFactory, UserFactory
from transactions.errors import Refusal

BOARD, ANNOUNCED = D("2026-05-04"), D("2026-05-05")


@pytest.fixture
def figures(db):
    """CNY 1bn revenue and HK$1 = CNY 0.9: a cap of CNY 3m (0.3%, HK$3.33m) needs an announcement and annual
    review; one of CNY 2.5m (HK$2.78m) would be fully exempt."""
    FinancialYearFactory(market_cap=Decimal("5000000000.00"), market_cap_currency="CNY")
    RateFactory(currency="HKD", target_currency="CNY", rate_date=D("2026-01-02"), rate=Decimal("0.9"))


@pytest.fixture
def nearly_full(ledger, figures):
    """The 2026 cap of CNY 2,000,000 holds CNY 1,900,000 of approved orders."""
    ledger.approved("1900000.00", approver=UserFactory(username="first.approver"), order_date=D("2026-02-01"))
    return ledger.caps[1]


def refused_approval(ledger, compliance_user, amount="200000.00") -> Refusal:
    order = ledger.order(amount, quotes=("300000.00", "300000.00"), order_date=D("2026-05-20"))
    with pytest.raises(Refusal) as caught:
        purchase_order_approve(order_id=order.pk, user=compliance_user)
    return caught.value


def test_a_pending_revision_does_not_lift_the_gate(ledger, nearly_full, compliance_user, time_machine):
    time_machine.move_to("2026-05-10 10:00 +08:00")
    revision = cap_revision_propose(user=compliance_user, cap=nearly_full, new_amount=Decimal("3000000.00"),
                                    reason="Hosting demand from the new region")  # fmt: skip
    cap_revision_record_steps(revision_id=revision.pk, user=compliance_user, board_approved_on=BOARD)

    refusal = refused_approval(ledger, compliance_user)

    assert refusal.code == "cap_exceeded"
    assert "above the cap of CNY 2,000,000.00" in refusal.detail
    revision.refresh_from_db()
    assert revision.status == "pending"
    nearly_full.refresh_from_db()
    assert nearly_full.amount == Decimal("2000000.00")


def test_a_completed_revision_lifts_the_gate(ledger, nearly_full, compliance_user, time_machine):
    time_machine.move_to("2026-05-10 10:00 +08:00")
    revision = cap_revision_propose(user=compliance_user, cap=nearly_full, new_amount=Decimal("3000000.00"),
                                    reason="Hosting demand from the new region")  # fmt: skip
    assert refused_approval(ledger, compliance_user).code == "cap_exceeded"

    revision = cap_revision_record_steps(
        revision_id=revision.pk, user=compliance_user, board_approved_on=BOARD, announced_on=ANNOUNCED
    )

    assert (revision.status, revision.tier, revision.completed_by) == (
        "completed", "announcement_and_annual_review", compliance_user,
    )  # fmt: skip
    nearly_full.refresh_from_db()
    assert nearly_full.amount == Decimal("3000000.00")
    order = ledger.order("200000.00", quotes=("300000.00", "300000.00"), order_date=D("2026-05-20"))
    assert purchase_order_approve(order_id=order.pk, user=compliance_user).status == "approved"


def test_a_revision_attempted_after_the_cap_was_exceeded_is_recorded_and_flagged_as_a_breach(
    ledger, figures, compliance_api, compliance_user
):
    order = ledger.approved("2000000.00", approver=UserFactory(username="first.approver"), order_date=D("2026-02-01"))
    InvoiceFactory(purchase_order=order, amount=Decimal("2100000.00"), invoice_date=D("2026-04-30"))

    response = compliance_api.post(
        "/api/cap-revisions/",
        {"cap": ledger.caps[1].pk, "new_amount": "3000000.00", "reason": "Invoices above the order"},
        format="json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["breach"], body["used_when_proposed"], body["previous_amount"]) == (
        True, "2100000.00", "2000000.00",
    )  # fmt: skip
    listed = compliance_api.get("/api/cap-revisions/", {"breach": "true"}).json()
    assert [r["id"] for r in listed["results"]] == [body["id"]]


def test_a_revision_of_a_cap_within_its_limit_is_no_breach(ledger, nearly_full, compliance_user):
    revision = cap_revision_propose(user=compliance_user, cap=nearly_full, new_amount=Decimal("3000000.00"),
                                    reason="Forecast")  # fmt: skip

    assert revision.breach is False
    assert revision.used_when_proposed == Decimal("1900000.00")


def test_a_cap_exceeded_while_its_revision_is_pending_is_flagged_when_it_takes_effect(
    ledger, nearly_full, compliance_user, time_machine
):
    time_machine.move_to("2026-05-10 10:00 +08:00")
    revision = cap_revision_propose(user=compliance_user, cap=nearly_full, new_amount=Decimal("3000000.00"),
                                    reason="Forecast")  # fmt: skip
    order = nearly_full.category.purchase_orders.get()
    InvoiceFactory(purchase_order=order, amount=Decimal("2000000.01"), invoice_date=D("2026-05-06"))

    revision = cap_revision_record_steps(
        revision_id=revision.pk, user=compliance_user, board_approved_on=BOARD, announced_on=ANNOUNCED
    )

    assert (revision.status, revision.breach) == ("completed", True)


def test_a_revision_needing_shareholders_approval_waits_for_it(ledger, compliance_user, time_machine):
    FinancialYearFactory(revenue=Decimal("40000000.00"), market_cap=Decimal("1"), market_cap_currency="CNY")
    time_machine.move_to("2026-06-10 10:00 +08:00")
    revision = cap_revision_propose(user=compliance_user, cap=ledger.caps[1], new_amount=Decimal("30000000.00"),
                                    reason="A second data hall")  # fmt: skip
    assert revision.tier == "shareholders_approval"

    revision = cap_revision_record_steps(
        revision_id=revision.pk, user=compliance_user, board_approved_on=BOARD, announced_on=ANNOUNCED
    )
    assert revision.status == "pending"
    assert AnnualCap.objects.get(pk=ledger.caps[1].pk).amount == Decimal("2000000.00")

    # The vote alone is not enough: the circular and the adviser's letter come before it.
    with pytest.raises(ValidationError) as refused:
        cap_revision_record_steps(revision_id=revision.pk, user=compliance_user, circular_issued_on=D("2026-06-09"),
                                  shareholders_approved_on=D("2026-06-08"))  # fmt: skip
    assert "after the circular" in str(refused.value)
    revision = cap_revision_record_steps(
        revision_id=revision.pk, user=compliance_user, shareholders_approved_on=D("2026-06-08")
    )
    assert revision.status == "pending"
    assert steps_outstanding(revision) == ["circular_issued_on", "adviser_letter_on"]

    revision = cap_revision_record_steps(
        revision_id=revision.pk, user=compliance_user, circular_issued_on=D("2026-05-20"),
        adviser_letter_on=D("2026-05-20"), board_minutes_ref="Minutes of the board meeting of 4 May 2026",
        abstaining_directors="Lei Jun; Zhang Duo",
    )  # fmt: skip
    assert revision.status == "completed"
    assert AnnualCap.objects.get(pk=ledger.caps[1].pk).amount == Decimal("30000000.00")
    assert revision.abstaining_directors == "Lei Jun; Zhang Duo"


def test_a_fully_exempt_revision_takes_effect_on_the_boards_approval(ledger, compliance_user, time_machine):
    FinancialYearFactory(revenue=Decimal("100000000000.00"), total_assets=Decimal("100000000000.00"),
                         market_cap=Decimal("100000000000.00"), market_cap_currency="CNY")  # fmt: skip
    time_machine.move_to("2026-05-10 10:00 +08:00")
    revision = cap_revision_propose(user=compliance_user, cap=ledger.caps[1], new_amount=Decimal("2100000.00"),
                                    reason="Small top-up")  # fmt: skip

    revision = cap_revision_record_steps(revision_id=revision.pk, user=compliance_user, board_approved_on=BOARD)

    assert (revision.tier, revision.status) == ("fully_exempt", "completed")


def test_the_history_of_the_caps_values_is_kept_with_who_and_why(ledger, nearly_full, compliance_user, compliance_api,
                                                                 time_machine):  # fmt: skip
    time_machine.move_to("2026-05-10 10:00 +08:00")
    revision = cap_revision_propose(user=compliance_user, cap=nearly_full, new_amount=Decimal("3000000.00"),
                                    reason="Hosting demand")  # fmt: skip
    cap_revision_record_steps(revision_id=revision.pk, user=compliance_user, board_approved_on=BOARD,
                              announced_on=ANNOUNCED)  # fmt: skip

    history = cap_amount_history(nearly_full)
    body = compliance_api.get(f"/api/caps/{nearly_full.pk}/amount-history/").json()

    assert [c.amount for c in history] == [Decimal("2000000.00"), Decimal("3000000.00")]
    assert history[-1].changed_by == compliance_user.username
    assert f"Cap revision {revision.pk} took effect: Hosting demand" == history[-1].reason
    assert [row["amount"] for row in body] == ["2000000.00", "3000000.00"]


def test_the_amount_of_a_cap_in_use_changes_only_through_a_revision(ledger, nearly_full, compliance_user):
    with pytest.raises(ValidationError) as caught:
        annual_cap_update(cap=nearly_full, user=compliance_user, amount=Decimal("3000000.00"))

    assert "changes only through a cap revision" in caught.value.message_dict["amount"][0]
    nearly_full.refresh_from_db()
    assert nearly_full.amount == Decimal("2000000.00")


def test_a_fresh_caps_typing_error_is_corrected_directly_but_not_while_a_revision_is_pending(ledger, compliance_user):
    fresh = ledger.caps[1]
    assert annual_cap_update(cap=fresh, user=compliance_user, amount=Decimal("2200000.00")).amount == Decimal(
        "2200000.00"
    )
    cap_revision_propose(user=compliance_user, cap=fresh, new_amount=Decimal("3000000.00"), reason="Forecast")

    with pytest.raises(ValidationError) as caught:
        annual_cap_update(cap=fresh, user=compliance_user, amount=Decimal("2300000.00"))
    assert "revision of this cap is pending" in caught.value.message_dict["amount"][0]


@pytest.mark.parametrize(
    ("new_amount", "reason", "field"),
    [("2000000.00", "Forecast", "new_amount"), ("1500000.00", "Forecast", "new_amount"), ("2500000.00", " ", "reason")],
)
def test_a_revision_raises_the_cap_and_says_why(ledger, figures, compliance_api, new_amount, reason, field):
    response = compliance_api.post(
        "/api/cap-revisions/", {"cap": ledger.caps[1].pk, "new_amount": new_amount, "reason": reason}, format="json"
    )

    assert response.status_code == 400
    assert field in response.json()
    assert not CapRevision.objects.exists()


def test_one_revision_of_a_cap_is_pending_at_a_time(ledger, figures, compliance_user, compliance_api):
    cap_revision_propose(user=compliance_user, cap=ledger.caps[1], new_amount=Decimal("3000000.00"), reason="A")

    response = compliance_api.post(
        "/api/cap-revisions/", {"cap": ledger.caps[1].pk, "new_amount": "2600000.00", "reason": "B"}, format="json"
    )

    assert response.status_code == 400
    assert "already pending" in response.json()["cap"][0]


def test_steps_are_recorded_once_they_have_happened_and_in_their_order(ledger, figures, compliance_user, time_machine):
    time_machine.move_to("2026-05-10 10:00 +08:00")
    revision = cap_revision_propose(user=compliance_user, cap=ledger.caps[1], new_amount=Decimal("3000000.00"),
                                    reason="Forecast")  # fmt: skip

    with pytest.raises(ValidationError) as future:
        cap_revision_record_steps(revision_id=revision.pk, user=compliance_user, board_approved_on=D("2026-05-11"))
    with pytest.raises(ValidationError) as early:
        cap_revision_record_steps(revision_id=revision.pk, user=compliance_user, board_approved_on=ANNOUNCED,
                                  announced_on=BOARD)  # fmt: skip

    assert "once it has happened" in future.value.message_dict["board_approved_on"][0]
    assert "cannot come before the board" in early.value.message_dict["announced_on"][0]
    revision.refresh_from_db()
    assert revision.board_approved_on is None


def test_the_api_records_steps_and_shows_what_is_outstanding(ledger, figures, compliance_api, time_machine):
    time_machine.move_to("2026-05-10 10:00 +08:00")
    created = compliance_api.post(
        "/api/cap-revisions/", {"cap": ledger.caps[1].pk, "new_amount": "3000000.00", "reason": "Forecast"},
        format="json",
    ).json()  # fmt: skip
    assert (created["status"], created["required_steps"], created["steps_outstanding"]) == (
        "pending", ["board_approved_on", "announced_on"], ["board_approved_on", "announced_on"],
    )  # fmt: skip

    half = compliance_api.post(f"/api/cap-revisions/{created['id']}/steps/", {"board_approved_on": "2026-05-04"})
    done = compliance_api.post(f"/api/cap-revisions/{created['id']}/steps/", {"announced_on": "2026-05-05"})
    again = compliance_api.post(f"/api/cap-revisions/{created['id']}/steps/", {"announced_on": "2026-05-06"})

    assert half.json()["steps_outstanding"] == ["announced_on"]
    assert done.json()["status"] == "completed"
    assert compliance_api.get(f"/api/caps/{ledger.caps[1].pk}/").json()["amount"] == "3000000.00"
    assert (again.status_code, again.json()["code"]) == (409, "revision_not_pending")


def test_a_withdrawn_revision_leaves_the_cap_as_it_was(ledger, figures, compliance_api):
    created = compliance_api.post(
        "/api/cap-revisions/", {"cap": ledger.caps[1].pk, "new_amount": "3000000.00", "reason": "Forecast"},
        format="json",
    ).json()  # fmt: skip

    response = compliance_api.post(f"/api/cap-revisions/{created['id']}/withdraw/", {"reason": "Demand fell"})

    assert response.json()["status"] == "withdrawn"
    assert AnnualCap.objects.get(pk=ledger.caps[1].pk).amount == Decimal("2000000.00")


def test_the_revisions_list_takes_a_constant_number_of_queries(
    ledger, figures, compliance_user, compliance_api, django_assert_max_num_queries
):
    for cap in ledger.caps:
        cap_revision_propose(user=compliance_user, cap=cap, new_amount=cap.amount * 2, reason="Forecast")

    with django_assert_max_num_queries(5):
        assert compliance_api.get("/api/cap-revisions/").json()["count"] == 2
