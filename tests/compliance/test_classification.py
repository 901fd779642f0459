"""Percentage ratios and the Rule 14A.76 tier: the seeds' case as announced, every tier boundary exactly at
and on both sides of it, the profits ratio of a loss, and missing inputs that make a result provisional."""

from decimal import Decimal

import pytest
from django.core.management import call_command

from compliance.rules.classification import category_classification, connected_person_classification, percent_text
from tests.factories import (
    AgreementFactory,
    CapFactory,
    CategoryFactory,
    ConnectedPersonFactory,
    D,
    FinancialYearFactory,
    RateFactory,
)
from transactions.models import ConnectedPerson, TransactionCategory

DAY = D("2026-06-30")


# --- The seeds' case: the 2025 Xiaomi agreement against the 2024 annual results --------------------


@pytest.fixture
def demo(db):
    call_command("load_demo", verbosity=0)


def test_the_largest_idc_cap_is_about_1_05_percent_of_revenue_as_the_announcement_states(demo):
    idc = TransactionCategory.objects.get(name="IDC services")

    result = category_classification(idc, on=DAY)

    assert result.numerator == Decimal("82000000.00")
    assert result.ratio_texts == {"assets": "0.4661", "revenue": "1.0533", "consideration": None, "profits": None}
    assert result.highest_ratio_text == "1.0533"
    assert result.tier == "announcement_and_annual_review"


def test_the_combined_2026_caps_are_about_1_14_percent_of_revenue_in_the_same_tier(demo):
    xiaomi = ConnectedPerson.objects.get()

    result = connected_person_classification(xiaomi, on=DAY)

    assert result.numerator == Decimal("88700000.00")  # IDC 82.0m + network hardware 6.7m, both starting in 2026
    assert result.ratio_texts["revenue"] == "1.1393"
    assert result.tier == "announcement_and_annual_review"


def test_the_seeds_case_through_the_api_reads_as_the_contract_defines(demo, compliance_api):
    idc = TransactionCategory.objects.get(name="IDC services")
    xiaomi = ConnectedPerson.objects.get()

    own = compliance_api.get(f"/api/categories/{idc.pk}/classification/", {"on": "2026-06-30"}).json()
    aggregated = compliance_api.get(f"/api/connected-persons/{xiaomi.pk}/classification/", {"on": "2026-06-30"}).json()

    for body in (own, aggregated):
        assert {"ratios", "highest_ratio", "tier", "provisional", "missing", "obligations"} <= set(body)
        assert set(body["ratios"]) == {"assets", "revenue", "consideration", "profits"}
        assert body["tier"] == "announcement_and_annual_review"
        assert any("announce" in sentence.lower() for sentence in body["obligations"])
    assert (own["highest_ratio"], aggregated["highest_ratio"]) == ("1.0533", "1.1393")
    assert own["financial_year_end"] == "2024-12-31"


# --- Tier boundaries ----------------------------------------------------------------------------------


def classified(cap_amount: str, *, revenue: str, on=DAY):
    """One HKD category with one cap, against a HKD year whose assets and market capitalisation are so large
    that the revenue ratio decides; the cap is the consideration in HKD."""
    FinancialYearFactory(
        currency="HKD", revenue=Decimal(revenue), total_assets=Decimal("999999999999999.00"),
        market_cap=Decimal("999999999999999.00"), market_cap_currency="HKD",
    )  # fmt: skip
    category = CategoryFactory(currency="HKD")
    CapFactory(category=category, amount=Decimal(cap_amount))
    return category_classification(category, on=on)


@pytest.mark.parametrize(
    ("cap", "tier"),
    [
        ("4999999.99", "fully_exempt"),  # just below 0.1% of revenue
        ("5000000.00", "announcement_and_annual_review"),  # exactly 0.1%: not below it
        ("5000000.01", "announcement_and_annual_review"),
    ],
)
def test_the_de_minimis_boundary_of_0_1_percent(db, cap, tier):
    assert classified(cap, revenue="5000000000.00").tier == tier  # and the cap is above HK$3m


