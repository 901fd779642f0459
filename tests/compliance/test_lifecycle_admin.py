"""The admin for classification and the cap lifecycle, as a compliance officer uses it: the demo agreement's
ratios, tier and obligations, a cap revised end to end, an exception recorded and approved by a second person."""

from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from compliance.models import AnnualCap, CapRevision, FinancialYear, QuoteRuleException
from tests.conftest import make_user
from tests.factories import PDF, D, FinancialYearFactory, InvoiceFactory, RateFactory, UserFactory
from transactions.models import ConnectedPerson, PurchaseOrder, TransactionCategory


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def demo(db):
    call_command("load_demo", verbosity=0)


def test_the_demo_categorys_page_shows_its_ratios_tier_and_obligations(demo, client, management_user):
    idc = TransactionCategory.objects.get(name="IDC services")
    client.force_login(management_user)

    page = client.get(f"/admin/transactions/transactioncategory/{idc.pk}/change/").content.decode()

    assert 'data-tier="announcement_and_annual_review"' in page
    assert "1.0533%" in page and "0.4661%" in page
    assert "Provisional: missing the market capitalisation." in page
    assert "not applicable (a loss before tax)" in page
    assert "market capitalisation not recorded" in page
    assert "independent non-executive directors review the transactions every year" in page


def test_the_connected_persons_page_shows_the_aggregated_classification(demo, client, auditor_user):
    xiaomi = ConnectedPerson.objects.get()
    client.force_login(auditor_user)

    page = client.get(f"/admin/transactions/connectedperson/{xiaomi.pk}/change/").content.decode()

    assert 'data-tier="announcement_and_annual_review"' in page
    assert "1.1393%" in page
    assert "CNY 88,700,000.00 in the year ending 31 Dec 2026" in page


def test_financial_figures_are_entered_in_thousands_as_filed_and_stored_in_full(db, client, compliance_user):
    client.force_login(compliance_user)

    response = client.post(
        "/admin/compliance/financialyear/add/",
        {"year_end": "2025-12-31", "currency": "CNY", "unit": "1000", "revenue": "7785180",
         "total_assets": "17592654", "profit_before_tax": "-1980566", "source": "Annual results",
         "share_price": "", "share_price_currency": "", "share_price_date": "", "shares_in_issue": "",
         "shares_in_issue_on": "", "market_cap": "", "market_cap_currency": ""},
    )  # fmt: skip

    assert response.status_code == 302, response.context and response.context["errors"]
    year = FinancialYear.objects.get()
    assert (year.revenue, year.total_assets, year.profit_before_tax) == (
        Decimal("7785180000.00"), Decimal("17592654000.00"), Decimal("-1980566000.00"),
    )  # fmt: skip


def test_the_market_capitalisation_is_the_price_times_the_shares_in_issue(db, client, compliance_user):
    client.force_login(compliance_user)

    client.post(
        "/admin/compliance/financialyear/add/",
        {"year_end": "2025-12-31", "currency": "CNY", "unit": "1", "revenue": "1000", "total_assets": "1000",
         "profit_before_tax": "10", "share_price": "4.1250", "share_price_currency": "HKD",
         "share_price_date": "2025-07-29", "shares_in_issue": "3800000000", "shares_in_issue_on": "2025-07-28",
         "market_cap": "", "market_cap_currency": ""},
    )  # fmt: skip

    year = FinancialYear.objects.get()
    assert (year.market_cap, year.market_cap_currency) == (Decimal("15675000000.00"), "HKD")


def test_a_price_without_the_shares_in_issue_is_a_form_error(db, client, compliance_user):
    client.force_login(compliance_user)

    response = client.post(
        "/admin/compliance/financialyear/add/",
        {"year_end": "2025-12-31", "currency": "CNY", "unit": "1", "revenue": "1000", "total_assets": "1000",
         "profit_before_tax": "10", "share_price": "4.1250", "share_price_currency": "HKD",
         "share_price_date": "2025-07-29", "shares_in_issue": "", "shares_in_issue_on": ""},
    )  # fmt: skip

    assert response.status_code == 200
    assert "Enter the average closing price and the shares in issue together" in response.content.decode()
    assert not FinancialYear.objects.exists()


