"""Delivery of the outbox in this process: what the e-mails say, to whom, claims, failures and backoff."""

import datetime
import threading
from decimal import Decimal

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone

from compliance.caps.approval import purchase_order_approve
from compliance.delivery import outbox
from compliance.jobs import sweeps
from compliance.models import Alert, AlertRecipient, AlertThreshold, DistributionList, HeadroomWarning
from tests.factories import D, InvoiceFactory, UserFactory
from tests.processes import broker, free_port


@pytest.fixture
def alert(ledger, compliance_user):
    order = ledger.order("1700000.00", quotes=("1800000.00", "1900000.00"))
    purchase_order_approve(order_id=order.pk, user=compliance_user)
    return Alert.objects.get()


@pytest.fixture
def lists(db):
    threshold = AlertThreshold.objects.get(percent=Decimal("80.00"))
    management = DistributionList.objects.create(name="Senior management", headroom_warnings=True)
    management.members.create(email="ceo@example.com")
    management.members.create(email="cfo@example.com")
    management.thresholds.add(threshold)
    compliance = DistributionList.objects.create(name="Compliance", term_warnings=True)
    compliance.members.create(email="compliance@example.com")
    AlertRecipient.objects.create(threshold=Decimal("80.00"), email="cfo@example.com")
    AlertRecipient.objects.create(threshold=Decimal("90.00"), email="board@example.com")
    return management, compliance


def test_an_alert_email_says_what_reached_what_in_both_languages_with_the_recent_orders(alert, lists):
    assert outbox.send("alert", alert.pk) == outbox.SENT

    [email] = mail.outbox
    assert email.to == ["ceo@example.com", "cfo@example.com"]  # the list and the recipient, once each
    text, (html, mimetype) = email.body, email.alternatives[0]
    assert mimetype == "text/html"
    assert "has reached 80.00% of the cap (85.00% when recorded" in text
    assert "承諾金額已達年度上限的 80.00%" in text
    assert "Remaining headroom 剩餘額度:     CNY 300,000.00" in text
    assert alert.triggered_by.number in text and alert.triggered_by.number in html
    assert "CNY 1,700,000.00" in html
    alert.refresh_from_db()
    assert (alert.sent_at is not None, alert.send_attempts, alert.last_error) == (True, 1, "")


def test_the_internal_control_line_names_the_basis_the_alert_is_on(alert, lists):
    # The alert above is on the committed basis: the control sentence must not speak of actual amounts.
    outbox.send("alert", alert.pk)

    [email] = mail.outbox
    for body in (email.body, email.alternatives[0][0]):
        assert "when a cap's committed amount reaches about 80%" in body
        assert "內部監控：當承諾金額達年度上限約80%時" in body
        assert "當實際交易金額" not in body


def test_a_sent_alert_is_never_sent_again(alert, lists):
    outbox.send("alert", alert.pk)

    assert outbox.send("alert", alert.pk) == outbox.SKIPPED
    assert outbox.send_due() == {"sent": 0, "failed": 0, "skipped": 0}
    assert len(mail.outbox) == 1


def test_without_recipients_the_alert_stays_pending_with_the_reason_and_a_backoff(alert, settings):
    settings.CCT_SEND_BACKOFF_SECONDS = 60

    assert outbox.send("alert", alert.pk) == outbox.FAILED

    alert.refresh_from_db()
    assert alert.sent_at is None
    assert alert.last_error.startswith("NoRecipients: Nobody is configured to receive alerts at 80.00%")
    assert alert.next_attempt_at > timezone.now() + datetime.timedelta(seconds=50)
    assert alert.claim_token is None
    assert list(outbox.due(Alert)) == []
    assert list(outbox.due(Alert, now=timezone.now() + datetime.timedelta(seconds=61))) == [alert]


def test_backoff_doubles_up_to_its_maximum(settings):
    settings.CCT_SEND_BACKOFF_SECONDS, settings.CCT_SEND_BACKOFF_MAX_SECONDS = 60, 600

    assert [outbox.backoff(n).total_seconds() for n in range(1, 7)] == [60, 120, 240, 480, 600, 600]


def test_a_claim_held_by_a_live_worker_is_respected_and_an_expired_one_taken_over(alert, lists):
    Alert.objects.filter(pk=alert.pk).update(claimed_until=timezone.now() + datetime.timedelta(minutes=5))
    assert outbox.send("alert", alert.pk) == outbox.SKIPPED

    Alert.objects.filter(pk=alert.pk).update(claimed_until=timezone.now() - datetime.timedelta(seconds=1))
    assert outbox.send("alert", alert.pk) == outbox.SENT
    assert len(mail.outbox) == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_senders_send_an_alert_once(alert, lists):
    barrier = threading.Barrier(8)
    outcomes = []

    def sender():
        try:
            barrier.wait()
            outcomes.append(outbox.send("alert", alert.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=sender) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    alert.refresh_from_db()
    assert sorted(outcomes) == ["sent"] + ["skipped"] * 7, alert.last_error
    assert len(mail.outbox) == 1


def test_a_headroom_warning_goes_to_the_lists_that_take_them_with_a_link_to_revise(ledger, lists):
    # Hosting invoiced at 600,000.00 in the first 60 days of 2026 runs on past the 2,000,000.00 cap.
    hosting = ledger.approved("1500000.00", approver=UserFactory(username="approver"), order_date=D("2026-01-01"),
                              service_start=D("2026-01-01"), service_end=D("2026-12-31"))  # fmt: skip
    InvoiceFactory(purchase_order=hosting, invoice_date=D("2026-02-28"), amount=Decimal("600000.00"))
    [warning] = sweeps.forecast_headroom(on=D("2026-03-01"))

    assert outbox.send("headroom", warning.pk) == outbox.SENT

    [email] = mail.outbox
    assert email.to == ["ceo@example.com", "cfo@example.com"]
    assert "it would be reached on 2026-07-19" in email.body  # 1,400,000.00 left at 10,000.00 a day
    assert "預計於 2026-07-19 達到上限" in email.body
    assert f"/admin/compliance/caprevision/add/?cap={warning.cap_id}" in email.body  # start a revision
    assert HeadroomWarning.objects.get().sent_at is not None


def test_a_term_warning_goes_to_compliance(ledger, lists):
    [warning] = sweeps.watch_terms(on=D("2026-12-01"))

    outbox.send("term", warning.pk)

    [email] = mail.outbox
    assert email.to == ["compliance@example.com"]
    assert "ends on 2026-12-31, and no renewal is recorded" in email.body


def test_queueing_with_no_broker_never_fails_the_approval(
    ledger, compliance_user, lists, django_capture_on_commit_callbacks
):
    order = ledger.order("1700000.00", quotes=("1800000.00", "1900000.00"))

    unreachable = f"redis://127.0.0.1:{free_port()}/0"
    with (
        broker(unreachable, {"max_retries": 1, "interval_start": 0}),
        django_capture_on_commit_callbacks(execute=True) as callbacks,
    ):
        purchase_order_approve(order_id=order.pk, user=compliance_user)

    assert len(callbacks) == 1
    order.refresh_from_db()
    assert order.status == "approved"
    assert Alert.objects.get().sent_at is None  # left to the pending sweep
    assert outbox.send_due()["sent"] == 1


def test_an_unreachable_mail_server_is_an_error_kept_on_the_alert(alert, lists, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", free_port(), 2  # nobody listens

    assert outbox.send("alert", alert.pk) == outbox.FAILED

    alert.refresh_from_db()
    assert "ConnectionRefusedError" in alert.last_error
    assert alert.send_attempts == 1
