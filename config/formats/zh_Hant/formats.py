"""Django's zh_Hant formats, with money read as the filings print it: thousands separated by commas in
groups of three (Django's default for this locale groups by four with no separator)."""

from django.conf.locale.zh_Hant.formats import *  # noqa: F403

THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
DECIMAL_SEPARATOR = "."
