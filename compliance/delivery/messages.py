"""What each e-mail says and to whom: cap alerts, insufficient-headroom warnings, term warnings and
the scheduled reports, in English and Chinese, as plain text and HTML.

Composing reads the current figures (a few queries per message, whatever the number of orders);
delivery, claiming and retries are compliance.delivery.outbox's.
"""

from dataclasses import dataclass, field

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db.models import Value
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _

from compliance.delivery.links import alert_ack_token, revision_start_url
from compliance.models import (
    Alert,
    AlertRecipient,
    AnnualCap,
    Breach,
    DistributionList,
    HeadroomWarning,
    Mailing,
    TermWarning,
)
from compliance.rules.selectors import caps_with_utilisation, orders_with_allocation
from transactions.models import PurchaseOrder
from transactions.money import format_money

RECENT_ORDERS = 5


class NoRecipients(Exception):
    """Nobody is configured to receive this message; it stays pending until someone is."""


@dataclass
class Message:
    subject: str
    text: str
    html: str
    recipients: list[str]
    attachments: list[tuple[str, bytes, str]] = field(default_factory=list)

    def as_email(self) -> EmailMultiAlternatives:
        email = EmailMultiAlternatives(
            subject=self.subject, body=self.text, from_email=settings.DEFAULT_FROM_EMAIL, to=self.recipients
        )
        email.attach_alternative(self.html, "text/html")
        for name, content, mimetype in self.attachments:
            email.attach(name, content, mimetype)
        return email


def admin_url(name: str, *args) -> str:
    return settings.CCT_SITE_URL.rstrip("/") + reverse(name, args=args)


def acknowledge_url(alert: Alert) -> str:
    """The signed link senior management follows to acknowledge the alert (compliance.evidence.monitoring)."""
    return settings.CCT_SITE_URL.rstrip("/") + reverse("alert-acknowledge", args=[alert_ack_token(alert)])


def _members(lists) -> set[str]:
    return {member.email for distribution_list in lists for member in distribution_list.members.all()}


def list_recipients(**flag: bool) -> list[str]:
    """The addresses of every distribution list with the given flag set (e.g. monthly_report=True)."""
    return sorted(_members(DistributionList.objects.filter(**flag).prefetch_related("members")))


def alert_recipients(threshold) -> list[str]:
    """The recipients configured for a threshold: its alert recipients and its distribution lists."""
    individual = set(AlertRecipient.objects.filter(threshold=threshold).values_list("email", flat=True))
    lists = DistributionList.objects.filter(thresholds__percent=threshold).prefetch_related("members")
    return sorted(individual | _members(lists))


def _require(recipients: list[str], what: str) -> list[str]:
    if not recipients:
        raise NoRecipients(f"Nobody is configured to receive {what}; add a recipient or a distribution list.")
    return recipients


def _render(name: str, context: dict) -> tuple[str, str]:
    return (
        render_to_string(f"compliance/mail/{name}.txt", context).strip() + "\n",
        render_to_string(f"compliance/mail/{name}.html", context),
    )


def cap_context(cap: AnnualCap) -> dict:
    """The figures of a cap (from caps_with_utilisation) as e-mails show them."""
    category = cap.category
    currency = category.currency
    return {
        "cap": cap,
        "category": category,
        "agreement": category.agreement,
        "person": category.agreement.connected_person,
        "cap_amount": format_money(cap.amount, currency),
        "actual": format_money(cap.actual, currency),
        "committed": format_money(cap.committed, currency),
        "remaining": format_money(cap.remaining, currency),
        "cap_url": admin_url("admin:compliance_annualcap_change", cap.pk),
    }


def recent_orders(cap: AnnualCap) -> list[PurchaseOrder]:
    """The approved orders that moved the cap most recently, with their allocation to its period."""
    orders = orders_with_allocation(
        PurchaseOrder.objects.filter(category=cap.category, status=PurchaseOrder.Status.APPROVED).select_related(
            "approved_by", "counterparty"
        ),
        period_start=Value(cap.period_start),
        period_end=Value(cap.period_end),
    )
    return list(orders.order_by("-approved_at", "-pk")[:RECENT_ORDERS])


