"""Delivery of everything the product e-mails: alerts, warnings and scheduled reports.

The row recorded with the change (an Alert, a HeadroomWarning, a TermWarning, a Mailing) is the
outbox. After the change commits, a task is queued to send it; if the broker is down the queue
misses it and the minute-by-minute sweep (`send_due`) finds it instead. Sending:

1. claims the row with one conditional UPDATE (unsent, not claimed by someone else whose lease is
   still running): concurrent workers, retries and duplicate deliveries of the task send it once;
2. composes the message from the current figures (compliance.delivery.messages); the first time, its
   recipients become the row's deliveries (Delivery, one per address);
3. claims the deliveries that are due (again by conditional UPDATE) and hands the message for those
   addresses to the mail server, outside any database transaction: one message for the readers of
   Simplified Chinese (addresses of users who chose 简体中文), its Chinese converted, one for the others;
4. marks each delivery sent or, if the server refused that address or could not be reached, pending
   with its own error and a time for its next attempt (exponential backoff). The row is sent when
   every delivery is; until then it stays pending, due when its earliest delivery is, with a summary
   of what is missing. Nobody who has the message is sent it again.

A worker killed between 3 and 4 leaves claims that expire after their lease; the sweep then sends
again, so a crash at that exact moment can deliver a message twice, never zero times.
"""

import datetime
import logging
import smtplib
import uuid
from collections.abc import Callable
from dataclasses import replace

from django.conf import settings
from django.db.models import F, Model, Q
from django.db.models.functions import Lower
from django.utils import timezone

from accounts.models import Preference
from compliance.common.chinese import SIMPLIFIED, chinese
from compliance.delivery import messages as notifications
from compliance.models import Alert, Breach, Delivery, HeadroomWarning, Mailing, Outbox, TermWarning

log = logging.getLogger(__name__)

# What each kind of outbox row is, and how its message is composed. The kind travels in task arguments.
KINDS: dict[str, tuple[type[Outbox], Callable[[Model], notifications.Message]]] = {
    "alert": (Alert, notifications.alert_message),
    "headroom": (HeadroomWarning, notifications.headroom_message),
    "term": (TermWarning, notifications.term_message),
    "mailing": (Mailing, notifications.mailing_message),
    "breach": (Breach, notifications.breach_message),
}
# The foreign key of Delivery that points at each kind of row.
DELIVERY_LINK = {
    "alert": "alert",
    "headroom": "headroom_warning",
    "term": "term_warning",
    "mailing": "mailing",
    "breach": "breach",
}
SENT, FAILED, SKIPPED = "sent", "failed", "skipped"


def backoff(attempts: int) -> datetime.timedelta:
    """1, 2, 4, 8... times the base delay after each failed attempt, up to the maximum."""
    seconds = settings.CCT_SEND_BACKOFF_SECONDS * 2 ** max(attempts - 1, 0)
    return datetime.timedelta(seconds=min(seconds, settings.CCT_SEND_BACKOFF_MAX_SECONDS))


def _claim(model: type[Outbox], pk: int) -> uuid.UUID | None:
    now = timezone.now()
    token = uuid.uuid4()
    claimed = (
        model.objects.filter(pk=pk, sent_at__isnull=True)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .update(claim_token=token, claimed_until=now + datetime.timedelta(seconds=settings.CCT_SEND_LEASE_SECONDS))
    )
    return token if claimed else None


def send(kind: str, pk: int) -> str:
    """Send one outbox row to its recipients still waiting, if nobody else is sending it."""
    model, compose = KINDS[kind]
    token = _claim(model, pk)
    if token is None:
        return SKIPPED
    row = model.objects.get(pk=pk)
    mine = model.objects.filter(pk=pk, claim_token=token)
    try:
        message = compose(row)
    except notifications.NoRecipients as error:
        retry_at = timezone.now() + backoff(row.send_attempts + 1)
        _pending(mine, error=f"{type(error).__name__}: {error}", retry_at=retry_at)
        log.warning("Could not send %s %s (attempt %s): %s", kind, pk, row.send_attempts + 1, error)
        return FAILED
    deliveries = _deliveries(kind, row, message.recipients)
    claimed = _claim_deliveries(deliveries)
    if claimed:
        refused = {}
        for language, addresses in _by_language([delivery.email for delivery in claimed]).items():
            refused |= _deliver(in_language(message, language), addresses)
        _record(claimed, refused)
    pending = list(deliveries.filter(sent_at__isnull=True).order_by("email"))
    if not pending:
        mine.update(
            sent_at=timezone.now(),
            send_attempts=F("send_attempts") + 1,
            last_error="",
            next_attempt_at=None,
            claimed_until=None,
            claim_token=None,
        )
        log.info("Sent %s %s to %s", kind, pk, ", ".join(message.recipients))
        return SENT
    summary = "; ".join(f"{delivery.email}: {delivery.last_error or 'being sent'}" for delivery in pending)
    waiting = [delivery.next_attempt_at for delivery in pending if delivery.next_attempt_at]
    _pending(
        mine, error=f"{len(pending)} of {deliveries.count()} recipients waiting: {summary}",
        retry_at=min(waiting) if waiting else None,
    )  # fmt: skip
    log.warning("Could not send %s %s to every recipient: %s", kind, pk, summary)
    return FAILED