@pytest.mark.parametrize(
    ("cap", "tier"),
    [
        ("49999999.99", "announcement_and_annual_review"),
        ("50000000.00", "shareholders_approval"),  # exactly 5%: not below it (and above HK$10m)
        ("50000000.01", "shareholders_approval"),
    ],
)
def test_the_5_percent_boundary(db, cap, tier):
    assert classified(cap, revenue="1000000000.00").tier == tier


@pytest.mark.parametrize(
    ("cap", "tier"),
    [
        ("4999999.99", "announcement_and_annual_review"),  # below 25% and below HK$10m
        ("5000000.00", "shareholders_approval"),  # exactly 25%
        ("5000000.01", "shareholders_approval"),
    ],
)
def test_the_25_percent_boundary_with_a_consideration_under_hk_10_million(db, cap, tier):
    assert classified(cap, revenue="20000000.00").tier == tier


@pytest.mark.parametrize(
    ("cap", "tier"),
    [
        ("2999999.99", "fully_exempt"),  # below 5% and under HK$3m
        ("3000000.00", "announcement_and_annual_review"),  # exactly HK$3m: not under it
        ("3000000.01", "announcement_and_annual_review"),
    ],
)
def test_the_hk_3_million_boundary_below_5_percent(db, cap, tier):
    assert classified(cap, revenue="100000000.00").tier == tier  # 3% of revenue


@pytest.mark.parametrize(
    ("cap", "tier"),
    [
        ("9999999.99", "announcement_and_annual_review"),  # below 25% and under HK$10m
        ("10000000.00", "shareholders_approval"),  # exactly HK$10m
        ("10000000.01", "shareholders_approval"),
    ],
)
def test_the_hk_10_million_boundary_between_5_and_25_percent(db, cap, tier):
    assert classified(cap, revenue="100000000.00").tier == tier  # 10% of revenue


def test_thresholds_compare_exact_ratios_not_the_four_places_shown(db):
    result = classified("99999.96", revenue="100000000.00")  # 0.09999996% of revenue

    assert result.ratio_texts["revenue"] == "0.1000"
    assert result.tier == "fully_exempt"


def test_the_highest_of_the_tested_ratios_decides(db):
    FinancialYearFactory(
        revenue=Decimal("1000000000.00"), total_assets=Decimal("100000000.00"),
        market_cap=Decimal("5000000000.00"), market_cap_currency="CNY",
    )  # fmt: skip
    category = CategoryFactory()
    CapFactory(category=category, amount=Decimal("6000000.00"))
    RateFactory(currency="HKD", target_currency="CNY", rate_date=D("2026-01-02"), rate=Decimal("0.9"))

    result = category_classification(category, on=DAY)

    assert result.ratio_texts == {
        "assets": "6.0000", "revenue": "0.6000", "consideration": "0.1200", "profits": "6.0000",
    }  # fmt: skip
    assert result.highest_ratio_text == "6.0000"
    assert result.tier == "announcement_and_annual_review"  # 6% < 25% and CNY 6m = HK$6.67m < HK$10m


# --- The HK$ tests in another currency ------------------------------------------------------------


@pytest.fixture
def cny_category(db):
    FinancialYearFactory(market_cap=Decimal("999999999999.00"), market_cap_currency="CNY")  # 2.9m is 0.29% of revenue
    category = CategoryFactory()
    CapFactory(category=category, amount=Decimal("2900000.00"))
    return category


def test_the_hk_3_million_test_uses_the_latest_rate_on_or_before_the_day(cny_category):
    RateFactory(currency="HKD", target_currency="CNY", rate_date=D("2026-06-01"), rate=Decimal("0.9"))  # 3.22m HKD
    RateFactory(currency="CNY", target_currency="HKD", rate_date=D("2026-06-20"), rate=Decimal("1.0"))  # 2.9m HKD
    RateFactory(currency="CNY", target_currency="HKD", rate_date=D("2026-07-01"), rate=Decimal("1.2"))  # after the day

    result = category_classification(cny_category, on=DAY)

    assert result.consideration_hkd == Decimal("2900000.00")
    assert result.tier == "fully_exempt"
    assert category_classification(cny_category, on=D("2026-06-19")).tier == "announcement_and_annual_review"


