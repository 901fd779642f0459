"""Each role x endpoint x method: allowed, or 403, as the API contract's roles say."""

from decimal import Decimal

import pytest
from django.apps import apps
from django.contrib.auth.models import Group
from django.utils import timezone
from rest_framework.test import APIClient

from compliance.caps.approval import purchase_order_approve
from compliance.models import Alert, AlertRecipient, AlertThreshold, DistributionList, HeadroomWarning, QuoteRuleFinding
from tests.conftest import client_for
from tests.factories import CategoryFactory, D, FinancialYearFactory, RateFactory, UserFactory, grant_approval
from transactions.models import CategoryRenewal

ROLES = ("finance", "compliance", "management", "auditor", "none")
READERS = {"finance", "compliance", "management", "auditor"}


def draft(ledger):
    return ledger.order("100.00", quotes=("110.00", "120.00"))


def approved(ledger):
    return ledger.approved("100.00", approver=UserFactory(username="approver"))


def sale_draft(ledger):
    return ledger.sale("100.00", references=("90.00", "100.00"))


def sale_approved(ledger):
    approver = UserFactory(username="sales-approver")
    grant_approval(approver)
    return purchase_order_approve(order_id=sale_draft(ledger).pk, user=approver)


def free_category(ledger):
    return CategoryFactory(agreement=ledger.agreement, term_start=D("2027-01-01"), term_end=D("2027-12-31"))


def an_alert(ledger):
    return Alert.objects.create(
        cap=ledger.caps[0], threshold=Decimal("80.00"), basis="committed", utilisation_pct=Decimal("80.00"),
        used_amount=Decimal("800000.00"), cap_amount=Decimal("1000000.00"),
    )  # fmt: skip


