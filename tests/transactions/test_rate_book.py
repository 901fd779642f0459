"""RateBook.of_currencies: every rate into or out of some currencies, converting as RateBook does."""

from decimal import Decimal

from tests.factories import D, RateFactory
from transactions.selectors import RateBook


def test_a_book_of_currencies_converts_with_the_rate_of_the_day_or_the_reciprocal_of_the_inverse(db):
    RateFactory(currency="USD", target_currency="CNY", rate_date=D("2026-03-02"), rate=Decimal("7.1234"))
    RateFactory(currency="CNY", target_currency="HKD", rate_date=D("2026-03-02"), rate=Decimal("1.0870"))
    RateFactory(currency="USD", target_currency="EUR", rate_date=D("2026-03-02"), rate=Decimal("0.9200"))

    book = RateBook.of_currencies({"CNY"})

    assert book.convert(Decimal("1000.55"), "USD", "CNY", D("2026-03-02")) == Decimal("7127.32")
    assert book.convert(Decimal("1087.00"), "HKD", "CNY", D("2026-03-02")) == Decimal("1000.00")
    assert book.convert(Decimal("1.00"), "USD", "CNY", D("2026-03-03")) is None  # never another day's rate
    assert book.convert(Decimal("1.00"), "USD", "EUR", D("2026-03-02")) is None  # not a rate of CNY
    wanted = RateBook([("USD", "CNY", D("2026-03-02"))])
    assert wanted.convert(Decimal("1000.55"), "USD", "CNY", D("2026-03-02")) == Decimal("7127.32")
