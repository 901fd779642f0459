"""Demo data: the 2025 Xiaomi cooperation framework agreement exactly as announced on 29 July 2025
(both categories, their terms and all six annual caps), the issuer's audited figures for 2024 from its
annual results (the denominators of the percentage ratios), and a small plausible history of orders,
quotes and invoices entered and approved through the same services as real work.

The agreement, terms, caps and 2024 figures are the published ones. The orders, suppliers other than
Xiaomi, exchange rates and invoices are invented for demonstration and marked "(demo)". No market
capitalisation is published in those documents, so none is loaded: the classification says so.
Loading is idempotent: what exists (by name, period or order number) is left as it is.

A second agreement shows the other direction: an ILLUSTRATIVE cloud services sales framework agreement
under which the group sells to Xiaomi Group, with its caps, sales orders, the price references of
independent customers and sales invoices. It is NOT from the filings: every figure of it is invented,
and its title, category and customers say so.
"""

import datetime
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.db import transaction

from compliance.caps.approval import purchase_order_approve
from compliance.caps.documents import invoice_record
from compliance.caps.setup import annual_cap_create
from compliance.models import AlertThreshold, DistributionList, FinancialYear
from compliance.rules.classification import financial_year_create
from transactions.documents import simple_pdf
from transactions.models import (
    ConnectedPerson,
    Counterparty,
    ExchangeRate,
    FrameworkAgreement,
    PurchaseOrder,
    TransactionCategory,
)
from transactions.services import purchase_order_create, quote_create

D = datetime.date.fromisoformat

