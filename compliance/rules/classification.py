"""Percentage ratios (Rule 14.07) and the classification of continuing connected transactions (Rule 14A.76).

The rules are those of the API contract ("Classification"):
- numerator: the largest annual cap of a category (Rule 14A.78); for a connected person, the largest sum
  of its categories' caps whose periods start in the same financial year of the issuer (aggregation,
  Rules 14A.81 to 14A.83), purchases aggregated with purchases and sales with sales: the person's tier
  is the stricter of the two directions', and a purchase cap is never added to a sales cap;
- denominators: the latest financial year ended on or before the day of the classification: total assets
  (assets ratio), revenue (revenue ratio), market capitalisation (consideration ratio) and profit before
  tax (profits ratio: shown, never tested, and not applicable to a loss, which gives an anomalous result);
- an amount in another currency is converted at the latest rate on or before that day; the HK$3m and
  HK$10m tests convert the numerator to HKD the same way, and without a rate they are not applied;
- tiers compare exact values; the four-place percentages are for display only.

A missing input never gives a silent answer: the tier is computed from the inputs present (the most
demanding when no ratio can be computed), the result is provisional and names what is missing.

Financial years are written here too (financial_year_save): the market capitalisation follows from the
average closing price and the shares in issue when both are entered.
"""

import datetime
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, localcontext
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Case, F, IntegerField, Q, Sum, Value, When
from django.db.models.expressions import Expression
from django.db.models.functions import ExtractYear
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from compliance.common.dates import day_in_words as _day
from compliance.models import AnnualCap, FinancialYear, Tier
from transactions.models import ConnectedPerson, TransactionCategory
from transactions.money import CentsField, format_money, to_cents
from transactions.selectors import RateBook
from transactions.services import assign_fields

if TYPE_CHECKING:
    from transactions.users import User

ASSETS, REVENUE, CONSIDERATION, PROFITS = "assets", "revenue", "consideration", "profits"
RATIOS = (ASSETS, REVENUE, CONSIDERATION, PROFITS)
TESTED = (ASSETS, REVENUE, CONSIDERATION)  # the profits ratio is shown, never tested

DE_MINIMIS = Decimal("0.1")
FIVE_PERCENT = Decimal("5")
TWENTY_FIVE_PERCENT = Decimal("25")
HKD_3M = Decimal("3000000.00")
HKD_10M = Decimal("10000000.00")
FOUR_PLACES = Decimal("0.0001")

TIER_ORDER = (Tier.FULLY_EXEMPT, Tier.ANNOUNCEMENT_AND_ANNUAL_REVIEW, Tier.SHAREHOLDERS_APPROVAL)

_ANNOUNCE = gettext_lazy("Announce the transactions as soon as practicable after their terms are agreed (Rule 14A.35).")
_ANNUAL_REPORT = gettext_lazy("Report the transactions and their annual caps in the annual report (Rule 14A.49).")
_INED_REVIEW = gettext_lazy(
    "Have the independent non-executive directors review the transactions every year and confirm them in the "
    "annual report (Rule 14A.55)."
)
_AUDITORS = gettext_lazy("Have the auditors report on the transactions to the board every year (Rule 14A.56).")
OBLIGATIONS: dict[str, list[str]] = {
    Tier.FULLY_EXEMPT: [
        gettext_lazy(
            "Fully exempt from the reporting, announcement, annual review and independent shareholders' approval "
            "requirements (Rule 14A.76(1))."
        ),
        gettext_lazy("Keep every transaction within the annual caps; a revised cap or a renewal is classified again."),
    ],
    Tier.ANNOUNCEMENT_AND_ANNUAL_REVIEW: [
        _ANNOUNCE,
        _ANNUAL_REPORT,
        _INED_REVIEW,
        _AUDITORS,
        gettext_lazy(
            "Exempt from the circular, independent financial advice and independent shareholders' approval "
            "requirements (Rule 14A.76(2))."
        ),
    ],
    Tier.SHAREHOLDERS_APPROVAL: [
        _ANNOUNCE,
        gettext_lazy(
            "Send the shareholders a circular with the advice of the independent board committee and of an "
            "independent financial adviser."
        ),
        gettext_lazy(
            "Obtain the independent shareholders' approval at a general meeting before the transactions proceed; "
            "the connected person and its associates abstain from voting (Rule 14A.36)."
        ),
        _ANNUAL_REPORT,
        _INED_REVIEW,
        _AUDITORS,
    ],
}