# resource: (object to read/change, payload to create, change, roles that write, roles that delete)
RESOURCES = {
    "connected-persons": (
        lambda L: L.person,
        lambda L: {"name": "Another Group", "basis": "Director's associate", "connected_from": "2024-01-01"},
        {"basis": "Substantial shareholder (11.12%)"},
        {"compliance"},
        set(),
    ),
    "counterparties": (
        lambda L: L.independents[0],
        lambda L: {"name": "New Supplier Ltd.", "connected_person": None},
        {"name_zh": "新供應商"},
        {"compliance"},
        set(),
    ),
    "agreements": (
        lambda L: L.agreement,
        lambda L: {
            "title": "2027 agreement",
            "connected_person": L.person.pk,
            "signed_on": "2026-11-01",
            "board_approved_on": "2026-11-01",
        },
        {"title_zh": "二零二七年協議"},
        {"compliance"},
        set(),
    ),
    "categories": (
        lambda L: L.category,
        lambda L: {
            "agreement": L.agreement.pk,
            "name": "Network hardware",
            "term_start": "2025-07-29",
            "term_end": "2026-07-28",
            "currency": "CNY",
        },
        {"quote_validity_days": 60},
        {"compliance"},
        set(),
    ),
    "caps": (
        lambda L: L.caps[1],
        lambda L: {
            "category": free_category(L).pk,
            "period_start": "2027-01-01",
            "period_end": "2027-12-31",
            "amount": "82000000.00",
        },
        {"amount": "2500000.00"},
        {"compliance"},
        set(),
    ),
    "exchange-rates": (
        lambda L: RateFactory(rate_date=D("2030-01-02")),
        lambda L: {"currency": "USD", "target_currency": "CNY", "rate_date": "2026-05-05", "rate": "7.1"},
        {"rate": "7.2"},
        {"compliance"},
        {"compliance"},
    ),
    "purchase-orders": (
        draft,
        lambda L: {
            "number": "PO-NEW",
            "category": L.category.pk,
            "counterparty": L.connected.pk,
            "order_date": "2026-03-02",
            "amount": "100.00",
            "currency": "CNY",
            "recognition": "on_order_date",
        },
        {"description": "Racks for the Beijing hall"},
        {"finance"},
        set(),
    ),
    "quotes": (
        lambda L: draft(L).quotes.first(),
        lambda L: {
            "purchase_order": draft(L).pk,
            "supplier": L.independents[2].pk,
            "quoted_on": "2026-02-20",
            "amount": "130.00",
            "currency": "CNY",
        },
        {"reference": "Q-2026-7"},
        {"finance"},
        {"finance"},
    ),
    "invoices": (
        lambda L: approved(L).invoices.create(
            number="INV-1", invoice_date=D("2026-03-31"), amount="50.00", currency="CNY"
        ),
        lambda L: {
            "purchase_order": approved(L).pk,
            "number": "INV-NEW",
            "invoice_date": "2026-03-31",
            "amount": "10.00",
            "currency": "CNY",
        },
        {"amount": "11.00"},
        {"finance"},
        set(),
    ),
    "sales-orders": (
        sale_draft,
        lambda L: {
            "number": "SO-NEW",
            "category": L.sales_category().pk,
            "counterparty": L.connected.pk,
            "order_date": "2026-03-02",
            "amount": "100.00",
            "currency": "CNY",
            "recognition": "on_order_date",
        },
        {"description": "Cloud hosting for the Wuhan campus"},
        {"finance"},
        set(),
    ),
    "price-references": (
        lambda L: sale_draft(L).quotes.first(),
        lambda L: {
            "sales_order": sale_draft(L).pk,
            "customer": L.independents[2].pk,
            "dated": "2026-02-20",
            "amount": "95.00",
            "currency": "CNY",
        },
        {"reference": "CONTRACT-2026-7"},
        {"finance"},
        {"finance"},
    ),
    "sales-invoices": (
        lambda L: sale_approved(L).invoices.create(
            number="SI-1", invoice_date=D("2026-03-31"), amount="50.00", currency="CNY"
        ),
        lambda L: {
            "sales_order": sale_approved(L).pk,
            "number": "SI-NEW",
            "invoice_date": "2026-03-31",
            "amount": "10.00",
            "currency": "CNY",
        },
        {"amount": "11.00"},
        {"finance"},
        set(),
    ),
    "alerts": (an_alert, lambda L: {"cap": L.caps[0].pk}, {"threshold": "90.00"}, set(), set()),
    "alert-recipients": (
        lambda L: AlertRecipient.objects.create(threshold=Decimal("80.00"), email="cfo@example.com"),
        lambda L: {"threshold": "80.00", "email": "head.of.finance@example.com", "name": "Head of finance"},
        {"name": "Chief financial officer"},
        {"compliance"},
        {"compliance"},
    ),
    "distribution-lists": (
        lambda L: DistributionList.objects.create(name="Senior management"),
        lambda L: {"name": "Company secretary", "members": ["cosec@example.com"], "thresholds": ["80.00"]},
        {"monthly_report": True},
        {"compliance"},
        {"compliance"},
    ),
    "headroom-warnings": (
        lambda L: HeadroomWarning.objects.create(
            cap=L.caps[0],
            as_of=D("2025-10-01"),
            cap_amount=Decimal("1000000.00"),
            actual=Decimal("0.00"),
            committed=Decimal("900000.00"),
            projected_actual=Decimal("0.00"),
            projected_committed=Decimal("1200000.00"),
        ),
        lambda L: {"cap": L.caps[0].pk},
        {"as_of": "2025-10-02"},
        set(),
        set(),
    ),
    "quote-rule-findings": (
        lambda L: QuoteRuleFinding.objects.create(purchase_order=draft(L), detail="x", last_seen_at=timezone.now()),
        lambda L: {"purchase_order": draft(L).pk, "detail": "x"},
        {"detail": "y"},
        set(),
        set(),
    ),
    "alert-thresholds": (
        lambda L: AlertThreshold.objects.create(percent=Decimal("95.00")),
        lambda L: {"percent": "90.00"},
        {"description": "Tell the board"},
        {"compliance"},
        {"compliance"},
    ),
    "financial-years": (
        lambda L: FinancialYearFactory(),
        lambda L: {"year_end": "2024-12-31", "currency": "CNY", "revenue": "7785180000.00",
                   "total_assets": "17592654000.00", "profit_before_tax": "-1980566000.00"},
        {"source": "Annual results"},
        {"compliance"},
        set(),
    ),
    "renewals": (
        lambda L: CategoryRenewal.objects.create(
            category=L.category, term_start=D("2027-01-01"), term_end=D("2027-12-31"), board_approved_on=D("2026-11-02")
        ),
        lambda L: {"category": L.category.pk, "term_start": "2027-01-01", "term_end": "2027-12-31",
                   "board_approved_on": "2026-11-02"},
        {"reference": "Renewal agreement"},
        {"compliance"},
        set(),
    ),
}  # fmt: skip

CASES = [
    (resource, method, role)
    for resource in RESOURCES
    for method in ("list", "retrieve", "create", "update", "delete")
    for role in ROLES
]


def expected_status(resource, method, role) -> int:
    _, _, _, writers, deleters = RESOURCES[resource]
    if method in ("list", "retrieve"):
        return 200 if role in READERS else 403
    if method == "create":
        return 201 if role in writers else 403
    if method == "update":
        return 200 if role in writers else 403
    return 204 if role in deleters else 403