XIAOMI = {
    "name": "Xiaomi Corporation and its group (Xiaomi Group)",
    "name_zh": "小米集團",
    "basis": "Substantial shareholder: holds directly and indirectly about 11.12% of the issuer's shares "
    "(announcement of 29 July 2025).",
    "connected_from": D("2022-12-30"),
}
AGREEMENT = {
    "title": "2025 Xiaomi Cooperation Framework Agreement",
    "title_zh": "二零二五年小米合作框架協議",
    "signed_on": D("2025-07-29"),
    "board_approved_on": D("2025-07-29"),
    # As announced: Lei Jun and Zhang Duo abstained as interested directors; the minutes' reference is invented.
    "abstaining_directors": "Lei Jun; Zhang Duo",
    "board_minutes_ref": "Minutes of the board meeting of 29 July 2025 (demo reference)",
    "announced_on": D("2025-07-29"),
    "announcement_ref": "Announcement of 29 July 2025: continuing connected transactions, 2025 Xiaomi Cooperation "
    "Framework Agreement",
}
# Caps in RMB millions, as announced.
CATEGORIES = [
    {
        "key": "idc",
        "name": "IDC services",
        "name_zh": "IDC相關服務",
        "term_start": D("2025-07-29"),
        "term_end": D("2028-07-28"),
        "caps": [
            ("2025-07-29", "2025-12-31", "41.0"),
            ("2026-01-01", "2026-12-31", "82.0"),
            ("2027-01-01", "2027-12-31", "82.0"),
            ("2028-01-01", "2028-07-28", "41.0"),
        ],
    },
    {
        "key": "hardware",
        "name": "Network hardware",
        "name_zh": "網絡硬件設備",
        "term_start": D("2025-07-29"),
        "term_end": D("2026-07-28"),
        "caps": [
            ("2025-07-29", "2025-12-31", "33.5"),
            ("2026-01-01", "2026-07-28", "6.7"),
        ],
    },
]
COUNTERPARTIES = {
    "xiaomi": ("Xiaomi Corporation", "小米集團", True),
    "xiaomi_sub": ("Xiaomi Group IDC subsidiary (demo)", "小米集團IDC附屬公司（示範）", True),
    "huabei": ("Huabei Data Centre Services Co., Ltd. (demo)", "華北數據中心服務有限公司（示範）", False),
    "pearl": ("Pearl River Hosting Co., Ltd. (demo)", "珠江託管有限公司（示範）", False),
    "eastern": ("Eastern Network Equipment Trading Co., Ltd. (demo)", "東方網絡設備貿易有限公司（示範）", False),
    "northstar": ("Northstar Switches Limited (demo)", "北星交換機有限公司（示範）", False),
}
# (currency, target, date, rate): invented demo rates on the days the demo documents need.
RATES = [
    ("USD", "CNY", "2026-01-20", "7.0412"),
    ("USD", "CNY", "2026-02-26", "7.0288"),
    ("USD", "CNY", "2026-03-20", "7.0150"),
    ("USD", "CNY", "2026-04-15", "7.0236"),
    ("HKD", "CNY", "2026-01-28", "0.9038"),
    ("HKD", "CNY", "2026-02-12", "0.9027"),
    ("HKD", "CNY", "2026-03-05", "0.9019"),
    ("HKD", "CNY", "2026-04-10", "0.9022"),
]
# number, category, counterparty, order date, amount, currency, service period or None,
# quotes [(supplier, date, amount, currency)], approve?, invoices [(number, date, amount, currency)]
ORDERS = [
    ("IDC-2025-001", "idc", "xiaomi_sub", "2025-08-15", "24000000.00", "CNY", ("2025-09-01", "2026-08-31"),
     [("huabei", "2025-07-30", "25200000.00", "CNY"), ("pearl", "2025-08-05", "24960000.00", "CNY")], True,
     [("FP-IDC-250001", "2025-10-31", "4000000.00", "CNY"), ("FP-IDC-250002", "2025-12-31", "4000000.00", "CNY"),
      ("FP-IDC-260001", "2026-03-31", "6000000.00", "CNY"), ("FP-IDC-260002", "2026-06-30", "6000000.00", "CNY"),
      ("FP-IDC-260003", "2026-08-31", "4000000.00", "CNY")]),
    ("IDC-2025-002", "idc", "xiaomi", "2025-11-10", "3600000.00", "CNY", None,
     [("huabei", "2025-10-20", "3780000.00", "CNY"), ("pearl", "2025-10-28", "3720000.00", "CNY")], True,
     [("FP-IDC-250003", "2025-11-30", "3600000.00", "CNY")]),
    ("IDC-2026-001", "idc", "xiaomi_sub", "2026-01-05", "36000000.00", "CNY", ("2026-01-01", "2026-12-31"),
     [("huabei", "2025-12-10", "37440000.00", "CNY"), ("pearl", "2025-12-18", "36900000.00", "CNY")], True,
     [("FP-IDC-260004", "2026-03-31", "9000000.00", "CNY"), ("FP-IDC-260005", "2026-06-30", "9000000.00", "CNY"),
      ("FP-IDC-260006", "2026-09-30", "9000000.00", "CNY")]),
    ("IDC-2026-002", "idc", "xiaomi", "2026-03-20", "1250000.00", "USD", None,
     [("huabei", "2026-02-26", "1310000.00", "USD"), ("northstar", "2026-01-20", "1295000.00", "USD")], True,
     [("FP-IDC-260007", "2026-04-15", "1250000.00", "USD")]),
    # A draft waiting for approval: approving it takes the 2026 IDC cap past 80%.
    ("IDC-2026-003", "idc", "xiaomi_sub", "2026-11-18", "6000000.00", "CNY", None,
     [("huabei", "2026-11-02", "6300000.00", "CNY"), ("pearl", "2026-11-09", "6450000.00", "CNY")], False, []),
    ("HW-2025-001", "hardware", "xiaomi", "2025-09-10", "12800000.00", "CNY", None,
     [("eastern", "2025-08-20", "13400000.00", "CNY"), ("northstar", "2025-08-28", "13150000.00", "CNY")], True,
     [("FP-HW-250001", "2025-10-15", "12800000.00", "CNY")]),
    ("HW-2025-002", "hardware", "xiaomi", "2025-12-01", "14500000.00", "CNY", None,
     [("eastern", "2025-11-12", "15100000.00", "CNY"), ("northstar", "2025-11-20", "14950000.00", "CNY")], True,
     [("FP-HW-250002", "2025-12-20", "14500000.00", "CNY")]),
    ("HW-2026-001", "hardware", "xiaomi", "2026-03-05", "3000000.00", "HKD", None,
     [("eastern", "2026-02-12", "3150000.00", "HKD"), ("northstar", "2026-01-28", "3120000.00", "HKD")], True,
     [("FP-HW-260001", "2026-04-10", "3000000.00", "HKD")]),
    ("HW-2026-002", "hardware", "xiaomi", "2026-06-18", "2900000.00", "CNY", None,
     [("eastern", "2026-05-25", "3050000.00", "CNY"), ("northstar", "2026-06-02", "3010000.00", "CNY")], True,
     []),
]  # fmt: skip
# The issuer's figures for the year ended 31 December 2024 (annual results; RMB thousands in the filing,
# stored as full amounts): revenue 7,785,180; total assets 17,592,654; loss before income taxes (1,980,566).
THOUSAND = 1000

