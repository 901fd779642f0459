"""The exemption tiers of Rule 14A.76 at the edges the other boundary tests leave: the 5% edge of the fully
exempt tier (below 5% with a consideration under HK$3m), just under and exactly at 5%, with the HK$3m edge
next to it, and the HK$10m edge just under 25%. Figures by hand: the revenue ratio decides (the assets and
market capitalisation are huge), and the cap is the consideration in HKD."""

import pytest

from tests.compliance.test_classification import classified


@pytest.mark.parametrize(
    ("cap", "revenue", "tier"),
    [
        # 2,500,000.00 / 50,000,000.01 = 4.99999999900...%: below 5%, and under HK$3m.
        ("2500000.00", "50000000.01", "fully_exempt"),
        # 2,500,000.00 / 50,000,000.00 = 5% exactly: not below 5%; below 25% and under HK$10m.
        ("2500000.00", "50000000.00", "announcement_and_annual_review"),
        # 2,999,999.99 / 60,000,000.00 = 4.99999998333...%, and a cent under HK$3m: both edges just inside.
        ("2999999.99", "60000000.00", "fully_exempt"),
        # 3,000,000.00 / 60,000,000.01 = 4.99999999166...%: below 5%, but HK$3m is not under HK$3m.
        ("3000000.00", "60000000.01", "announcement_and_annual_review"),
    ],
)
def test_the_5_percent_edge_of_the_fully_exempt_tier_under_hk_3_million(db, cap, revenue, tier):
    assert classified(cap, revenue=revenue).tier == tier


@pytest.mark.parametrize(
    ("cap", "revenue", "tier"),
    [
        # 9,999,999.99 / 40,000,000.00 = 24.999999975%: below 25%, and a cent under HK$10m.
        ("9999999.99", "40000000.00", "announcement_and_annual_review"),
        # 10,000,000.00 / 40,000,000.01 = 24.99999999375%: below 25%, but HK$10m is not under HK$10m.
        ("10000000.00", "40000000.01", "shareholders_approval"),
    ],
)
def test_the_hk_10_million_edge_just_under_25_percent(db, cap, revenue, tier):
    assert classified(cap, revenue=revenue).tier == tier
