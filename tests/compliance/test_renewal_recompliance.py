"""Renewals and material changes of terms re-comply before they take effect (Rule 14A.54)."""

import datetime
from decimal import Decimal

import pytest
from django.core.management import call_command

from compliance.caps.approval import purchase_order_approve
from compliance.lifecycle.renewals import terms_change_propose, terms_change_record_steps
from compliance.models import TermsChange
from tests.factories import D, QuoteFactory
from transactions.errors import Refusal
from transactions.models import Counterparty, PurchaseOrder, TransactionCategory
from transactions.services import purchase_order_create


@pytest.fixture
def demo(db, time_machine):
    time_machine.move_to("2026-09-30 10:00 +08:00")
    call_command("load_demo", verbosity=0)
    return TransactionCategory.objects.get(name="Network hardware")


def hardware_order(hardware, finance_user, number="HW-2026-101", amount="450000000.00", day="2026-07-29"):
    """A one-off CNY order from Xiaomi with two cheaper independent quotes (documents attached)."""
    order = purchase_order_create(
        user=finance_user, number=number, category=hardware, counterparty=Counterparty.objects.get(
            name="Xiaomi Corporation"), order_date=D(day), amount=Decimal(amount), currency="CNY",
    )  # fmt: skip
    quoted_on = D(day) - datetime.timedelta(days=14)
    for supplier, extra in (("Eastern", 9), ("Northstar", 7)):
        QuoteFactory(purchase_order=order, supplier=Counterparty.objects.get(name__startswith=supplier),
                     quoted_on=quoted_on, amount=Decimal(amount) + extra * 1_000_000, currency="CNY")  # fmt: skip
    return order


def test_the_hardware_renewal_is_refused_orders_until_its_steps_are_recorded_then_accepts_them(
    demo, compliance_api, finance_user
):
    """The issue's case: the hardware category renewed from 29 Jul 2026 with a CNY 600m cap, 7.7% of the 2024
    revenue of CNY 7,785,180,000 (above 5%): the independent shareholders' approval is required."""
    created = compliance_api.post(
        "/api/renewals/",
        {"category": demo.pk, "term_start": "2026-07-29", "term_end": "2027-07-28", "board_approved_on": "2026-07-20",
         "reference": "Renewal of the network hardware purchases", "board_minutes_ref": "Board minutes 2026/07",
         "abstaining_directors": "Lei Jun; Zhang Duo",
         "caps": [{"period_start": "2026-07-29", "period_end": "2026-12-31", "amount": "600000000.00"},
                  {"period_start": "2027-01-01", "period_end": "2027-07-28", "amount": "350000000.00"}]},
        format="json",
    )  # fmt: skip
    assert created.status_code == 201, created.content
    renewal = created.json()
    assert (renewal["status"], renewal["tier"]) == ("pending", "shareholders_approval")
    assert renewal["steps_outstanding"] == [
        "announced_on", "circular_issued_on", "adviser_letter_on", "shareholders_approved_on",
    ]  # fmt: skip
    order = hardware_order(demo, finance_user)
    approve = f"/api/purchase-orders/{order.pk}/approve/"

    refused = compliance_api.post(approve)
    assert refused.status_code == 409
    assert refused.json()["code"] == "recompliance_pending"
    assert "record the announcement, the circular to shareholders, the independent financial adviser's letter and " \
           "the independent shareholders' approval first" in refused.json()["detail"]  # fmt: skip

    steps = f"/api/renewals/{renewal['id']}/steps/"
    body = {"announced_on": "2026-07-20", "announcement_ref": "Announcement of 20 Jul 2026",
            "circular_issued_on": "2026-08-05", "adviser_letter_on": "2026-08-05"}  # fmt: skip
    assert compliance_api.post(steps, body, format="json").json()["status"] == "pending"
    refused = compliance_api.post(approve)
    assert (refused.status_code, refused.json()["code"]) == (409, "recompliance_pending")
    assert "record the independent shareholders' approval first" in refused.json()["detail"]

    done = compliance_api.post(steps, {"shareholders_approved_on": "2026-08-28"}, format="json").json()
    assert (done["status"], done["steps_outstanding"]) == ("effective", [])
    accepted = compliance_api.post(approve)
    assert accepted.status_code == 200, accepted.content
    assert PurchaseOrder.objects.get(pk=order.pk).status == PurchaseOrder.Status.APPROVED


