"""Days in sentences (refusals, validation messages): 1 Dec 2026 in English, 2026年12月1日 in Chinese (the
active language's DATE_FORMAT, config/formats). A leaf: it imports nothing of the project."""

import datetime

from django.utils import translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

CHINESE = ("zh-hant", "zh-hans")


def day_in_words(value: datetime.date) -> str:
    if translation.get_language() in CHINESE:
        return date_format(value, "DATE_FORMAT")
    return value.strftime("%-d %b %Y")


def period_in_words(start: datetime.date, end: datetime.date) -> str:
    """A cap's period in a sentence: "1 January 2026 to 31 December 2026", in the reader's language."""
    return _("%(start)s to %(end)s") % {"start": day_in_words(start), "end": day_in_words(end)}
