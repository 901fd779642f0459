"""Delivery of everything the product e-mails: alerts, warnings and scheduled reports.

The row recorded with the change (an Alert, a HeadroomWarning, a TermWarning, a Mailing) is the
outbox. After the change commits, a task is queued to send it; if the broker is down the queue
misses it and the minute-by-minute sweep (`send_due`) finds it instead. Sending:

1. claims the row with one conditional UPDATE (unsent, not claimed by someone else whose lease is
   still running): concurrent workers, retries and duplicate deliveries of the task send it once;
2. composes the message from the current figures (compliance.notifications) and hands it to the
   mail server, outside any database transaction;
3. marks it sent, still under its claim. If the mail server refuses or is unreachable, the row
   stays pending with the error and a time for the next attempt (exponential backoff).

A worker killed between 2 and 3 leaves a claim that expires after its lease; the sweep then sends
again, so a crash at that exact moment can deliver a message twice, never zero times.
"""

import datetime
import logging
import smtplib
import uuid
from collections.abc import Callable, Iterable

from django.conf import settings
from django.db.models import F, Model, Q
from django.utils import timezone

from . import notifications
from .models import Alert, HeadroomWarning, Mailing, Outbox, TermWarning

log = logging.getLogger(__name__)

# What each kind of outbox row is, and how its message is composed. The kind travels in task arguments.
KINDS: dict[str, tuple[type[Outbox], Callable[[Model], notifications.Message]]] = {
    "alert": (Alert, notifications.alert_message),
    "headroom": (HeadroomWarning, notifications.headroom_message),
    "term": (TermWarning, notifications.term_message),
    "mailing": (Mailing, notifications.mailing_message),
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
    """Send one outbox row if it is still unsent and nobody else is sending it."""
    model, compose = KINDS[kind]
    token = _claim(model, pk)
    if token is None:
        return SKIPPED
    row = model.objects.get(pk=pk)
    mine = model.objects.filter(pk=pk, claim_token=token)
    try:
        message = compose(row)
        message.as_email().send(fail_silently=False)  # SMTP gives up after EMAIL_TIMEOUT seconds
    except (notifications.NoRecipients, smtplib.SMTPException, OSError) as error:
        attempts = row.send_attempts + 1
        mine.update(
            send_attempts=F("send_attempts") + 1,
            last_error=f"{type(error).__name__}: {error}"[:2000],
            next_attempt_at=timezone.now() + backoff(attempts),
            claimed_until=None,
            claim_token=None,
        )
        log.warning("Could not send %s %s (attempt %s): %s", kind, pk, attempts, error)
        return FAILED
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


def enqueue(kind: str, pks: Iterable[int]) -> None:
    """Queue a send task per row, after the commit that recorded them.

    Never fails the caller: if the broker cannot be reached, the rows stay pending and `send_due`
    delivers them once a worker runs again.
    """
    from .tasks import send_outbox_item

    for pk in pks:
        try:
            send_outbox_item.apply_async((kind, pk), retry=False)
        except Exception as error:
            log.warning("Could not queue %s %s (%s); the pending sweep will send it.", kind, pk, error)
            return
