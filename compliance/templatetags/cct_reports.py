"""The report downloads box, shown on the admin index and the dashboard."""

from django import template
from django.utils import timezone

from compliance.reports.dashboard import default_report_periods

register = template.Library()


@register.inclusion_tag("admin/cct_reports_box.html")
def reports_box() -> dict:
    return default_report_periods(timezone.localdate())
