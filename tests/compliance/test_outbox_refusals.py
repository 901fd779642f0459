"""A send the mail server refuses, in this process: the outbox row stays unsent (sent_at is None), with the
server's answer on it and on each delivery, until a later attempt is accepted; then each recipient has it
once. (The same with Redis and a worker: test_delivery.)"""

from decimal import Decimal

import pytest
from django.utils import timezone

from compliance.caps.approval import purchase_order_approve
from compliance.delivery import outbox
from compliance.models import Alert, AlertThreshold, Delivery, DistributionList
from tests.processes import SmtpServer, free_port

RECIPIENTS = ["ceo@example.com", "cfo@example.com"]


@pytest.fixture
def alert(ledger, compliance_user):
    managers = DistributionList.objects.create(name="Senior management")
    for email in RECIPIENTS:
        managers.members.create(email=email)
    managers.thresholds.add(AlertThreshold.objects.get(percent=Decimal("80.00")))
    order = ledger.order("1700000.00", quotes=("1800000.00", "1900000.00"))  # 85% of the 2026 cap
    purchase_order_approve(order_id=order.pk, user=compliance_user)
    return Alert.objects.get()


def smtp_at(settings, port: int) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 5
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""


@pytest.fixture
def smtp(settings):
    server = SmtpServer().start()
    smtp_at(settings, server.port)
    yield server
    server.stop()


def unsent(alert: Alert) -> list[tuple]:
    alert.refresh_from_db()
    deliveries = Delivery.objects.filter(alert=alert).order_by("email")
    return [(alert.sent_at, bool(alert.last_error))] + [(d.email, d.sent_at, d.last_error) for d in deliveries]


def test_a_refused_send_leaves_the_alert_and_every_delivery_unsent_until_the_server_accepts(alert, smtp):
    smtp.refuse = True

    assert outbox.send("alert", alert.pk) == outbox.FAILED

    refusal = "SMTPRecipientsRefused: 451 4.3.0 Mail server busy, try again later"
    assert unsent(alert) == [(None, True)] + [(email, None, refusal) for email in RECIPIENTS]
    assert smtp.envelopes == []

    smtp.refuse = False
    Delivery.objects.filter(alert=alert).update(next_attempt_at=timezone.now())  # the backoff has passed
    assert outbox.send("alert", alert.pk) == outbox.SENT

    alert.refresh_from_db()
    assert alert.sent_at is not None and alert.last_error == ""
    assert sorted(email for recipients, _ in smtp.envelopes for email in recipients) == RECIPIENTS


def test_an_unreachable_mail_server_leaves_the_alert_unsent(alert, settings):
    smtp_at(settings, free_port())  # nobody listens

    assert outbox.send("alert", alert.pk) == outbox.FAILED

    alert.refresh_from_db()
    assert alert.sent_at is None and "ConnectionRefusedError" in alert.last_error
    assert list(Delivery.objects.filter(alert=alert).values_list("sent_at", flat=True)) == [None, None]
    assert outbox.due(Alert, now=alert.next_attempt_at).get() == alert  # tried again once its backoff has passed