# --- The ILLUSTRATIVE sales agreement (not from the filings; every figure invented) --------------------
SALES_AGREEMENT = {
    "title": "ILLUSTRATIVE cloud services sales framework agreement (not from the filings)",
    "title_zh": "示例：雲服務銷售框架協議（非取自公告）",
    "signed_on": D("2025-08-28"),
    "board_approved_on": D("2025-08-28"),
    "abstaining_directors": "Lei Jun; Zhang Duo (illustrative)",
    "board_minutes_ref": "Illustrative only: no such board minutes",
    "announced_on": D("2025-08-28"),
    "announcement_ref": "Illustrative only: not an announcement of the issuer",
}
SALES_CATEGORY = {
    "name": "Cloud services sold to Xiaomi Group (illustrative)",
    "name_zh": "向小米集團銷售雲服務（示例）",
    "term_start": D("2025-08-28"),
    "term_end": D("2028-08-27"),
    "currency": "CNY",
    "direction": TransactionCategory.Direction.SALE,
    "pricing_basis": "Illustrative: not lower than the prices charged to independent customers for comparable "
    "cloud services (at least two references within 90 days).",
    "scope": "Illustrative: public cloud computing, storage and CDN services provided by the group.",
}
# Caps in RMB millions (illustrative).
SALES_CAPS = [
    ("2025-08-28", "2025-12-31", "20.0"),
    ("2026-01-01", "2026-12-31", "50.0"),
    ("2027-01-01", "2027-12-31", "50.0"),
    ("2028-01-01", "2028-08-27", "35.0"),
]
CUSTOMERS = {
    "yangtze": ("Yangtze Smart Retail Co., Ltd. (illustrative customer)", "長江智慧零售有限公司（示例客戶）"),
    "lingnan": ("Lingnan Online Education Co., Ltd. (illustrative customer)", "嶺南在線教育有限公司（示例客戶）"),
    "bohai": ("Bohai Logistics Cloud Co., Ltd. (illustrative customer)", "渤海物流雲有限公司（示例客戶）"),
}
# number, connected customer, order date, amount, currency, service period or None, price references
# [(independent customer, date, amount, currency)], approve?, invoices [(number, date, amount, currency)]
SALES_ORDERS = [
    ("SO-ILL-2025-001", "xiaomi_sub", "2025-08-30", "18000000.00", "CNY", ("2025-09-01", "2026-08-31"),
     [("yangtze", "2025-08-10", "17500000.00", "CNY"), ("lingnan", "2025-08-20", "17800000.00", "CNY")], True,
     [("SI-ILL-250001", "2025-12-31", "6000000.00", "CNY"), ("SI-ILL-260001", "2026-03-31", "4500000.00", "CNY")]),
    # Priced exactly at the highest reference: not lower, so it passes.
    ("SO-ILL-2026-001", "xiaomi", "2026-02-10", "6000000.00", "CNY", None,
     [("bohai", "2026-01-15", "5900000.00", "CNY"), ("yangtze", "2026-01-25", "6000000.00", "CNY")], True,
     [("SI-ILL-260002", "2026-02-28", "6000000.00", "CNY")]),
    # In USD; the CNY reference is compared at the order date's USD/CNY rate (7.0150): USD 798,289.38.
    ("SO-ILL-2026-002", "xiaomi", "2026-03-20", "800000.00", "USD", None,
     [("lingnan", "2026-02-26", "790000.00", "USD"), ("bohai", "2026-03-05", "5600000.00", "CNY")], True,
     [("SI-ILL-260003", "2026-04-15", "800000.00", "USD")]),
    # A draft priced CNY 100,000.00 below Yangtze's reference: approval would be refused (pricing_rule).
    ("SO-ILL-2026-003", "xiaomi_sub", "2026-11-20", "3000000.00", "CNY", None,
     [("yangtze", "2026-11-02", "3100000.00", "CNY"), ("lingnan", "2026-11-10", "2950000.00", "CNY")], False, []),
]  # fmt: skip
FINANCIAL_YEARS = [
    {
        "year_end": D("2024-12-31"),
        "currency": "CNY",
        "revenue": Decimal("7785180") * THOUSAND,
        "total_assets": Decimal("17592654") * THOUSAND,
        "profit_before_tax": Decimal("-1980566") * THOUSAND,
        "source": "Annual results for the year ended 31 December 2024 (RMB thousands in the filing)",
    },
]
THRESHOLDS = [("80.00", "Report to senior management immediately (about 80%)."), ("90.00", ""), ("100.00", "")]
# Named distribution lists: (name, members, alert thresholds, what else they receive). Invented addresses.
DISTRIBUTION_LISTS = [
    ("Head of finance", ["head.of.finance@example.com"], ["80.00", "90.00", "100.00"], {"monthly_report": True}),
    ("Senior management", ["ceo@example.com", "cfo@example.com"], ["80.00", "90.00", "100.00"],
     {"monthly_report": True, "headroom_warnings": True}),
    ("Company secretary", ["company.secretary@example.com"], ["100.00"], {"breaches": True}),
    ("Finance department", ["finance.cct@example.com"], [], {"monthly_report": True}),
    ("Compliance", ["compliance@example.com"], [],
     {"quote_rule_report": True, "term_warnings": True, "reconciliation": True, "breaches": True}),
]  # fmt: skip