def test_a_cap_is_revised_end_to_end_in_the_admin(ledger, client, compliance_user, time_machine):
    FinancialYearFactory(market_cap=Decimal("5000000000.00"), market_cap_currency="CNY")
    RateFactory(currency="HKD", target_currency="CNY", rate_date=D("2026-01-02"), rate=Decimal("0.9"))
    ledger.approved("1900000.00", approver=UserFactory(username="approver"), order_date=D("2026-02-01"))
    cap = ledger.caps[1]
    time_machine.move_to("2026-05-10 10:00 +08:00")
    client.force_login(compliance_user)
    cap_page = client.get(f"/admin/compliance/annualcap/{cap.pk}/change/").content.decode()
    assert f"/admin/compliance/caprevision/add/?cap={cap.pk}" in cap_page
    assert client.get(f"/admin/compliance/caprevision/add/?cap={cap.pk}").context["adminform"].form.initial[
        "cap"
    ] == str(cap.pk)

    proposed = client.post(
        "/admin/compliance/caprevision/add/",
        {"cap": cap.pk, "new_amount": "3000000.00", "reason": "Hosting demand from the new region"},
        follow=True,
    )
    revision = CapRevision.objects.get()
    assert any("record the board's approval, the announcement" in m for m in messages_of(proposed))
    change = f"/admin/compliance/caprevision/{revision.pk}/change/"
    client.post(change, {"board_approved_on": "2026-05-04", "announced_on": "", "shareholders_approved_on": ""})
    assert AnnualCap.objects.get(pk=cap.pk).amount == Decimal("2000000.00")
    done = client.post(
        change, {"board_approved_on": "2026-05-04", "announced_on": "2026-05-05", "shareholders_approved_on": ""},
        follow=True,
    )  # fmt: skip

    assert "The revision took effect: the cap is now CNY 3,000,000.00." in messages_of(done)
    assert AnnualCap.objects.get(pk=cap.pk).amount == Decimal("3000000.00")
    history = client.get(f"/admin/compliance/annualcap/{cap.pk}/change/").content.decode()
    assert "CNY 2,000,000.00" in history and "CNY 3,000,000.00" in history
    assert f"Cap revision {revision.pk} took effect" in history


def test_a_breach_is_shown_on_the_revision_and_in_the_list(ledger, client, compliance_user):
    order = ledger.approved("2000000.00", approver=UserFactory(username="approver"), order_date=D("2026-02-01"))
    InvoiceFactory(purchase_order=order, amount=Decimal("2100000.00"), invoice_date=D("2026-04-30"))
    client.force_login(compliance_user)

    response = client.post(
        "/admin/compliance/caprevision/add/",
        {"cap": ledger.caps[1].pk, "new_amount": "3000000.00", "reason": "Late invoices"},
        follow=True,
    )
    revision = CapRevision.objects.get()
    page = client.get(f"/admin/compliance/caprevision/{revision.pk}/change/").content.decode()
    listed = client.get("/admin/compliance/caprevision/?breach__exact=1").content.decode()

    assert any("flagged as a breach" in m for m in messages_of(response))
    assert "BREACH: the cap had already been exceeded (CNY 2,100,000.00 used of CNY 2,000,000.00)" in page
    assert f"/admin/compliance/caprevision/{revision.pk}/change/" in listed