def test_orders_of_the_first_term_are_not_held_up_by_a_pending_renewal(demo, compliance_api, finance_user):
    compliance_api.post(
        "/api/renewals/",
        {"category": demo.pk, "term_start": "2026-07-29", "term_end": "2027-07-28", "board_approved_on": "2026-07-20",
         "caps": [{"period_start": "2026-07-29", "period_end": "2026-12-31", "amount": "600000000.00"}]},
        format="json",
    )  # fmt: skip
    order = hardware_order(demo, finance_user, amount="1000000.00", day="2026-07-10")

    response = compliance_api.post(f"/api/purchase-orders/{order.pk}/approve/")
    assert response.status_code == 200, response.content


def test_a_material_change_of_pricing_basis_holds_orders_from_its_date_until_it_re_complies(
    demo, compliance_user, finance_user
):
    idc = TransactionCategory.objects.get(name="IDC services")
    change = terms_change_propose(
        user=compliance_user, category=idc, effective_from=D("2026-09-01"), reason="New pricing agreed",
        pricing_basis="Cost plus 8%, no worse than independent third parties", board_approved_on=D("2026-08-20"),
    )  # fmt: skip
    # The IDC caps from 2026 (CNY 82m, with the hardware's 6.7m in 2026) are about 1.1% of revenue.
    assert (change.status, change.tier) == ("pending", "announcement_and_annual_review")
    order = hardware_order(idc, finance_user, number="IDC-2026-101", amount="1000000.00", day="2026-09-10")

    with pytest.raises(Refusal) as refused:
        purchase_order_approve(order_id=order.pk, user=compliance_user)
    assert refused.value.code == "recompliance_pending"
    assert "The terms of “IDC services” change from 1 Sep 2026" in refused.value.detail
    assert TransactionCategory.objects.get(pk=idc.pk).pricing_basis == ""

    assert "record the announcement first" in refused.value.detail

    terms_change_record_steps(change_id=change.pk, user=compliance_user, announced_on=D("2026-08-21"))

    assert TransactionCategory.objects.get(pk=idc.pk).pricing_basis.startswith("Cost plus 8%")
    assert TermsChange.objects.get(pk=change.pk).status == "effective"
    assert purchase_order_approve(order_id=order.pk, user=compliance_user).status == PurchaseOrder.Status.APPROVED


def test_the_pricing_basis_of_a_category_in_use_changes_only_as_a_change_of_terms(demo, compliance_api):
    idc = TransactionCategory.objects.get(name="IDC services")

    response = compliance_api.patch(f"/api/categories/{idc.pk}/", {"pricing_basis": "Cost plus 20%"}, format="json")

    assert response.status_code == 400
    assert "recorded as a change of terms" in response.json()["pricing_basis"][0]


def test_the_demo_agreement_records_the_boards_facts(demo, compliance_api):
    [agreement] = [
        a for a in compliance_api.get("/api/agreements/").json()["results"]
        if a["title"] == "2025 Xiaomi Cooperation Framework Agreement"
    ]  # fmt: skip

    assert agreement["abstaining_directors"] == "Lei Jun; Zhang Duo"
    assert agreement["announced_on"] == "2025-07-29"
    assert agreement["board_minutes_ref"] and agreement["announcement_ref"]
    supplier = compliance_api.get("/api/counterparties/?name=Northstar Switches Limited (demo)").json()["results"]
    assert [(s["independence_basis"], s["independence_checked_on"]) for s in supplier] == [
        ("declaration", "2025-07-15")
    ]


def test_a_change_of_terms_says_what_it_changes(demo, compliance_api):
    idc = TransactionCategory.objects.get(name="IDC services")

    response = compliance_api.post(
        "/api/terms-changes/", {"category": idc.pk, "effective_from": "2026-09-01", "reason": "New pricing"},
        format="json",
    )  # fmt: skip

    assert response.status_code == 400
    assert response.json()["pricing_basis"] == ["Enter the new pricing basis, the new scope, or both."]
