"""Currencies are named in the reader's language: CLDR's names, kept in transactions/data/currency_names.csv
(scripts/currency_names.py writes it), for every ISO code the product accepts."""

import csv

import pytest

from transactions.currencies import CURRENCIES, NAMES_FILE

ADD_ORDER = "/admin/transactions/purchaseorder/add/"


@pytest.mark.parametrize(
    ("accept", "option"),
    [("zh-hk", "CNY - 人民幣"), ("zh-cn", "CNY - 人民币"), ("en", "CNY - Yuan Renminbi")],
)
def test_the_order_forms_currency_select_names_each_currency_in_the_readers_language(
    client, ledger, finance_user, accept, option
):
    client.force_login(finance_user)

    page = client.get(ADD_ORDER, HTTP_ACCEPT_LANGUAGE=accept).content.decode()

    assert f">{option}</option>" in page


def test_every_accepted_currency_has_a_traditional_and_a_simplified_name():
    with NAMES_FILE.open(encoding="utf-8", newline="") as names:
        rows = {row["code"]: row for row in csv.DictReader(names)}

    assert set(rows) == set(CURRENCIES)
    untranslated = sorted(code for code, row in rows.items() if row["en"] in (row["zh_Hant"], row["zh_Hans"]))
    assert not untranslated
    assert (rows["HKD"]["zh_Hant"], rows["USD"]["zh_Hans"]) == ("港元", "美元")
