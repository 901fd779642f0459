"""Documented quote-rule exceptions: a reason, evidence and a second approver who is neither the order's creator
nor the exception's requester; the approval gate then accepts that order, and every other gate still applies."""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from compliance.caps.approval import purchase_order_approve
from compliance.models import QuoteRuleException
from compliance.rules.quote_exceptions import quote_rule_exception_approve, quote_rule_exception_request
from tests.conftest import client_for, make_user
from tests.factories import PDF, D
from transactions.errors import Refusal


def evidence(name="sole supplier search.pdf", content=PDF):
    return SimpleUploadedFile(name, content, content_type="application/pdf")


@pytest.fixture
def second_officer(db):
    return make_user("sam.second", "compliance")


@pytest.fixture
def sole_supplier_order(ledger, finance_user):
    """A draft by finance with one independent quote: the quote rule alone would refuse it."""
    return ledger.order("100000.00", quotes=("120000.00",), created_by=finance_user)


@pytest.fixture
def requested(sole_supplier_order, compliance_user):
    return quote_rule_exception_request(
        user=compliance_user, purchase_order=sole_supplier_order, evidence=evidence(),
        reason="Only one vendor makes this switch model; the search found no other supplier.",
    )  # fmt: skip


def test_an_exception_approved_by_its_own_requester_is_refused(requested, compliance_user):
    with pytest.raises(Refusal) as caught:
        quote_rule_exception_approve(exception_id=requested.pk, user=compliance_user)

    assert caught.value.code == "exception_self_approval"
    requested.refresh_from_db()
    assert (requested.status, requested.decided_by) == ("pending", None)


def test_an_exception_approved_by_its_own_requester_is_a_409_in_the_api(requested, compliance_api):
    response = compliance_api.post(f"/api/quote-rule-exceptions/{requested.pk}/approve/")

    assert response.status_code == 409
    assert response.json()["code"] == "exception_self_approval"
    assert "a second person must" in response.json()["detail"]


def test_an_exception_approved_by_the_orders_creator_is_refused(ledger, compliance_user, second_officer):
    order = ledger.order("100000.00", quotes=("120000.00",), created_by=second_officer)
    exception = quote_rule_exception_request(user=compliance_user, purchase_order=order, reason="Sole supplier",
                                             evidence=evidence())  # fmt: skip

    with pytest.raises(Refusal) as caught:
        quote_rule_exception_approve(exception_id=exception.pk, user=second_officer)

    assert caught.value.code == "exception_creator_approval"


def test_the_database_itself_refuses_a_requester_deciding_their_own_exception(requested, compliance_user):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        QuoteRuleException.objects.filter(pk=requested.pk).update(
            status="approved", decided_by=compliance_user, decided_at=requested.requested_at
        )


def test_an_approved_exception_lets_the_order_through_the_quote_rule(
    requested, sole_supplier_order, compliance_user, second_officer
):
    with pytest.raises(Refusal) as before:
        purchase_order_approve(order_id=sole_supplier_order.pk, user=compliance_user)
    assert before.value.code == "quote_rule"

    quote_rule_exception_approve(exception_id=requested.pk, user=second_officer)

    assert purchase_order_approve(order_id=sole_supplier_order.pk, user=compliance_user).status == "approved"


def test_every_other_gate_still_applies_to_an_order_with_an_exception(ledger, compliance_user, second_officer,
                                                                      finance_user):  # fmt: skip
    order = ledger.order("2000000.01", quotes=(), created_by=finance_user)  # above the 2026 cap
    exception = quote_rule_exception_request(user=compliance_user, purchase_order=order, reason="Sole supplier",
                                             evidence=evidence())  # fmt: skip
    quote_rule_exception_approve(exception_id=exception.pk, user=second_officer)

    with pytest.raises(Refusal) as caught:
        purchase_order_approve(order_id=order.pk, user=compliance_user)

    assert caught.value.code == "cap_exceeded"


def test_an_exception_covers_the_order_as_it_was_requested(requested, sole_supplier_order, compliance_user,
                                                           second_officer):  # fmt: skip
    quote_rule_exception_approve(exception_id=requested.pk, user=second_officer)
    sole_supplier_order.amount = Decimal("150000.00")
    sole_supplier_order.save()

    with pytest.raises(Refusal) as caught:
        purchase_order_approve(order_id=sole_supplier_order.pk, user=compliance_user)

    assert caught.value.code == "quote_rule"
    assert "no longer applies" in caught.value.detail


