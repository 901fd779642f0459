"""Money arithmetic: half-up cents, exact splits, and the database doing exactly what Python does."""

import itertools
from decimal import Decimal

import pytest
from django.db.models import Value
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from transactions.models import ExchangeRate
from transactions.money import DaysBetween, MulDivRound, day_share, mul_div_round, to_cents

amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("999999999999.99"), places=2)


def test_rounding_is_half_up_to_cents():
    assert to_cents(Decimal("2.345")) == Decimal("2.35")
    assert to_cents(Decimal("2.344999")) == Decimal("2.34")
    assert mul_div_round(Decimal("0.01"), 1, 2) == Decimal("0.01")
    assert mul_div_round(Decimal("100.00"), 1, 3) == Decimal("33.33")


def test_a_tie_is_not_confused_with_its_neighbour():
    # 1234567.89 x 1 / 2 = 617283.945 exactly: a true tie rounds up.
    assert mul_div_round(Decimal("1234567.89"), 1, 2) == Decimal("617283.95")
    # 0.05 x 1 / 3 = 0.01666...: not a tie.
    assert mul_div_round(Decimal("0.05"), 1, 3) == Decimal("0.02")


@given(amount=amounts, cuts=st.lists(st.integers(min_value=1, max_value=1095), min_size=1, max_size=6))
def test_day_shares_add_up_to_the_whole_to_the_cent(amount, cuts):
    total_days = max(cuts) + 1
    bounds = [0, *sorted(set(cuts)), total_days]
    parts = [day_share(amount, a, b, total_days) for a, b in itertools.pairwise(bounds)]
    assert sum(parts) == amount
    for (a, b), part in zip(itertools.pairwise(bounds), parts, strict=True):
        exact = amount * (b - a) / total_days
        assert abs(part - exact) < Decimal("0.01")


class DatabaseArithmeticTest(TestCase):
    """The SQL functions give the same cents as Python, on PostgreSQL and on SQLite."""

    @settings(max_examples=60, deadline=None)
    @given(value=amounts, numerator=st.integers(min_value=0, max_value=1100), denominator=st.integers(1, 1100))
    def test_database_rounding_equals_python_rounding(self, value, numerator, denominator):
        row = (
            ExchangeRate.objects.annotate(result=MulDivRound(Value(value), Value(numerator), Value(denominator)))
            .values_list("result", flat=True)
            .first()
        )
        assert row == mul_div_round(value, numerator, denominator)

    @classmethod
    def setUpTestData(cls):
        ExchangeRate.objects.create(currency="USD", target_currency="CNY", rate_date="2026-01-01", rate="7.1")

    def test_days_between_counts_calendar_days(self):
        days = (
            ExchangeRate.objects.annotate(days=DaysBetween(Value("2026-03-01"), Value("2024-02-28")))
            .values_list("days", flat=True)
            .get()
        )
        assert days == 732  # 2024 is a leap year


@pytest.mark.parametrize(
    ("amount", "expected"),
    [(Decimal("100.00"), [Decimal("33.33"), Decimal("33.34"), Decimal("33.33")])],
)
def test_three_equal_thirds_take_the_remainder_in_the_middle_by_cumulative_rounding(amount, expected):
    parts = [day_share(amount, 0, 1, 3), day_share(amount, 1, 2, 3), day_share(amount, 2, 3, 3)]
    assert parts == expected
    assert sum(parts) == amount