# Names of missing inputs, as the API reports them in `missing`.
MISSING_FINANCIAL_YEAR = "financial_year"
MISSING_MARKET_CAP = "market_cap"
MISSING_ANNUAL_CAP = "annual_cap"


def missing_rate(currency: str, target_currency: str) -> str:
    return f"exchange_rate {currency}/{target_currency}"


_MISSING_WORDS = {
    MISSING_FINANCIAL_YEAR: gettext_lazy("the financial year's figures (assets, revenue, profits)"),
    MISSING_MARKET_CAP: gettext_lazy("the market capitalisation"),
    MISSING_ANNUAL_CAP: gettext_lazy("an annual cap"),
}


def describe_missing(name: str) -> str:
    """A missing input (a machine name, as the API gives it) in words a person reads."""
    if name.startswith("exchange_rate "):
        return _("the %(pair)s exchange rate") % {"pair": name.removeprefix("exchange_rate ")}
    return str(_MISSING_WORDS.get(name, name.replace("_", " ")))


def describe_all_missing(names) -> str:
    return "; ".join(describe_missing(name) for name in names)


# --- The rules, on numbers --------------------------------------------------------------------------


def percentage(part: Decimal, whole: Decimal) -> Decimal:
    """part / whole x 100, exact enough that no threshold is ever decided by rounding."""
    with localcontext() as ctx:
        ctx.prec = 60
        return Decimal(part) * 100 / Decimal(whole)


def percent_text(value: Decimal | None) -> str | None:
    """A percentage as the API shows it: four places, half up ("1.0533")."""
    return None if value is None else f"{value.quantize(FOUR_PLACES, rounding=ROUND_HALF_UP):.4f}"


def tier_for(tested: list[Decimal], consideration_hkd: Decimal | None) -> Tier:
    """Rule 14A.76 on the tested ratios present and the consideration in HKD (None: no HKD rate)."""
    if not tested:
        return Tier.SHAREHOLDERS_APPROVAL  # nothing to go on: never a lighter tier than the rules allow
    highest = max(tested)
    known = consideration_hkd is not None
    if highest < DE_MINIMIS or (highest < FIVE_PERCENT and known and consideration_hkd < HKD_3M):
        return Tier.FULLY_EXEMPT
    if highest < FIVE_PERCENT or (highest < TWENTY_FIVE_PERCENT and known and consideration_hkd < HKD_10M):
        return Tier.ANNOUNCEMENT_AND_ANNUAL_REVIEW
    return Tier.SHAREHOLDERS_APPROVAL


@dataclass
class Classification:
    on: datetime.date
    subject: str
    numerator: Decimal | None  # in `currency`
    currency: str
    basis: str  # what the numerator is, in words
    financial_year: FinancialYear | None
    ratios: dict[str, Decimal | None]  # exact percentages; None where not computed or not applicable
    consideration_hkd: Decimal | None
    tier: Tier
    missing: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # why a ratio or an exemption is not there, in words

    @property
    def provisional(self) -> bool:
        return bool(self.missing)

    @property
    def highest_ratio(self) -> Decimal | None:
        tested = [self.ratios[name] for name in TESTED if self.ratios[name] is not None]
        return max(tested) if tested else None

    @property
    def obligations(self) -> list[str]:
        return [str(sentence) for sentence in OBLIGATIONS[self.tier]]

    @property
    def ratio_texts(self) -> dict[str, str | None]:
        return {name: percent_text(self.ratios[name]) for name in RATIOS}

    @property
    def highest_ratio_text(self) -> str | None:
        return percent_text(self.highest_ratio)

    @property
    def tier_label(self) -> str:
        return Tier(self.tier).label