def alert_message(alert: Alert) -> Message:
    cap = caps_with_utilisation(AnnualCap.objects.filter(pk=alert.cap_id)).get()
    recipients = _require(alert_recipients(alert.threshold), f"alerts at {alert.threshold}%")
    currency = cap.category.currency
    orders = [
        {
            "order": order,
            "amount": format_money(order.amount, order.currency),
            "allocation": format_money(order.allocation, currency),
            # A sale opens on the sales order's page; the purchase order pages list only purchases.
            "url": admin_url(
                "admin:transactions_salesorder_change"
                if cap.category.direction == cap.category.Direction.SALE
                else "admin:transactions_purchaseorder_change",
                order.pk,
            ),
        }
        for order in recent_orders(cap)
    ]
    context = {
        **cap_context(cap),
        "alert": alert,
        "basis_zh": "實際交易金額" if alert.basis == Alert.Basis.ACTUAL else "承諾金額",
        "orders": orders,
        "acknowledge_url": acknowledge_url(alert),
    }
    text, html = _render("alert", context)
    subject = _("Cap alert: %(category)s %(start)s–%(end)s %(basis)s reached %(threshold)s%% · 年度上限警示") % {
        "category": cap.category.name,
        "start": cap.period_start,
        "end": cap.period_end,
        "basis": alert.basis,
        "threshold": alert.threshold,
    }
    return Message(subject=subject, text=text, html=html, recipients=recipients)


def headroom_message(warning: HeadroomWarning) -> Message:
    cap = caps_with_utilisation(AnnualCap.objects.filter(pk=warning.cap_id)).get()
    recipients = _require(list_recipients(headroom_warnings=True), "insufficient-headroom warnings")
    currency = cap.category.currency
    context = {
        **cap_context(cap),
        "warning": warning,
        "projected_actual": format_money(warning.projected_actual, currency),
        "projected_committed": format_money(warning.projected_committed, currency),
        "projected_used": format_money(warning.projected_used, currency),
        "revision_url": settings.CCT_SITE_URL.rstrip("/") + revision_start_url(cap),
    }
    text, html = _render("headroom", context)
    subject = _("Insufficient headroom forecast: %(category)s %(start)s–%(end)s · 年度上限不足預警") % {
        "category": cap.category.name,
        "start": cap.period_start,
        "end": cap.period_end,
    }
    return Message(subject=subject, text=text, html=html, recipients=recipients)


def breach_message(breach: Breach) -> Message:
    """A cap above its amount, at once, to the lists that receive breaches (compliance and the company
    secretary in the defaults)."""
    cap = caps_with_utilisation(AnnualCap.objects.filter(pk=breach.cap_id)).get()
    recipients = _require(list_recipients(breaches=True), "breaches of caps")
    currency = breach.currency
    context = {
        **cap_context(cap),
        "breach": breach,
        "basis": breach.get_basis_display().lower(),
        "basis_zh": "實際交易金額" if breach.basis == Breach.Basis.ACTUAL else "承諾金額",
        "used_at_detection": format_money(breach.used_amount, currency),
        "cap_at_detection": format_money(breach.cap_amount, currency),
        "amount_over": format_money(breach.amount_over, currency),
        "breach_url": admin_url("admin:compliance_breach_change", breach.pk),
    }
    text, html = _render("breach", context)
    subject = _("Cap breach: %(category)s %(start)s–%(end)s over by %(over)s · 超出年度上限") % {
        "category": cap.category.name,
        "start": cap.period_start,
        "end": cap.period_end,
        "over": format_money(breach.amount_over, currency),
    }
    return Message(subject=subject, text=text, html=html, recipients=recipients)


def term_message(warning: TermWarning) -> Message:
    recipients = _require(list_recipients(term_warnings=True), "term warnings")
    category = warning.category
    context = {
        "warning": warning,
        "category": category,
        "agreement": category.agreement,
        "category_url": admin_url("admin:transactions_transactioncategory_change", category.pk),
    }
    text, html = _render("term", context)
    subject = _("Term ending: %(category)s ends on %(end)s · 交易期限即將屆滿") % {
        "category": category.name,
        "end": warning.term_end,
    }
    return Message(subject=subject, text=text, html=html, recipients=recipients)


def mailing_message(mailing: Mailing) -> Message:
    """A scheduled report: the content kept when it was produced, to the lists that receive it."""
    flag = {
        Mailing.Kind.MONTHLY_REPORT: "monthly_report",
        Mailing.Kind.QUOTE_RULE_REPORT: "quote_rule_report",
        Mailing.Kind.RECONCILIATION: "reconciliation",
        Mailing.Kind.SIGNOFF_REMINDER: "signoff_reminders",
        Mailing.Kind.AUDITOR_LETTER_REMINDER: "auditor_timetable",
    }
    recipients = _require(list_recipients(**{flag[mailing.kind]: True}), mailing.get_kind_display().lower())
    attachments = []
    if mailing.attachment:
        with mailing.attachment.open("rb") as stored:
            attachments.append((mailing.attachment_name, stored.read(), _mimetype(mailing.attachment_name)))
    return Message(
        subject=mailing.subject,
        text=mailing.body,
        html=mailing.body_html,
        recipients=recipients,
        attachments=attachments,
    )


def _mimetype(name: str) -> str:
    if name.endswith(".xlsx"):
        return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return "text/csv" if name.endswith(".csv") else "application/octet-stream"