def test_a_pending_or_rejected_exception_does_not_waive_the_rule(requested, sole_supplier_order, compliance_user,
                                                                 second_officer):  # fmt: skip
    from compliance.rules.quote_exceptions import quote_rule_exception_reject

    quote_rule_exception_reject(exception_id=requested.pk, user=second_officer, reason="Ask a third vendor")

    with pytest.raises(Refusal) as caught:
        purchase_order_approve(order_id=sole_supplier_order.pk, user=compliance_user)
    assert caught.value.code == "quote_rule"


def test_an_exception_is_recorded_through_the_api_with_its_evidence_and_listed(
    sole_supplier_order, compliance_api, second_officer, client
):
    created = compliance_api.post(
        "/api/quote-rule-exceptions/",
        {"purchase_order": sole_supplier_order.pk, "reason": "Sole supplier", "evidence": evidence("證明.pdf")},
        format="multipart",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    approved = client_for(second_officer).post(f"/api/quote-rule-exceptions/{body['id']}/approve/")
    listed = compliance_api.get("/api/quote-rule-exceptions/", {"status": "approved"}).json()

    assert (body["status"], body["order_number"], body["evidence_name"]) == (
        "pending", sole_supplier_order.number, "證明.pdf",
    )  # fmt: skip
    assert body["evidence_url"].startswith("http://testserver/evidence/exceptions/")
    assert approved.status_code == 200
    assert approved.json()["decided_by"] == second_officer.pk
    assert [e["id"] for e in listed["results"]] == [body["id"]]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"reason": "Sole supplier"}, "evidence"),
        ({"reason": "Sole supplier", "evidence": "fake"}, "evidence"),
        ({"reason": "   ", "evidence": "pdf"}, "reason"),
    ],
)
def test_an_exception_needs_a_reason_and_real_evidence(sole_supplier_order, compliance_api, payload, field):
    files = {"pdf": evidence(), "fake": evidence("search.pdf", b"not a pdf at all")}
    data = {"purchase_order": sole_supplier_order.pk, **payload}
    if "evidence" in data:
        data["evidence"] = files[data["evidence"]]

    response = compliance_api.post("/api/quote-rule-exceptions/", data, format="multipart")

    assert response.status_code == 400
    assert field in response.json()
    assert not QuoteRuleException.objects.exists()


def test_an_exception_is_for_a_draft_order_and_one_at_a_time(requested, sole_supplier_order, ledger, compliance_api):
    second = compliance_api.post(
        "/api/quote-rule-exceptions/",
        {"purchase_order": sole_supplier_order.pk, "reason": "Again", "evidence": evidence()},
        format="multipart",
    )
    assert second.status_code == 400
    assert "already has a pending or approved" in second.json()["purchase_order"][0]


def test_only_compliance_records_and_decides_exceptions(requested, role_users):
    for role, user in role_users.items():
        client = client_for(user)
        assert client.get("/api/quote-rule-exceptions/").status_code == (403 if role == "none" else 200)
        if role != "compliance":
            assert client.post(f"/api/quote-rule-exceptions/{requested.pk}/approve/").status_code == 403


def test_the_evidence_is_served_only_to_users_who_may_read_exceptions(requested, client, auditor_user, norole_user):
    client.force_login(auditor_user)
    allowed = client.get(requested.evidence.url)
    client.force_login(norole_user)
    refused = client.get(requested.evidence.url)

    assert allowed.status_code == 200
    assert b"".join(allowed.streaming_content) == PDF
    assert allowed["Content-Disposition"].startswith("attachment;")
    assert refused.status_code == 403
    client.force_login(auditor_user)
    assert client.get("/evidence/exceptions/unknown.pdf").status_code == 404


def test_an_order_outside_its_term_is_still_refused_with_an_exception(ledger, compliance_user, second_officer,
                                                                      finance_user):  # fmt: skip
    order = ledger.order("100.00", quotes=(), created_by=finance_user, order_date=D("2027-01-05"))
    exception = quote_rule_exception_request(user=compliance_user, purchase_order=order, reason="Sole supplier",
                                             evidence=evidence())  # fmt: skip
    quote_rule_exception_approve(exception_id=exception.pk, user=second_officer)

    with pytest.raises(Refusal) as caught:
        purchase_order_approve(order_id=order.pk, user=compliance_user)
    assert caught.value.code == "outside_term"


def test_the_quote_rule_sweep_does_not_report_an_order_its_approved_exception_covers(
    requested, second_officer, sole_supplier_order
):
    from compliance.jobs import sweeps

    quote_rule_exception_approve(exception_id=requested.pk, user=second_officer)
    purchase_order_approve(order_id=sole_supplier_order.pk, user=second_officer)

    assert sweeps.sweep_quote_rule()["open"] == 0
