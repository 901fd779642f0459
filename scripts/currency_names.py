"""Writes transactions/data/currency_names.csv: each ISO 4217 code of transactions/currencies.py with its
English name (the ISO list's) and its Traditional and Simplified Chinese names from the Unicode CLDR, as
Babel ships it. The Traditional names are Hong Kong's (CLDR's zh_Hant_HK: 港元, as the filings write).

Babel is needed only here, not by the product: run it from a throwaway environment when the currency list
or CLDR changes, and commit the file.

    python3 -m venv /tmp/babelvenv && /tmp/babelvenv/bin/pip install babel
    /tmp/babelvenv/bin/python scripts/currency_names.py
"""

import csv
import importlib.util
from pathlib import Path

from babel import Locale

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "transactions" / "data" / "currency_names.csv"
LOCALES = {"zh_Hant": "zh_Hant_HK", "zh_Hans": "zh_Hans"}


def iso_currencies() -> dict[str, str]:
    """The product's list, read from its module without starting Django."""
    spec = importlib.util.spec_from_file_location("currencies", ROOT / "transactions" / "currencies.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.CURRENCIES


def main() -> None:
    names = {column: Locale.parse(locale).currencies for column, locale in LOCALES.items()}
    with TARGET.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["code", "en", *LOCALES])
        for code, english in iso_currencies().items():
            writer.writerow([code, english, *(names[column].get(code, english) for column in LOCALES)])
    print(f"Wrote {TARGET.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