def _demo_user(username: str, role: str):
    user, created = get_user_model().objects.get_or_create(
        username=username, defaults={"first_name": "Demo", "last_name": role.title(), "is_active": True}
    )
    if created:
        user.set_unusable_password()
        user.save()
        user.groups.add(Group.objects.get(name=role))
    return user


@transaction.atomic
def load_demo() -> dict[str, int]:
    """Load the demo; returns how many rows of each kind were created (all zero the second time)."""
    created = {"agreements": 0, "caps": 0, "orders": 0, "financial years": 0}
    finance = _demo_user("demo.finance", "finance")
    compliance = _demo_user("demo.compliance", "compliance")
    _load_alert_settings()
    _load_financial_years(compliance, created)
    person, _ = ConnectedPerson.objects.get_or_create(name=XIAOMI["name"], defaults=XIAOMI)
    counterparties = _load_counterparties(person)
    agreement = _load_agreement(person, created)
    categories = _load_categories_and_caps(agreement, compliance=compliance, created=created)
    _load_rates()
    _load_orders(categories, counterparties, finance=finance, compliance=compliance, created=created)
    _load_illustrative_sales(person, counterparties, finance=finance, compliance=compliance, created=created)
    return created


def _load_alert_settings() -> None:
    """The alert thresholds, and the distribution lists with their members (a list is filled only when made)."""
    for percent, description in THRESHOLDS:
        AlertThreshold.objects.get_or_create(percent=Decimal(percent), defaults={"description": description})
    for name, addresses, thresholds, receives in DISTRIBUTION_LISTS:
        distribution_list, made = DistributionList.objects.get_or_create(name=name, defaults=receives)
        if made:
            distribution_list.thresholds.set(AlertThreshold.objects.filter(percent__in=thresholds))
            for address in addresses:
                distribution_list.members.create(email=address)