def test_without_an_hkd_rate_the_hk_exemptions_are_not_applied_and_the_rate_is_named(cny_category):
    result = category_classification(cny_category, on=DAY)

    assert result.consideration_hkd is None
    assert result.tier == "announcement_and_annual_review"  # 0.29% would be fully exempt under HK$3m
    assert result.provisional
    assert "exchange_rate CNY/HKD" in result.missing


def test_a_cap_in_another_currency_than_the_figures_is_converted_before_the_ratios(db):
    FinancialYearFactory(market_cap=Decimal("1000000000.00"), market_cap_currency="HKD")
    category = CategoryFactory(currency="USD")
    CapFactory(category=category, amount=Decimal("1000000.00"))
    RateFactory(currency="USD", target_currency="CNY", rate_date=D("2026-06-29"), rate=Decimal("7.1"))
    RateFactory(currency="USD", target_currency="HKD", rate_date=D("2026-06-29"), rate=Decimal("7.8"))

    result = category_classification(category, on=DAY)

    assert result.ratio_texts["revenue"] == "0.7100"  # CNY 7.1m of CNY 1bn
    assert result.ratio_texts["consideration"] == "0.7800"  # HK$7.8m of HK$1bn
    assert not result.provisional


# --- Profits ratio, missing inputs ------------------------------------------------------------------


def test_a_loss_making_years_profits_ratio_is_not_applied(db):
    FinancialYearFactory(
        profit_before_tax=Decimal("-1980566000.00"), market_cap=Decimal("1"), market_cap_currency="CNY"
    )
    category = CategoryFactory()
    CapFactory(category=category, amount=Decimal("1000.00"))

    result = category_classification(category, on=DAY)

    assert result.ratios["profits"] is None
    assert any("profits ratio is not applied" in note for note in result.notes)
    assert "profits" not in result.missing  # not missing: not applicable


def test_a_profitable_years_profits_ratio_is_shown_but_never_tested(db):
    FinancialYearFactory(profit_before_tax=Decimal("10000000.00"))
    category = CategoryFactory()
    CapFactory(category=category, amount=Decimal("999000.00"))  # 9.99% of profit, 0.0999% of revenue

    result = category_classification(category, on=DAY)

    assert result.ratio_texts["profits"] == "9.9900"
    assert result.highest_ratio_text == "0.0999"
    assert result.tier == "fully_exempt"


def test_a_missing_market_capitalisation_gives_a_provisional_result_that_names_it(db):
    FinancialYearFactory(market_cap=None)
    category = CategoryFactory()
    CapFactory(category=category, amount=Decimal("20000000.00"))
    RateFactory(currency="CNY", target_currency="HKD", rate_date=D("2026-01-02"), rate=Decimal("1.1"))

    result = category_classification(category, on=DAY)

    assert result.ratios["consideration"] is None
    assert result.provisional
    assert result.missing == ["market_cap"]
    assert result.tier == "announcement_and_annual_review"  # from the ratios present: 2% of revenue


def test_a_missing_market_capitalisation_is_named_in_the_api(db, compliance_api):
    FinancialYearFactory(market_cap=None)
    category = CategoryFactory()
    CapFactory(category=category)

    body = compliance_api.get(f"/api/categories/{category.pk}/classification/", {"on": "2026-06-30"}).json()

    assert body["provisional"] is True
    assert "market_cap" in body["missing"]
    assert body["ratios"]["consideration"] is None


def test_without_any_financial_year_the_result_is_provisional_and_never_lighter_than_the_rules(db):
    category = CategoryFactory()
    CapFactory(category=category, amount=Decimal("1.00"))

    result = category_classification(category, on=DAY)

    assert result.ratios == dict.fromkeys(("assets", "revenue", "consideration", "profits"))
    assert result.missing[0] == "financial_year"
    assert result.tier == "shareholders_approval"


def test_without_any_financial_year_the_api_says_so(ledger, compliance_api):
    body = compliance_api.get(f"/api/categories/{ledger.category.pk}/classification/").json()

    assert (body["financial_year"], body["financial_year_end"], body["highest_ratio"]) == (None, None, None)
    assert body["provisional"] is True
    assert "financial_year" in body["missing"]


