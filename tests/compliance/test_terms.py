"""Terms and renewals: a term over three years needs the independent financial adviser's explanation, a
renewal adds a later term with its caps and keeps the history of terms, orders outside every recorded term
are refused, and the API shows the term in force."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from compliance.caps.approval import purchase_order_approve
from compliance.lifecycle.renewals import category_renewal_record, category_renewal_update
from compliance.rules.terms import term_limit_end
from tests.factories import D, UserFactory
from transactions.errors import Refusal
from transactions.models import CategoryRenewal, TransactionCategory

RENEWAL_CAPS = [
    {"period_start": D("2027-01-01"), "period_end": D("2027-12-31"), "amount": Decimal("3000000.00")},
    {"period_start": D("2028-01-01"), "period_end": D("2028-12-31"), "amount": Decimal("3000000.00")},
]


RECOMPLIED = {
    "announced_on": D("2026-11-02"), "circular_issued_on": D("2026-11-05"), "adviser_letter_on": D("2026-11-05"),
    "shareholders_approved_on": D("2026-11-20"),
}  # fmt: skip


@pytest.fixture
def renewed(ledger, compliance_user):
    """The ledger's category (first term 29 Jul 2025 to 31 Dec 2026) renewed for 2027 and 2028, every
    re-compliance step recorded (without financial figures it is classified in the most demanding tier)."""
    return category_renewal_record(
        user=compliance_user, category=ledger.category, term_start=D("2027-01-01"), term_end=D("2028-12-31"),
        board_approved_on=D("2026-11-02"), reference="Renewal agreement of 2 Nov 2026", caps=RENEWAL_CAPS,
        **RECOMPLIED,
    )  # fmt: skip


def category_payload(ledger, term_end: str, **extra) -> dict:
    return {
        "agreement": ledger.agreement.pk, "name": "Network hardware", "term_start": "2025-07-29",
        "term_end": term_end, "currency": "CNY", **extra,
    }  # fmt: skip


# --- The three-year rule ---------------------------------------------------------------------------


def test_three_years_from_29_july_2025_end_on_28_july_2028():
    assert term_limit_end(D("2025-07-29")) == D("2028-07-28")
    assert term_limit_end(D("2024-02-29")) == D("2027-02-28")


def test_a_term_of_three_years_and_one_day_is_refused_without_an_explanation(ledger, compliance_api):
    response = compliance_api.post("/api/categories/", category_payload(ledger, "2028-07-29"), format="json")

    assert response.status_code == 400
    assert "longer than three years" in response.json()["term_explanation"][0]
    assert not TransactionCategory.objects.filter(name="Network hardware").exists()


def test_a_term_of_exactly_three_years_needs_no_explanation(ledger, compliance_api):
    response = compliance_api.post("/api/categories/", category_payload(ledger, "2028-07-28"), format="json")

    assert response.status_code == 201, response.content


def test_a_longer_term_is_accepted_with_the_advisers_explanation(ledger, compliance_api):
    explanation = "The IFA considers a five-year term normal for data-centre leases of this kind."

    response = compliance_api.post(
        "/api/categories/", category_payload(ledger, "2030-07-28", term_explanation=explanation), format="json"
    )

    assert response.status_code == 201, response.content
    assert response.json()["term_explanation"] == explanation


def test_lengthening_a_term_past_three_years_is_refused_without_an_explanation(ledger, compliance_api):
    response = compliance_api.patch(f"/api/categories/{ledger.category.pk}/", {"term_end": "2028-07-29"}, format="json")

    assert response.status_code == 400
    assert "term_explanation" in response.json()
    ledger.category.refresh_from_db()
    assert ledger.category.term_end == D("2026-12-31")


def test_a_renewal_of_three_years_and_one_day_is_refused_without_an_explanation(ledger, compliance_user):
    with pytest.raises(ValidationError) as caught:
        category_renewal_record(
            user=compliance_user, category=ledger.category, term_start=D("2027-01-01"), term_end=D("2030-01-01"),
            board_approved_on=D("2026-11-02"),
        )  # fmt: skip

    assert "longer than three years" in caught.value.message_dict["term_explanation"][0]
    assert not CategoryRenewal.objects.exists()
    renewal = category_renewal_record(
        user=compliance_user, category=ledger.category, term_start=D("2027-01-01"), term_end=D("2030-01-01"),
        board_approved_on=D("2026-11-02"), term_explanation="The adviser's view: normal for such contracts.",
    )  # fmt: skip
    assert renewal.pk is not None


# --- Renewals and the terms the gate accepts ------------------------------------------------------------


def test_a_renewal_records_a_new_term_with_its_caps_and_keeps_the_first(renewed, ledger):
    ledger.category.refresh_from_db()

    assert (ledger.category.term_start, ledger.category.term_end) == (D("2025-07-29"), D("2026-12-31"))
    assert (renewed.term_start, renewed.term_end) == (D("2027-01-01"), D("2028-12-31"))
    assert [(c.period_start, c.amount) for c in ledger.category.caps.filter(period_start__year__gte=2027)] == [
        (D("2027-01-01"), Decimal("3000000.00")), (D("2028-01-01"), Decimal("3000000.00")),
    ]  # fmt: skip


def test_an_order_inside_the_renewed_term_passes_the_term_gate(renewed, ledger, compliance_user):
    order = ledger.order(order_date=D("2027-03-01"))

    assert purchase_order_approve(order_id=order.pk, user=compliance_user).status == "approved"


def test_a_service_period_running_on_from_the_first_term_into_the_renewal_is_inside_the_terms(
    renewed, ledger, compliance_user
):
    order = ledger.order(order_date=D("2026-12-01"), service_start=D("2026-12-01"), service_end=D("2027-01-31"))

    assert purchase_order_approve(order_id=order.pk, user=compliance_user).status == "approved"


@pytest.mark.parametrize("order_date", ["2025-07-28", "2029-01-01"])
def test_orders_outside_every_recorded_term_are_refused(renewed, ledger, compliance_user, order_date):
    order = ledger.order(order_date=D(order_date))

    with pytest.raises(Refusal) as caught:
        purchase_order_approve(order_id=order.pk, user=compliance_user)

    assert caught.value.code == "outside_term"
    assert "outside every recorded term" in caught.value.detail
    assert "1 Jan 2027 to 31 Dec 2028" in caught.value.detail


def test_an_order_in_a_gap_between_two_terms_is_refused(ledger, compliance_user):
    category_renewal_record(
        user=compliance_user, category=ledger.category, term_start=D("2027-03-01"), term_end=D("2027-12-31"),
        board_approved_on=D("2026-11-02"),
    )  # fmt: skip
    order = ledger.order(order_date=D("2027-02-01"))

    with pytest.raises(Refusal) as caught:
        purchase_order_approve(order_id=order.pk, user=compliance_user)
    assert caught.value.code == "outside_term"


def test_a_renewal_starts_after_every_recorded_term(renewed, ledger, compliance_api):
    response = compliance_api.post(
        "/api/renewals/",
        {"category": ledger.category.pk, "term_start": "2028-06-01", "term_end": "2029-12-31",
         "board_approved_on": "2026-11-02"},
        format="json",
    )  # fmt: skip

    assert response.status_code == 400
    assert "ends on 31 Dec 2028" in response.json()["term_start"][0]


def test_a_renewals_caps_outside_its_term_refuse_the_whole_renewal(ledger, compliance_api):
    response = compliance_api.post(
        "/api/renewals/",
        {"category": ledger.category.pk, "term_start": "2027-01-01", "term_end": "2027-12-31",
         "board_approved_on": "2026-11-02",
         "caps": [{"period_start": "2027-01-01", "period_end": "2028-01-31", "amount": "100.00"}]},
        format="json",
    )  # fmt: skip

    assert response.status_code == 400
    assert "not inside any recorded term" in response.json()["caps"][0]
    assert not CategoryRenewal.objects.exists()


def test_the_first_term_cannot_grow_into_a_renewal(renewed, ledger, compliance_user):
    from compliance.caps.setup import transaction_category_update

    with pytest.raises(ValidationError) as caught:
        transaction_category_update(category=ledger.category, user=compliance_user, term_end=D("2027-01-31"))

    assert "overlap" in caught.value.message_dict["term_end"][0]


def test_a_renewal_cannot_shrink_below_its_caps(renewed, compliance_user):
    with pytest.raises(ValidationError) as caught:
        category_renewal_update(renewal=renewed, user=compliance_user, term_end=D("2028-06-30"))

    assert "would fall outside the term" in caught.value.message_dict["term_end"][0]


# --- The term in force in the API --------------------------------------------------------------------


def test_the_api_shows_the_first_term_until_the_renewal_begins_and_then_the_renewal(
    renewed, ledger, compliance_api, time_machine
):
    url = f"/api/categories/{ledger.category.pk}/"
    time_machine.move_to("2026-12-31 12:00 +08:00")
    before = compliance_api.get(url).json()
    time_machine.move_to("2027-01-01 12:00 +08:00")
    after = compliance_api.get(url).json()
    listed = compliance_api.get("/api/categories/").json()["results"][0]

    assert (before["term_start"], before["term_end"], before["renewal_in_force"]) == ("2025-07-29", "2026-12-31", None)
    assert (after["term_start"], after["term_end"]) == ("2027-01-01", "2028-12-31")
    assert after["renewal_in_force"] == renewed.pk
    assert (listed["term_start"], listed["term_end"]) == ("2027-01-01", "2028-12-31")


def test_the_term_in_force_of_a_renewal_is_changed_as_a_renewal(renewed, ledger, compliance_api, time_machine):
    time_machine.move_to("2027-06-01 12:00 +08:00")
    url = f"/api/categories/{ledger.category.pk}/"

    refused = compliance_api.patch(url, {"term_end": "2029-06-30"}, format="json")
    unchanged = compliance_api.patch(
        url, {"term_start": "2027-01-01", "term_end": "2028-12-31", "quote_validity_days": 60}, format="json"
    )

    assert refused.status_code == 400
    assert f"/api/renewals/{renewed.pk}/" in refused.json()["term_end"][0]
    assert unchanged.status_code == 200
    assert (unchanged.json()["term_end"], unchanged.json()["quote_validity_days"]) == ("2028-12-31", 60)


def test_the_renewals_are_listed_in_the_api(renewed, ledger, compliance_api):
    body = compliance_api.get("/api/renewals/", {"category": ledger.category.pk}).json()

    assert [(r["term_start"], r["term_end"], r["reference"]) for r in body["results"]] == [
        ("2027-01-01", "2028-12-31", "Renewal agreement of 2 Nov 2026")
    ]


def test_the_categories_list_takes_a_constant_number_of_queries(ledger, compliance_user, compliance_api,
                                                                django_assert_max_num_queries):  # fmt: skip
    from tests.factories import CategoryFactory

    for _ in range(6):
        category = CategoryFactory(agreement=ledger.agreement)
        category_renewal_record(user=compliance_user, category=category, term_start=D("2027-01-01"),
                                term_end=D("2027-12-31"), board_approved_on=D("2026-11-02"))  # fmt: skip

    with django_assert_max_num_queries(4):
        assert compliance_api.get("/api/categories/").json()["count"] == 7


def test_the_term_history_is_shown_on_the_category_page(renewed, ledger, client, auditor_user, time_machine):
    time_machine.move_to("2026-06-01 12:00 +08:00")
    client.force_login(auditor_user)

    page = client.get(f"/admin/transactions/transactioncategory/{ledger.category.pk}/change/").content.decode()

    assert "1 Jan 2027 to 31 Dec 2028 (<a href=" in page
    assert "renewal approved 2026-11-02</a>) · in force" not in page  # the first term is in force today
    assert "29 Jul 2025 to 31 Dec 2026 (first term) · in force" in page


def test_an_approved_order_stays_inside_the_terms(ledger, compliance_user):
    from compliance.caps.setup import transaction_category_update

    ledger.approved("100.00", approver=UserFactory(username="approver"), order_date=D("2026-06-01"))

    with pytest.raises(ValidationError) as caught:
        transaction_category_update(category=ledger.category, user=compliance_user, term_end=D("2026-05-31"))
    assert any("Approved orders would fall outside the term" in m for m in caught.value.message_dict["term_end"])