def _pending(mine, *, error: str, retry_at: datetime.datetime | None) -> None:
    mine.update(
        send_attempts=F("send_attempts") + 1,
        last_error=error[:2000],
        next_attempt_at=retry_at,
        claimed_until=None,
        claim_token=None,
    )


def _deliveries(kind: str, row: Model, recipients: list[str]):
    """The row's deliveries; the first time, one per recipient of the message."""
    link = DELIVERY_LINK[kind]
    deliveries = Delivery.objects.filter(**{link: row})
    if not deliveries.exists():
        Delivery.objects.bulk_create(
            [Delivery(**{link: row}, email=email) for email in dict.fromkeys(recipients)], ignore_conflicts=True
        )
    return deliveries


def _claim_deliveries(deliveries) -> list[Delivery]:
    now = timezone.now()
    token = uuid.uuid4()
    (
        deliveries.filter(sent_at__isnull=True)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .update(claim_token=token, claimed_until=now + datetime.timedelta(seconds=settings.CCT_SEND_LEASE_SECONDS))
    )
    return list(deliveries.filter(claim_token=token))


def _by_language(addresses: list[str]) -> dict[str, list[str]]:
    """The addresses grouped by the Chinese their reader gets: Simplified where the address is that of a
    user who chose 简体中文, Traditional ("") otherwise. One query."""
    simplified = set(
        Preference.objects.filter(language=SIMPLIFIED)
        .annotate(address=Lower("user__email"))
        .filter(address__in=[address.lower() for address in addresses])
        .values_list("address", flat=True)
    )
    groups: dict[str, list[str]] = {}
    for address in addresses:
        groups.setdefault(SIMPLIFIED if address.lower() in simplified else "", []).append(address)
    return groups


def in_language(message: notifications.Message, language: str) -> notifications.Message:
    """The message with its Chinese (written in Traditional) in the reader's script."""
    if language != SIMPLIFIED:
        return message
    return replace(
        message,
        subject=chinese(message.subject, language),
        text=chinese(message.text, language),
        html=chinese(message.html, language),
    )


def _deliver(message: notifications.Message, addresses: list[str]) -> dict[str, str]:
    """Hand the message for these addresses to the mail server: the addresses it refused, with why."""
    email = replace(message, recipients=addresses).as_email()
    try:
        email.send(fail_silently=False)  # SMTP gives up after EMAIL_TIMEOUT seconds
    except smtplib.SMTPRecipientsRefused as error:  # every address refused, each with its own answer
        answers = error.recipients.items()
        return {address: f"SMTPRecipientsRefused: {code} {_text(reply)}" for address, (code, reply) in answers}
    except (smtplib.SMTPException, OSError) as error:
        return dict.fromkeys(addresses, f"{type(error).__name__}: {error}")
    refused = getattr(email, "refused_recipients", {})
    return {address: f"SMTPRecipientsRefused: {refused[address]}" for address in addresses if address in refused}


def _text(reply: bytes | str) -> str:
    return reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)


def _record(claimed: list[Delivery], refused: dict[str, str]) -> None:
    now = timezone.now()
    token = claimed[0].claim_token
    for delivery in claimed:
        mine = Delivery.objects.filter(pk=delivery.pk, claim_token=token)
        if delivery.email in refused:
            mine.update(
                send_attempts=F("send_attempts") + 1,
                last_error=refused[delivery.email][:2000],
                next_attempt_at=now + backoff(delivery.send_attempts + 1),
                claimed_until=None,
                claim_token=None,
            )
        else:
            mine.update(
                sent_at=now,
                send_attempts=F("send_attempts") + 1,
                last_error="",
                next_attempt_at=None,
                claimed_until=None,
                claim_token=None,
            )


def due(model: type[Outbox], now: datetime.datetime | None = None):
    """Unsent rows whose next attempt is due and that nobody is sending."""
    now = now or timezone.now()
    return (
        model.objects.filter(sent_at__isnull=True)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .order_by("created_at", "pk")
    )


def send_due() -> dict[str, int]:
    """The safety net: send every pending row that is due (run every minute)."""
    outcomes = {SENT: 0, FAILED: 0, SKIPPED: 0}
    for kind, (model, _) in KINDS.items():
        for pk in list(due(model).values_list("pk", flat=True)):
            outcomes[send(kind, pk)] += 1
    return outcomes