def _note_missing(missing: list[str], notes: list[str], name: str, sentence: str) -> None:
    """Record a missing input once, with the sentence that says what it stops."""
    if name not in missing:
        missing.append(name)
        notes.append(sentence)


def _year_ratios(
    ratios: dict[str, Decimal | None],
    *,
    numerator: Decimal,
    currency: str,
    year: FinancialYear,
    rates: RateBook,
    missing: list[str],
    notes: list[str],
) -> None:
    """The assets, revenue and profits ratios against the financial year's figures, in its currency."""
    on = rates.on
    in_year_currency = rates.convert_latest(numerator, currency, year.currency)
    if in_year_currency is None:
        _note_missing(
            missing,
            notes,
            missing_rate(currency, year.currency),
            _(
                "No %(pair)s exchange rate is recorded on or before %(day)s: the assets, revenue and profits "
                "ratios are not computed."
            )
            % {"pair": f"{currency}/{year.currency}", "day": _day(on)},
        )
        return
    ratios[ASSETS] = percentage(in_year_currency, year.total_assets)
    ratios[REVENUE] = percentage(in_year_currency, year.revenue)
    if year.is_loss:
        notes.append(
            _(
                "The profits ratio is not applied: the financial year ended %(day)s shows a loss before "
                "tax, which gives an anomalous result."
            )
            % {"day": _day(year.year_end)}
        )
    else:
        ratios[PROFITS] = percentage(in_year_currency, year.profit_before_tax)


def _consideration_ratio(
    ratios: dict[str, Decimal | None],
    *,
    numerator: Decimal,
    currency: str,
    year: FinancialYear,
    rates: RateBook,
    missing: list[str],
    notes: list[str],
) -> None:
    """The consideration ratio against the market capitalisation, in the market capitalisation's currency."""
    on = rates.on
    if year.market_cap is None:
        _note_missing(
            missing,
            notes,
            MISSING_MARKET_CAP,
            _(
                "The market capitalisation is not recorded for the financial year ended %(day)s: the "
                "consideration ratio is not computed."
            )
            % {"day": _day(year.year_end)},
        )
        return
    in_market_currency = rates.convert_latest(numerator, currency, year.market_cap_currency)
    if in_market_currency is None:
        _note_missing(
            missing,
            notes,
            missing_rate(currency, year.market_cap_currency),
            _("No %(pair)s exchange rate is recorded on or before %(day)s: the consideration ratio is not computed.")
            % {"pair": f"{currency}/{year.market_cap_currency}", "day": _day(on)},
        )
    else:
        ratios[CONSIDERATION] = percentage(in_market_currency, year.market_cap)


def _consideration_in_hkd(
    numerator: Decimal, currency: str, rates: RateBook, missing: list[str], notes: list[str]
) -> Decimal | None:
    """The amount in Hong Kong dollars, which the HK$3 million and HK$10 million exemptions are measured in."""
    consideration_hkd = rates.convert_latest(numerator, currency, "HKD")
    if consideration_hkd is None:
        _note_missing(
            missing,
            notes,
            missing_rate(currency, "HKD"),
            _(
                "No %(pair)s exchange rate is recorded on or before %(day)s: the HK$3 million and HK$10 million "
                "exemptions are not applied."
            )
            % {"pair": f"{currency}/HKD", "day": _day(rates.on)},
        )
    return consideration_hkd