def _load_financial_years(compliance, created: dict[str, int]) -> None:
    for figures in FINANCIAL_YEARS:
        if not FinancialYear.objects.filter(year_end=figures["year_end"]).exists():
            financial_year_create(user=compliance, **figures)
            created["financial years"] += 1


def _load_counterparties(person: ConnectedPerson) -> dict[str, Counterparty]:
    """The counterparties by key; each independent one with its independence recorded."""
    counterparties = {
        key: Counterparty.objects.get_or_create(
            name=name, defaults={"name_zh": name_zh, "connected_person": person if connected else None}
        )[0]
        for key, (name, name_zh, connected) in COUNTERPARTIES.items()
    }
    for key, (_name, _name_zh, connected) in COUNTERPARTIES.items():
        supplier = counterparties[key]
        if not connected and not supplier.independence_basis:
            # Each independent supplier's independence, as compliance would record it before counting its quotes.
            supplier.independence_basis = Counterparty.IndependenceBasis.DECLARATION
            supplier.independence_checked_on = D("2025-07-15")
            supplier.independence_reference = "Written declaration of independence (demo)"
            supplier.save(update_fields=["independence_basis", "independence_checked_on", "independence_reference"])
    return counterparties


def _load_agreement(person: ConnectedPerson, created: dict[str, int]) -> FrameworkAgreement:
    agreement, made = FrameworkAgreement.objects.get_or_create(
        connected_person=person, title=AGREEMENT["title"], defaults=AGREEMENT
    )
    created["agreements"] += made
    board_facts = ("abstaining_directors", "board_minutes_ref", "announced_on", "announcement_ref")
    if not made and not agreement.abstaining_directors:
        # An agreement loaded before the board's facts were recorded gets them once.
        for name in board_facts:
            setattr(agreement, name, AGREEMENT[name])
        agreement.save(update_fields=list(board_facts))
    return agreement


def _load_categories_and_caps(
    agreement: FrameworkAgreement, *, compliance, created: dict[str, int]
) -> dict[str, TransactionCategory]:
    """The agreement's categories by key, each with the annual caps it does not have yet."""
    categories = {}
    for spec in CATEGORIES:
        category, _ = TransactionCategory.objects.get_or_create(
            agreement=agreement,
            name=spec["name"],
            defaults={
                "name_zh": spec["name_zh"],
                "term_start": spec["term_start"],
                "term_end": spec["term_end"],
                "currency": "CNY",
            },
        )
        categories[spec["key"]] = category
        for start, end, millions in spec["caps"]:
            if not category.caps.filter(period_start=D(start)).exists():
                annual_cap_create(
                    user=compliance,
                    category=category,
                    period_start=D(start),
                    period_end=D(end),
                    amount=Decimal(millions) * 1_000_000,
                )
                created["caps"] += 1
    return categories


def _load_rates() -> None:
    for currency, target, day, rate in RATES:
        ExchangeRate.objects.get_or_create(
            currency=currency, target_currency=target, rate_date=D(day),
            defaults={"rate": Decimal(rate), "source": "demo"},
        )  # fmt: skip


def _load_orders(categories, counterparties, *, finance, compliance, created: dict[str, int]) -> None:
    """The purchase orders not loaded yet, each with its quotes, approval and invoices."""
    for number, key, party, day, amount, currency, service, quotes, approve, invoices in ORDERS:
        if PurchaseOrder.objects.filter(number=number).exists():
            continue
        documents = [
            (counterparties[supplier], quoted_on, quote_amount, quote_currency, f"Q-{number}-{index}",
             ("Quotation {reference} (demo)", f"Supplier: {COUNTERPARTIES[supplier][0]}", "Price"))
            for index, (supplier, quoted_on, quote_amount, quote_currency) in enumerate(quotes, start=1)
        ]  # fmt: skip
        _enter_order(
            finance=finance, compliance=compliance, number=number, category=categories[key],
            counterparty=counterparties[party], description="Demo order", day=day, amount=amount, currency=currency,
            service=service, quotes=documents, approve=approve, invoices=invoices,
        )  # fmt: skip
        created["orders"] += 1