def test_an_exception_is_recorded_and_approved_by_a_second_person_in_the_admin(
    ledger, client, compliance_user, finance_user
):
    order = ledger.order("100000.00", quotes=("120000.00",), created_by=finance_user)
    second = make_user("sam.second", "compliance")
    client.force_login(compliance_user)
    order_page = client.get(f"/admin/transactions/purchaseorder/{order.pk}/change/").content.decode()
    assert f"/admin/compliance/quoteruleexception/add/?purchase_order={order.pk}" in order_page

    client.post(
        "/admin/compliance/quoteruleexception/add/",
        {"purchase_order": order.pk, "reason": "Sole supplier of this model",
         "evidence": SimpleUploadedFile("search.pdf", PDF, content_type="application/pdf")},
    )  # fmt: skip
    exception = QuoteRuleException.objects.get()
    own = client.post(f"/admin/compliance/quoteruleexception/{exception.pk}/approve/", follow=True)
    client.force_login(second)
    page = client.get(f"/admin/compliance/quoteruleexception/{exception.pk}/change/").content.decode()
    client.post(f"/admin/compliance/quoteruleexception/{exception.pk}/approve/")
    approved = client.post(f"/admin/transactions/purchaseorder/{order.pk}/approve/", follow=True)

    assert any("you cannot approve it: a second person must" in m for m in messages_of(own))
    assert 'id="approve-exception"' in page
    assert f"Order {order.number} is approved." in messages_of(approved)
    assert PurchaseOrder.objects.get(pk=order.pk).status == "approved"
    exception.refresh_from_db()
    assert (exception.status, exception.decided_by) == ("approved", second)


def test_finance_cannot_decide_an_exception_even_by_posting_directly(ledger, client, compliance_user, finance_user):
    from compliance.rules.quote_exceptions import quote_rule_exception_request

    order = ledger.order("100000.00", quotes=("120000.00",), created_by=finance_user)
    exception = quote_rule_exception_request(
        user=compliance_user, purchase_order=order, reason="Sole supplier",
        evidence=SimpleUploadedFile("search.pdf", PDF),
    )  # fmt: skip
    client.force_login(finance_user)

    assert client.post(f"/admin/compliance/quoteruleexception/{exception.pk}/approve/").status_code == 403


def test_a_renewal_is_recorded_in_the_admin_and_refused_over_three_years_without_explanation(
    ledger, client, compliance_user
):
    client.force_login(compliance_user)
    form = {"category": ledger.category.pk, "term_start": "2027-01-01", "term_end": "2030-01-01",
            "board_approved_on": "2026-11-02", "term_explanation": "", "reference": ""}  # fmt: skip

    refused = client.post("/admin/transactions/categoryrenewal/add/", form)
    accepted = client.post("/admin/transactions/categoryrenewal/add/", {**form, "term_end": "2029-12-31"})

    assert refused.status_code == 200
    assert "longer than three years" in refused.content.decode()
    assert accepted.status_code == 302
    assert ledger.category.renewals.get().term_end == D("2029-12-31")


def test_a_renewals_steps_are_recorded_in_the_admin_until_it_takes_effect(ledger, client, compliance_user):
    client.force_login(compliance_user)
    form = {"category": ledger.category.pk, "term_start": "2027-01-01", "term_end": "2027-12-31",
            "board_approved_on": "2026-11-02", "term_explanation": "", "reference": "Renewal 2027",
            "board_minutes_ref": "Minutes 2026/11", "abstaining_directors": "Lei Jun; Zhang Duo",
            "announced_on": "", "circular_issued_on": "", "adviser_letter_on": "", "shareholders_approved_on": "",
            "announcement_ref": ""}  # fmt: skip
    added = client.post("/admin/transactions/categoryrenewal/add/", form, follow=True)

    renewal = ledger.category.renewals.get()
    # No financial figures: the most demanding tier, so every step is required.
    assert (renewal.status, renewal.tier, renewal.abstaining_directors) == (
        "pending", "shareholders_approval", "Lei Jun; Zhang Duo",
    )  # fmt: skip
    assert any("record the announcement, the circular" in m for m in messages_of(added))
    change = f"/admin/transactions/categoryrenewal/{renewal.pk}/change/"
    too_early = client.post(change, {**form, "announced_on": "2026-10-30"})
    assert "cannot come before the board" in too_early.content.decode()

    client.post(change, {**form, "announced_on": "2026-11-02", "circular_issued_on": "2026-11-05",
                         "adviser_letter_on": "2026-11-05", "shareholders_approved_on": "2026-11-20"})  # fmt: skip

    assert ledger.category.renewals.get().status == "effective"
