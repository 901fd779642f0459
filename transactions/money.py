"""Money: one precision, half-up rounding to cents, and the two database functions the arithmetic needs.

Amounts are `Decimal` with two places, built from strings, never floats. The same rounding is
done in Python (for one document, e.g. the order being approved) and in SQL (for aggregates over
many), and the two must agree to the cent; tests/transactions/test_money.py checks that they do.
"""

from decimal import ROUND_HALF_UP, Decimal, localcontext
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Func
from django.utils.translation import gettext as _

MONEY: dict[str, Any] = {"max_digits": 18, "decimal_places": 2}
RATE: dict[str, Any] = {"max_digits": 20, "decimal_places": 10}
CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def positive_money(value: Decimal) -> None:
    """Field validator: every amount is greater than zero (the database checks it too)."""
    if value is not None and value <= 0:
        raise ValidationError(_("Enter an amount greater than zero."), code="not_positive")


# Enough digits that a true half-cent tie is never confused with a neighbour.
_PRECISION = 60


def to_cents(value: Decimal | int | str) -> Decimal:
    """Round to cents, half up (2.345 -> 2.35)."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def mul_div_round(
    value: Decimal | int | str, numerator: Decimal | int | str, denominator: Decimal | int | str
) -> Decimal:
    """value x numerator / denominator, rounded half up to cents, computed exactly."""
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        return to_cents(Decimal(value) * Decimal(numerator) / Decimal(denominator))


def day_share(amount: Decimal, days_before: int, days_through: int, total_days: int) -> Decimal:
    """The part of `amount` spread evenly over `total_days` that falls on days
    (days_before, days_through], counted from the first day.

    Cumulative rounding: the part is round(amount x through / total) - round(amount x before / total).
    Consecutive parts therefore add up to the whole exactly, each is within a cent of its exact share,
    the first is the plain rounding of its share and the last takes the remainder.
    """
    return mul_div_round(amount, days_through, total_days) - mul_div_round(amount, days_before, total_days)


def format_money(amount: Decimal | None, currency: str) -> str:
    if amount is None:
        return "-"
    return f"{currency} {amount:,.2f}"


class CentsField(models.DecimalField):
    """Output field for computed amounts and percentages: values come back rounded to cents.

    PostgreSQL already returns exact numerics; SQLite returns floats, which this turns back into
    the two-place decimals they stand for.
    """

    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", MONEY["max_digits"])
        kwargs.setdefault("decimal_places", MONEY["decimal_places"])
        super().__init__(**kwargs)

    def from_db_value(self, value, expression, connection):
        return None if value is None else to_cents(value)


class MulDivRound(Func):
    """SQL: ROUND(value * numerator / denominator, 2), half up, exact.

    PostgreSQL's numeric is exact. SQLite has no decimal type, so there the same Python function
    as above is registered on every connection (transactions.apps) and called instead.
    """

    function = "cct_mul_div_round"
    arity = 3
    output_field = CentsField()

    def as_postgresql(self, compiler, connection, **extra_context):
        parts, params = [], []
        for argument in self.get_source_expressions():
            sql, argument_params = compiler.compile(argument)
            parts.append(sql)
            params.extend(argument_params)
        value, numerator, denominator = parts
        sql = f"ROUND(CAST({value} AS numeric) * CAST({numerator} AS numeric) / CAST({denominator} AS numeric), 2)"
        return sql, params


class DaysBetween(Func):
    """SQL: the number of days from `start` to `end` (end - start), an integer."""

    arity = 2
    output_field = models.IntegerField()

    def __init__(self, end, start, **extra):
        super().__init__(end, start, **extra)

    def as_sql(self, compiler, connection, **extra_context):
        # PostgreSQL: date - date is an integer number of days.
        return super().as_sql(
            compiler,
            connection,
            template="(CAST(%(expressions)s AS date))",
            arg_joiner=" AS date) - CAST(",
            **extra_context,
        )

    def as_sqlite(self, compiler, connection, **extra_context):
        return super().as_sql(
            compiler,
            connection,
            template="CAST(ROUND(julianday(%(expressions)s)) AS INTEGER)",
            arg_joiner=") - julianday(",
            **extra_context,
        )


def _exact(value: Any) -> Decimal | int | str:
    # SQLite hands REAL values over as floats; repr() gives back the shortest decimal that was stored.
    return repr(value) if isinstance(value, float) else value


def sqlite_mul_div_round(value: Any, numerator: Any, denominator: Any) -> float | None:
    """The SQLite implementation of MulDivRound, in exact decimal arithmetic."""
    if value is None or numerator is None or denominator is None:
        return None
    return float(mul_div_round(_exact(value), _exact(numerator), _exact(denominator)))