def _classify(
    *,
    subject: str,
    numerator: Decimal | None,
    currency: str,
    basis: str,
    year: FinancialYear | None,
    rates: RateBook,
    missing: list[str],
    notes: list[str],
) -> Classification:
    on = rates.on
    ratios: dict[str, Decimal | None] = dict.fromkeys(RATIOS)
    if numerator is None:
        _note_missing(
            missing, notes, MISSING_ANNUAL_CAP, _("No annual cap is recorded, so there is no amount to classify.")
        )
    if year is None:
        _note_missing(
            missing,
            notes,
            MISSING_FINANCIAL_YEAR,
            _("No financial year ended on or before %(day)s is recorded: the ratios cannot be computed.")
            % {"day": _day(on)},
        )
    if numerator is not None and year is not None:
        inputs = dict(numerator=numerator, currency=currency, year=year, rates=rates, missing=missing, notes=notes)
        _year_ratios(ratios, **inputs)
        _consideration_ratio(ratios, **inputs)
    consideration_hkd = None
    if numerator is not None:
        consideration_hkd = _consideration_in_hkd(numerator, currency, rates, missing, notes)
    tested = [ratios[name] for name in TESTED if ratios[name] is not None]
    return Classification(
        on=on,
        subject=subject,
        numerator=numerator,
        currency=currency,
        basis=basis,
        financial_year=year,
        ratios=ratios,
        consideration_hkd=consideration_hkd,
        tier=tier_for(tested, consideration_hkd),
        missing=missing,
        notes=notes,
    )


# --- Reads -------------------------------------------------------------------------------------------


def financial_year_latest(on: datetime.date) -> FinancialYear | None:
    """The latest financial year ended on or before `on`: its figures are the denominators."""
    return FinancialYear.objects.filter(year_end__lte=on).order_by("-year_end").first()


def _cap_value(cap_amounts: dict[int, Decimal] | None) -> Expression:
    """A cap's amount, or the amount proposed for it (a revision being classified)."""
    if not cap_amounts:
        return F("amount")
    whens = [When(pk=pk, then=Value(amount)) for pk, amount in cap_amounts.items()]
    return Case(*whens, default=F("amount"), output_field=CentsField())


def category_classification(
    category: TransactionCategory,
    *,
    on: datetime.date | None = None,
    cap_amounts: dict[int, Decimal] | None = None,
    only: Q | None = None,
) -> Classification:
    """The category's own classification: its largest annual cap (of those `only` selects, e.g. a
    renewal's) over the latest financial year."""
    on = on or timezone.localdate()
    largest = (
        AnnualCap.objects.filter(category=category)
        .filter(only or Q())
        .annotate(value=_cap_value(cap_amounts))
        .order_by("-value", "period_start")
        .values_list("value", "period_start", "period_end")
        .first()
    )
    numerator, basis = None, _("No annual cap is recorded.")
    if largest is not None:
        numerator, start, end = largest
        basis = _("The largest annual cap of “%(category)s”: %(amount)s for %(start)s to %(end)s.") % {
            "category": category.name, "amount": format_money(numerator, category.currency),
            "start": _day(start), "end": _day(end),
        }  # fmt: skip
    return _classify(
        subject=str(category.name),
        numerator=numerator,
        currency=category.currency,
        basis=basis,
        year=financial_year_latest(on),
        rates=RateBook.latest_on(on),
        missing=[],
        notes=[],
    )


def _financial_year_end_year(year_end: datetime.date) -> Expression:
    """The calendar year in which the issuer's financial year containing a cap's period start ends."""
    month, day = year_end.month, year_end.day
    later = Q(period_start__month__gt=month) | Q(period_start__month=month, period_start__day__gt=day)
    return ExtractYear("period_start") + Case(When(later, then=Value(1)), default=Value(0), output_field=IntegerField())


def _year_end_in(year: int, template: datetime.date) -> datetime.date:
    try:
        return template.replace(year=year)
    except ValueError:  # a year ending on 29 February
        return datetime.date(year, 2, 28)