@pytest.mark.parametrize(("resource", "method", "role"), CASES)
def test_each_role_may_do_exactly_what_the_contract_allows(ledger, role_users, resource, method, role):
    target, create, change, _, _ = RESOURCES[resource]
    client = client_for(role_users[role])
    base = f"/api/{resource}/"

    if method == "list":
        response = client.get(base)
    elif method == "retrieve":
        response = client.get(f"{base}{target(ledger).pk}/")
    elif method == "create":
        response = client.post(base, create(ledger), format="json")
    elif method == "update":
        response = client.patch(f"{base}{target(ledger).pk}/", change, format="json")
    else:
        response = client.delete(f"{base}{target(ledger).pk}/")

    assert response.status_code == expected_status(resource, method, role), response.content


@pytest.mark.parametrize("action", ["approve", "cancel"])
@pytest.mark.parametrize("role", ROLES)
def test_only_compliance_approves_and_cancels_orders(ledger, role_users, action, role):
    order = ledger.order("100.00", quotes=("110.00", "120.00"), created_by=role_users["finance"])

    response = client_for(role_users[role]).post(f"/api/purchase-orders/{order.pk}/{action}/")

    assert response.status_code == (200 if role == "compliance" else 403), response.content
    order.refresh_from_db()
    assert (order.status != "draft") == (role == "compliance")


@pytest.mark.parametrize("action", ["approve", "cancel"])
@pytest.mark.parametrize("role", ROLES)
def test_only_compliance_approves_and_cancels_sales_orders(ledger, role_users, action, role):
    order = ledger.sale("100.00", references=("90.00", "100.00"), created_by=role_users["finance"])

    response = client_for(role_users[role]).post(f"/api/sales-orders/{order.pk}/{action}/")

    assert response.status_code == (200 if role == "compliance" else 403), response.content
    order.refresh_from_db()
    assert (order.status != "draft") == (role == "compliance")


@pytest.mark.parametrize(
    "path", ["/api/caps/", "/api/purchase-orders/", "/api/sales-orders/", "/api/price-references/", "/api/alerts/",
             "/api/sales-invoices/", "/api/"],
)  # fmt: skip
def test_anonymous_requests_are_refused(db, path):
    assert APIClient().get(path).status_code in (401, 403)


def test_a_deactivated_users_token_is_refused(db, finance_user):
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=finance_user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert client.get("/api/caps/").status_code == 200

    finance_user.is_active = False
    finance_user.save()

    assert client.get("/api/caps/").status_code == 401


def test_the_schema_and_docs_need_a_sign_in_and_no_internet(db, auditor_user):
    anonymous = APIClient()
    assert anonymous.get("/api/schema/").status_code == 401
    refused = anonymous.get("/api/docs/")
    assert (refused.status_code, refused["Location"].split("?")[0]) == (302, "/admin/login/")

    from rest_framework.authtoken.models import Token

    with_token = APIClient()
    with_token.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=auditor_user).key}")
    assert with_token.get("/api/schema/").status_code == 200
    signed_in = APIClient()
    signed_in.force_login(auditor_user)
    docs = signed_in.get("/api/docs/")
    assert docs.status_code == 200
    assert b"/static/drf_spectacular_sidecar/swagger-ui-dist/" in docs.content


def test_the_four_roles_exist_and_each_reads_every_model(db):
    models = [m for m in apps.get_models() if m._meta.app_label in ("transactions", "compliance")]
    models = [m for m in models if not m.__name__.startswith("Historical")]
    for role in ("finance", "compliance", "management", "auditor"):
        granted = set(Group.objects.get(name=role).permissions.values_list("content_type__model", "codename"))
        for model in models:
            name = model._meta.model_name
            assert (name, f"view_{name}") in granted, f"{role} cannot read {name}"


def test_management_and_auditors_only_read(db):
    for role in ("management", "auditor"):
        codenames = Group.objects.get(name=role).permissions.values_list("codename", flat=True)
        assert all(codename.startswith("view_") for codename in codenames)


@pytest.mark.parametrize("role", ROLES)
def test_only_compliance_proposes_revises_and_withdraws_caps(ledger, role_users, role):
    client = client_for(role_users[role])
    revision = client_for(role_users["compliance"]).post(
        "/api/cap-revisions/", {"cap": ledger.caps[1].pk, "new_amount": "2500000.00", "reason": "Forecast"}
    )
    assert revision.status_code == 201, revision.content
    path = f"/api/cap-revisions/{revision.json()['id']}/"

    listed = client.get("/api/cap-revisions/").status_code
    steps = client.post(f"{path}steps/", {"board_approved_on": "2026-05-04"}).status_code
    withdraw = client.post(f"{path}withdraw/").status_code
    changed = client.patch(path, {"reason": "Other"}).status_code
    deleted = client.delete(path).status_code

    assert listed == (403 if role == "none" else 200)
    assert (steps, withdraw) == ((200, 200) if role == "compliance" else (403, 403))
    assert changed == (405 if role == "compliance" else 403)  # revisions change only through their steps
    assert deleted == 403
