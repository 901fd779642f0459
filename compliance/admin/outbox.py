"""The admin's base for the outbox's rows (alerts, warnings, mailings, breaches): each recipient's delivery
and, for compliance, *Send now*. Its own module so that every admin of an outbox row can build on it."""

import re

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.translation import get_language, gettext, gettext_lazy

from compliance.delivery import outbox
from compliance.models import Delivery
from transactions.admin import ReadOnlyAdmin

WAITING = re.compile(r"^(?P<waiting>\d+) of (?P<total>\d+) recipients waiting: (?P<who>.*)$", re.DOTALL)


def shortfall(error: str) -> str:
    """Why a row is not sent yet, as the outbox recorded it (in English, with the mail server's own words), in
    the reader's language: the outbox's sentences translated, the server's answers and addresses as they were."""
    if not (get_language() or "").startswith("zh"):
        return error  # recorded in English
    if error.startswith("NoRecipients: "):
        return gettext("Nobody is configured to receive this e-mail; add a recipient or a distribution list.")
    if match := WAITING.match(error):
        who = match["who"].replace(": being sent", ": " + gettext("being sent"))
        return gettext("%(waiting)s of %(total)s recipients waiting: %(who)s") % {**match.groupdict(), "who": who}
    return error


class DeliveryInline(admin.TabularInline):
    """Each recipient of the e-mail: sent, or why not yet and when it is tried again."""

    model = Delivery
    fields = ["email", "sent_at", "send_attempts", "last_error", "next_attempt_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class OutboxAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    """Read-only: rows are recorded by the product; a pending one can be sent now by compliance."""

    outbox_kind = ""
    inlines = [DeliveryInline]
    actions = ["send_now"]
    list_filter = [("sent_at", admin.EmptyFieldListFilter)]

    def has_send_permission(self, request) -> bool:
        return request.user.has_perm("compliance.send_outbox")

    @admin.display(description=gettext_lazy("e-mail"))
    def delivery(self, row) -> str:
        if row.sent_at:
            return format_html(
                '<span style="color:#2e7d32">{}</span>',
                gettext("sent %(when)s") % {"when": formats.localize(timezone.localtime(row.sent_at))},
            )
        if row.last_error:
            return format_html(
                '<span style="color:#b71c1c">{}</span>',
                gettext("pending: %(error)s (attempt %(attempt)s, next %(next)s)")
                % {
                    "error": shortfall(row.last_error)[:200],
                    "attempt": row.send_attempts,
                    "next": formats.localize(timezone.localtime(row.next_attempt_at))
                    if row.next_attempt_at
                    else gettext("now"),
                },
            )
        return format_html('<span style="color:#e65100">{}</span>', gettext("pending"))

    @admin.action(description=gettext_lazy("Send the selected e-mails now (unsent ones only)"), permissions=["send"])
    def send_now(self, request: HttpRequest, queryset: QuerySet) -> None:
        outcomes = [
            outbox.send(self.outbox_kind, pk)
            for pk in queryset.filter(sent_at__isnull=True).values_list("pk", flat=True)
        ]
        sent, failed = outcomes.count(outbox.SENT), outcomes.count(outbox.FAILED)
        messages.info(
            request,
            gettext("%(sent)s sent, %(failed)s could not be sent (see their last error).")
            % {"sent": sent, "failed": failed},
        )