def connected_person_classification(
    person: ConnectedPerson,
    *,
    on: datetime.date | None = None,
    cap_amounts: dict[int, Decimal] | None = None,
    years_of: Q | None = None,
    direction: str | None = None,
) -> Classification:
    """The aggregated classification: the largest sum of the person's categories' caps of one direction whose
    periods start in the same financial year of the issuer (only the years in which a cap `years_of` selects
    starts, e.g. a renewal's, when given). Purchases are aggregated with purchases and sales with sales, never
    together; without `direction` the result is the stricter of the two directions'. The sums are made by the
    database in one query, per direction, financial year and currency; the few totals are converted here."""
    on = on or timezone.localdate()
    year = financial_year_latest(on)
    year_end = year.year_end if year else datetime.date(on.year, 12, 31)
    caps = AnnualCap.objects.filter(category__agreement__connected_person=person)
    if direction is not None:
        caps = caps.filter(category__direction=direction)
    totals = list(
        caps.annotate(value=_cap_value(cap_amounts), financial_year=_financial_year_end_year(year_end))
        .values("category__direction", "financial_year", "category__currency")
        .annotate(total=Sum("value", output_field=CentsField()))
        .order_by("category__direction", "financial_year", "category__currency")
        .values_list("category__direction", "financial_year", "category__currency", "total")
    )
    if years_of is not None:
        years = set(
            AnnualCap.objects.filter(years_of)
            .annotate(financial_year=_financial_year_end_year(year_end))
            .values_list("financial_year", flat=True)
        )
        totals = [row for row in totals if row[1] in years]
    directions = sorted({row[0] for row in totals}) or [direction or TransactionCategory.Direction.PURCHASE]
    rates = RateBook.latest_on(on)  # shared: each rate is read once for both directions
    results = [
        _direction_classification(
            person, [row[1:] for row in totals if row[0] == d], direction=d, on=on, year=year, year_end=year_end,
            rates=rates,
        )
        for d in directions
    ]  # fmt: skip
    strictest = results[0]
    for result in results[1:]:
        strictest = _stricter(result, strictest)
    return strictest


def _direction_classification(
    person: ConnectedPerson,
    totals: list[tuple[int, str, Decimal]],
    *,
    direction: str,
    on: datetime.date,
    year: FinancialYear | None,
    year_end: datetime.date,
    rates: RateBook,
) -> Classification:
    """One direction's aggregated classification from its (financial year, currency, total) sums."""
    missing: list[str] = []
    notes: list[str] = []
    currency = year.currency if year else (totals[0][1] if totals else "")
    by_year: dict[int, Decimal] = {}
    for financial_year, cap_currency, total in totals:
        converted = rates.convert_latest(total, cap_currency, currency)
        if converted is None:
            name = missing_rate(cap_currency, currency)
            if name not in missing:
                missing.append(name)
                notes.append(
                    _(
                        "No %(pair)s exchange rate is recorded on or before %(day)s: the %(currency)s caps are left "
                        "out of the aggregation."
                    )
                    % {"pair": f"{cap_currency}/{currency}", "day": _day(on), "currency": cap_currency}
                )
            continue
        by_year[financial_year] = by_year.get(financial_year, Decimal(0)) + converted
    numerator, basis = None, _("No annual cap is recorded.")
    if by_year:
        best = max(sorted(by_year), key=lambda y: by_year[y])
        numerator = by_year[best]
        sentence = (
            _(
                "The largest sum of %(person)s's caps whose periods start in one financial year: %(amount)s in the "
                "year ending %(day)s."
            )
            if direction == TransactionCategory.Direction.PURCHASE
            else _(
                "The largest sum of %(person)s's sales caps whose periods start in one financial year: %(amount)s "
                "in the year ending %(day)s."
            )
        )
        basis = sentence % {
            "person": person.name, "amount": format_money(numerator, currency),
            "day": _day(_year_end_in(best, year_end)),
        }  # fmt: skip
    return _classify(
        subject=str(person.name),
        numerator=numerator,
        currency=currency,
        basis=basis,
        year=year,
        rates=rates,
        missing=missing,
        notes=notes,
    )


