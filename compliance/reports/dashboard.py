"""The management dashboard (admin, /admin/dashboard/): each live cap's actual and committed amounts
against the cap as bars, the run-rate forecast at its period end, the latest alerts, the reports to
download, and links into the admin. Figures are as at today (business dates).
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from compliance.alerts.breaches import open_breaches
from compliance.models import AnnualCap
from compliance.reports.selectors import (
    CapStatus,
    cap_status,
    draft_order_count,
    live_caps_as_at,
    percent_label,
    recent_alerts,
)
from compliance.rules.forecast import CapForecast, cap_forecast


def _width(pct: Decimal) -> str:
    """A bar's CSS width: the percentage kept between 0 and 100, with a dot whatever the language."""
    return f"{min(max(pct, Decimal(0)), Decimal(100)):.2f}"


def _level(pct: Decimal) -> str:
    if pct >= 100:
        return "full"
    return "warning" if pct >= settings.CCT_DEFAULT_ALERT_THRESHOLD else "ok"


def _status_in_reader_language(status: CapStatus) -> CapStatus:
    """The cap's status as the reader reads it (the reports keep the bilingual label): the same words in
    English, the reader's Chinese only under Chinese."""
    pct = percent_label(settings.CCT_DEFAULT_ALERT_THRESHOLD)
    words = {
        "exceeded": gettext("Exceeded · 超出上限"),
        "full": gettext("At 100% · 已達上限"),
        "warning": gettext("At or above %(pct)s%% · 已達%(pct)s%%") % {"pct": pct},
        "below": gettext("Below %(pct)s%% · 低於%(pct)s%%") % {"pct": pct},
    }
    label = words.get(status.level, status.label)
    if status.report_to_board:
        label = f"{label}; {gettext('Forecast above cap: report to the board · 預測超出上限：須向董事會匯報')}"
    return status._replace(label=label)


@dataclass
class CapPanel:
    cap: AnnualCap
    forecast: CapForecast
    status: CapStatus

    @property
    def bars(self) -> list[dict]:
        cap = self.cap
        actual, committed = gettext("Actual · 實際"), gettext("Committed · 已承諾")
        forecast = gettext("Forecast · 預測")
        return [
            {"name": actual, "key": "actual", "amount": cap.actual, "pct": cap.actual_pct,
             "width": _width(cap.actual_pct), "level": _level(cap.actual_pct)},
            {"name": committed, "key": "committed", "amount": cap.committed, "pct": cap.committed_pct,
             "width": _width(cap.committed_pct), "level": _level(cap.committed_pct)},
            {"name": forecast, "key": "forecast", "amount": self.forecast.amount, "pct": self.forecast.pct,
             "width": _width(self.forecast.pct), "level": _level(self.forecast.pct)},
        ]  # fmt: skip


DIRECTION_SECTIONS = [
    ("purchase", gettext_lazy("Purchases from connected persons · 向關連人士採購")),
    ("sale", gettext_lazy("Sales to connected persons · 向關連人士銷售")),
]


def dashboard_view(request: HttpRequest, *, site) -> TemplateResponse:
    if not request.user.has_perm("compliance.view_annualcap"):
        raise PermissionDenied
    today = timezone.localdate()
    panels = [
        CapPanel(
            cap=cap,
            forecast=(forecast := cap_forecast(cap, as_of=today)),
            status=_status_in_reader_language(cap_status(cap, forecast=forecast)),
        )
        for cap in live_caps_as_at(today)
    ]
    context = {
        **site.each_context(request),
        "title": gettext("Management dashboard · 管理層儀表板"),
        "today": today,
        "panels": panels,
        "alerts": recent_alerts() if request.user.has_perm("compliance.view_alert") else [],
        # Shown until re-complied with.
        "breaches": open_breaches() if request.user.has_perm("compliance.view_breach") else [],
        # Purchases and sales each in their own section: a purchase cap is never shown with (or added to) a
        # sales cap. The caps come ordered purchases first (report_selectors.CAP_ORDER).
        "sections": [
            {"key": key, "title": title, "panels": [p for p in panels if p.cap.category.direction == key]}
            for key, title in DIRECTION_SECTIONS
            if any(p.cap.category.direction == key for p in panels)
        ],
        "has_sales": any(p.cap.category.direction == "sale" for p in panels),
        "drafts": draft_order_count("purchase"),
        "sales_drafts": draft_order_count("sale"),
        "threshold": settings.CCT_DEFAULT_ALERT_THRESHOLD,
        "threshold_width": _width(settings.CCT_DEFAULT_ALERT_THRESHOLD),
    }
    return TemplateResponse(request, "admin/cct_dashboard.html", context)


def default_report_periods(today: datetime.date) -> dict:
    """What the report forms offer first: last month, the last complete half year, the last financial year."""
    last_month = today.replace(day=1) - datetime.timedelta(days=1)
    half = f"{today.year - 1}-H2" if today.month <= 6 else f"{today.year}-H1"
    halves = []
    for year in range(today.year, today.year - 3, -1):
        halves += [f"{year}-H2", f"{year}-H1"]
    return {
        "month": f"{last_month:%Y-%m}",
        "half": half,
        "halves": [h for h in halves if h <= f"{today.year}-H{1 if today.month <= 6 else 2}"],
        "year": str(today.year - 1),  # a string: numbers in templates get thousands separators
    }
