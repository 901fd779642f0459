"""Days in sentences (refusals, validation messages): 1 Dec 2026 in English, 2026年12月1日 in Chinese (the
active language's DATE_FORMAT, config/formats). A leaf: it imports nothing of the project."""

import datetime

from django.utils import translation
from django.utils.formats import date_format

CHINESE = ("zh-hant", "zh-hans")


def day_in_words(value: datetime.date) -> str:
    if translation.get_language() in CHINESE:
        return date_format(value, "DATE_FORMAT")
    return value.strftime("%-d %b %Y")