def _load_illustrative_sales(person, counterparties, *, finance, compliance, created: dict[str, int]) -> None:
    """The ILLUSTRATIVE sales agreement (not from the filings), entered through the same services."""
    agreement, made = FrameworkAgreement.objects.get_or_create(
        connected_person=person, title=SALES_AGREEMENT["title"], defaults=SALES_AGREEMENT
    )
    created["agreements"] += made
    fields = {k: v for k, v in SALES_CATEGORY.items() if k != "name"}
    category, _ = TransactionCategory.objects.get_or_create(
        agreement=agreement, name=SALES_CATEGORY["name"], defaults=fields
    )
    for start, end, millions in SALES_CAPS:
        if not category.caps.filter(period_start=D(start)).exists():
            annual_cap_create(
                user=compliance,
                category=category,
                period_start=D(start),
                period_end=D(end),
                amount=Decimal(millions) * 1_000_000,
            )
            created["caps"] += 1
    customers = {}
    for key, (name, name_zh) in CUSTOMERS.items():
        customer, made = Counterparty.objects.get_or_create(
            name=name,
            defaults={
                "name_zh": name_zh,
                "independence_basis": Counterparty.IndependenceBasis.SEARCH,
                "independence_checked_on": D("2025-08-01"),
                "independence_reference": "Illustrative: search of registers and shareholdings",
            },
        )
        customers[key] = customer
    for number, party, day, amount, currency, service, references, approve, invoices in SALES_ORDERS:
        if PurchaseOrder.objects.filter(number=number).exists():
            continue
        documents = [
            (customers[customer], dated, reference_amount, reference_currency, f"REF-{number}-{index}",
             ("Price reference {reference} (illustrative)", f"Customer: {CUSTOMERS[customer][0]}", "Price charged"))
            for index, (customer, dated, reference_amount, reference_currency) in enumerate(references, start=1)
        ]  # fmt: skip
        _enter_order(
            finance=finance, compliance=compliance, number=number, category=category,
            counterparty=counterparties[party], description="Illustrative sale of cloud services", day=day,
            amount=amount, currency=currency, service=service, quotes=documents, approve=approve, invoices=invoices,
        )  # fmt: skip
        created["orders"] += 1


def _enter_order(
    *,
    finance,
    compliance,
    number,
    category,
    counterparty,
    description,
    day,
    amount,
    currency,
    service,
    quotes,
    approve,
    invoices,
) -> None:
    """One demo order through the services, purchase or sale alike: the order, its quotes (or price
    references) each with a PDF, its approval when asked, and its invoices. Each of `quotes` is (counterparty,
    date, amount, currency, reference, (title with {reference}, counterparty line, price label))."""
    service_fields = (
        {"recognition": "over_service_period", "service_start": D(service[0]), "service_end": D(service[1])}
        if service
        else {"recognition": "on_order_date"}
    )
    order = purchase_order_create(
        user=finance, number=number, category=category, counterparty=counterparty, description=description,
        order_date=D(day), amount=Decimal(amount), currency=currency, **service_fields,
    )  # fmt: skip
    for party, dated, quote_amount, quote_currency, reference, (title, party_line, price_label) in quotes:
        pdf = simple_pdf(
            title.format(reference=reference), party_line, f"Date: {dated}",
            f"{price_label}: {quote_currency} {Decimal(quote_amount):,.2f}",
        )  # fmt: skip
        quote_create(
            user=finance, purchase_order=order, supplier=party, quoted_on=D(dated), amount=Decimal(quote_amount),
            currency=quote_currency, reference=reference, document=ContentFile(pdf, name=f"{reference}.pdf"),
        )  # fmt: skip
    if approve:
        purchase_order_approve(order_id=order.pk, user=compliance)
    for invoice_number, invoice_date, invoice_amount, invoice_currency in invoices:
        invoice_record(
            user=finance, purchase_order=order, number=invoice_number, invoice_date=D(invoice_date),
            amount=Decimal(invoice_amount), currency=invoice_currency,
        )  # fmt: skip
