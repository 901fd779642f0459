"""The Chinese half of the product's bilingual texts (report titles and headers, e-mails) in the reader's
script. They are written in English and Traditional Chinese; a reader of Simplified Chinese gets the
Chinese converted character by character with OpenCC's table (compliance/data/simplified_characters.tsv,
written by scripts/simplified_characters.py). The English half, figures and codes are unchanged."""

from functools import cache
from pathlib import Path

from django.utils.translation import get_language

SIMPLIFIED_CHARACTERS = Path(__file__).resolve().parent.parent / "data" / "simplified_characters.tsv"
SIMPLIFIED = "zh-hans"


@cache
def _simplified() -> dict[int, str]:
    with SIMPLIFIED_CHARACTERS.open(encoding="utf-8") as table:
        pairs = (line.rstrip("\n").split("\t") for line in table if not line.startswith("#"))
        return {ord(traditional): simplified for traditional, simplified in pairs}


def chinese(text: str, language: str | None = None) -> str:
    """`text` for a reader of `language` (the active one by default): Simplified under zh-hans, as written
    otherwise."""
    if (language or get_language() or "").lower() != SIMPLIFIED:
        return text
    return text.translate(_simplified())
