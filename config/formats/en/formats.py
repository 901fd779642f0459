"""English formats with dates as ISO days (2026-12-01): short, unambiguous to readers in Hong Kong and the
mainland alike, and the form the API and the reports use."""

from django.conf.locale.en.formats import *  # noqa: F403

DATE_FORMAT = "Y-m-d"
SHORT_DATE_FORMAT = "Y-m-d"
DATETIME_FORMAT = "Y-m-d H:i"
SHORT_DATETIME_FORMAT = "Y-m-d H:i"