def test_the_latest_financial_year_ended_by_the_day_gives_the_denominators(db):
    FinancialYearFactory(year_end=D("2024-12-31"), revenue=Decimal("100000000.00"))
    FinancialYearFactory(year_end=D("2025-12-31"), revenue=Decimal("200000000.00"))
    category = CategoryFactory()
    CapFactory(category=category, amount=Decimal("1000000.00"))

    assert category_classification(category, on=D("2025-12-30")).ratio_texts["revenue"] == "1.0000"
    assert category_classification(category, on=D("2025-12-31")).ratio_texts["revenue"] == "0.5000"


# --- Aggregation by connected person ------------------------------------------------------------------


def test_caps_are_aggregated_by_the_issuers_financial_year_in_which_their_periods_start(db):
    FinancialYearFactory(year_end=D("2025-03-31"))
    person = ConnectedPersonFactory()
    first = CategoryFactory(agreement=AgreementFactory(connected_person=person), term_end=D("2027-03-31"))
    second = CategoryFactory(agreement=AgreementFactory(connected_person=person), term_end=D("2027-03-31"))
    CapFactory(category=first, period_start=D("2026-01-01"), period_end=D("2026-03-31"), amount=Decimal("100.00"))
    CapFactory(category=first, period_start=D("2026-04-01"), period_end=D("2027-03-31"), amount=Decimal("120.00"))
    CapFactory(category=second, period_start=D("2026-02-01"), period_end=D("2026-12-31"), amount=Decimal("50.00"))

    result = connected_person_classification(person, on=DAY)

    assert result.numerator == Decimal("150.00")  # the year to 31 Mar 2026: 100 + 50; the next: 120
    assert "31 Mar 2026" in result.basis


def test_other_connected_persons_caps_are_not_aggregated(ledger):
    FinancialYearFactory()
    other = CategoryFactory()
    CapFactory(category=other, amount=Decimal("99000000.00"))

    result = connected_person_classification(ledger.person, on=DAY)

    assert result.numerator == Decimal("2000000.00")


def test_caps_in_several_currencies_are_converted_before_they_are_added(ledger):
    FinancialYearFactory()
    usd = CategoryFactory(agreement=ledger.agreement, currency="USD")
    CapFactory(category=usd, amount=Decimal("100000.00"))
    RateFactory(currency="USD", target_currency="CNY", rate_date=D("2026-06-01"), rate=Decimal("7.0"))

    result = connected_person_classification(ledger.person, on=DAY)

    assert result.numerator == Decimal("2700000.00")  # CNY 2,000,000 + USD 100,000 x 7.0, both in 2026


def test_percentages_are_shown_with_four_places_rounded_half_up():
    assert percent_text(Decimal("1.05325")) == "1.0533"
    assert percent_text(Decimal("1.05324999")) == "1.0532"
    assert percent_text(None) is None


def test_a_bad_day_is_a_400(ledger, compliance_api):
    response = compliance_api.get(f"/api/categories/{ledger.category.pk}/classification/", {"on": "30/06/2026"})

    assert response.status_code == 400
    assert "on" in response.json()


def test_every_role_reads_the_classifications_and_a_user_without_one_does_not(ledger, role_users):
    from tests.conftest import client_for

    for role, user in role_users.items():
        client = client_for(user)
        for path in (
            f"/api/categories/{ledger.category.pk}/classification/",
            f"/api/connected-persons/{ledger.person.pk}/classification/",
        ):
            assert client.get(path).status_code == (403 if role == "none" else 200), (role, path)


def test_a_classification_takes_a_constant_number_of_queries(ledger, django_assert_max_num_queries, compliance_api):
    FinancialYearFactory(market_cap=Decimal("1000000000.00"), market_cap_currency="HKD")
    for n in range(5):
        category = CategoryFactory(agreement=ledger.agreement, term_start=D(f"{2030 + n}-01-01"),
                                   term_end=D(f"{2030 + n}-12-31"))  # fmt: skip
        CapFactory(category=category, period_start=D(f"{2030 + n}-01-01"), period_end=D(f"{2030 + n}-12-31"))

    with django_assert_max_num_queries(8):
        compliance_api.get(f"/api/connected-persons/{ledger.person.pk}/classification/")
