"""How utilisation looks wherever it is shown: a bar coloured at 80% and 100%."""

from decimal import Decimal

from django import template
from django.conf import settings
from django.utils.html import format_html

register = template.Library()

BELOW, WARNING, FULL = "#2e7d32", "#e65100", "#b71c1c"


def utilisation_level(pct: Decimal) -> str:
    """'full' at 100% or more, 'warning' at the alert threshold (80%) or more, else 'ok'."""
    if pct >= 100:
        return "full"
    if pct >= settings.CCT_DEFAULT_ALERT_THRESHOLD:
        return "warning"
    return "ok"


@register.simple_tag
def utilisation_bar(pct: Decimal | None) -> str:
    if pct is None:
        return "-"
    level = utilisation_level(pct)
    colour = {"ok": BELOW, "warning": WARNING, "full": FULL}[level]
    width = min(max(pct, Decimal(0)), Decimal(100))
    return format_html(
        '<span class="cct-util cct-util-{}" title="{}%" style="display:inline-flex;align-items:center;gap:6px">'
        '<span style="display:inline-block;width:120px;height:10px;background:#e0e0e0;border-radius:3px">'
        '<span style="display:block;width:{}%;height:10px;background:{};border-radius:3px"></span></span>'
        '<strong style="color:{}">{}%</strong></span>',
        level,
        pct,
        width,
        colour,
        colour,
        pct,
    )


STATUS_COLOURS = {"ok": BELOW, "warning": WARNING, "at_cap": WARNING, "exceeded": FULL}


@register.simple_tag
def cap_status_label(cap) -> str:
    """The cap's status in words, Exceeded in bold red, distinct from At cap."""
    status = cap.status
    label = type(cap).Status(status).label
    weight = "bold" if status == "exceeded" else "normal"
    return format_html(
        '<span class="cct-status cct-status-{}" style="color:{};font-weight:{}">{}</span>',
        status,
        STATUS_COLOURS[status],
        weight,
        label,
    )