def cap_revision_classification(
    cap: AnnualCap, new_amount: Decimal, *, on: datetime.date | None = None
) -> Classification:
    """The classification a revised cap brings: the stricter of its category's and, aggregated, its
    connected person's, with the revised amount in place of the cap's."""
    amounts = {cap.pk: new_amount}
    own = category_classification(cap.category, on=on, cap_amounts=amounts)
    aggregated = connected_person_classification(
        cap.category.agreement.connected_person, on=on, cap_amounts=amounts, direction=cap.category.direction
    )
    return _stricter(own, aggregated)


def terms_classification(
    category: TransactionCategory, *, start: datetime.date, end: datetime.date, on: datetime.date | None = None
) -> Classification:
    """The classification of the caps of a category's term from `start` to `end` (a renewal's, or those still
    running when a category's terms change): the stricter of those caps alone and, aggregated, the connected person's
    caps of the financial years in which they start."""
    overlapping = Q(period_end__gte=start, period_start__lte=end)
    own = category_classification(category, on=on, only=overlapping)
    own_caps = overlapping & Q(category=category)
    aggregated = connected_person_classification(
        category.agreement.connected_person, on=on, years_of=own_caps, direction=category.direction
    )
    return _stricter(own, aggregated)


def _stricter(own: Classification, aggregated: Classification) -> Classification:
    if TIER_ORDER.index(own.tier) > TIER_ORDER.index(aggregated.tier):
        return own
    for name in own.missing:
        if name not in aggregated.missing:
            aggregated.missing.append(name)
    return aggregated


# --- Financial years ----------------------------------------------------------------------------

FINANCIAL_YEAR_FIELDS = (
    "year_end", "currency", "revenue", "total_assets", "profit_before_tax", "share_price", "share_price_currency",
    "share_price_date", "shares_in_issue", "shares_in_issue_on", "market_cap", "market_cap_currency", "source",
)  # fmt: skip
SHARE_FIELDS = ("share_price", "share_price_currency", "share_price_date", "shares_in_issue", "shares_in_issue_on")


def financial_year_check(year: FinancialYear) -> None:
    """The share price and the shares in issue come together, each with its date; a market capitalisation
    entered directly says its currency (the year's by default)."""
    given = [name for name in SHARE_FIELDS if getattr(year, name) not in (None, "")]
    if given and len(given) < len(SHARE_FIELDS):
        raise ValidationError(
            {
                name: "Enter the average closing price and the shares in issue together, each with its date and the "
                "price's currency."
                for name in SHARE_FIELDS
                if name not in given
            }
        )
    if year.market_cap is None and year.market_cap_currency and not given:
        raise ValidationError({"market_cap": _("Enter the market capitalisation, or leave its currency empty.")})


def _fill_market_cap(year: FinancialYear) -> None:
    if year.share_price is not None and year.shares_in_issue is not None:
        year.market_cap = to_cents(year.share_price * year.shares_in_issue)
        year.market_cap_currency = year.share_price_currency
    elif year.market_cap is not None and not year.market_cap_currency:
        year.market_cap_currency = year.currency
    elif year.market_cap is None:
        year.market_cap_currency = ""


@transaction.atomic
def financial_year_save(*, year: FinancialYear, user: "User") -> FinancialYear:
    """Save the issuer's figures for a year; the market capitalisation follows from price and shares."""
    financial_year_check(year)
    _fill_market_cap(year)
    year.full_clean()
    year._history_user = user
    year.save()
    return year


def financial_year_create(*, user: "User", **fields: Any) -> FinancialYear:
    year = FinancialYear()
    assign_fields(year, fields, FINANCIAL_YEAR_FIELDS)
    return financial_year_save(year=year, user=user)


def financial_year_update(*, year: FinancialYear, user: "User", **fields: Any) -> FinancialYear:
    assign_fields(year, fields, FINANCIAL_YEAR_FIELDS)
    return financial_year_save(year=year, user=user)
