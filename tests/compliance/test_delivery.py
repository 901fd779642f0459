"""Alert e-mails through the real thing, under faults: a Redis server, Celery worker processes and an
SMTP server (aiosmtpd) on localhost. Approvals run in this process; its commit queues the e-mail;
the workers, on the same PostgreSQL test database, send it.
"""

import collections
from decimal import Decimal

import pytest
import redis
from django.conf import settings
from django.utils import timezone

from compliance.caps.approval import purchase_order_approve
from compliance.models import Alert, AlertRecipient, Delivery, DistributionList
from compliance.rules.selectors import caps_with_utilisation
from compliance.tasks import send_outbox_item, send_pending
from tests.conftest import client_for
from tests.processes import RedisServer, SmtpServer, Worker, broker, wait_for, worker_environment
from transactions.money import format_money

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
RECIPIENTS = ["head.of.finance@example.com", "cfo@example.com", "ceo@example.com"]


@pytest.fixture
def smtp():
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture
def redis_server(tmp_path):
    server = RedisServer(tmp_path).start()
    yield server
    server.stop()


@pytest.fixture
def queue(redis_server):
    """This process queues its tasks on the test's Redis."""
    with broker(redis_server.url, settings.REDIS_BROKER_OPTIONS):
        yield redis_server


@pytest.fixture
def workers(tmp_path, redis_server, smtp):
    started: list[Worker] = []

    def start(name: str = "worker1") -> Worker:
        env = worker_environment(broker_url=redis_server.url, smtp=smtp, var_dir=tmp_path / name)
        worker = Worker(name, env, tmp_path).start()
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


@pytest.fixture
def recipients(db):
    """80%: two individual recipients and a distribution list with a third address."""
    AlertRecipient.objects.create(threshold=Decimal("80.00"), email=RECIPIENTS[0], name="Head of finance")
    AlertRecipient.objects.create(threshold=Decimal("80.00"), email=RECIPIENTS[1])
    management = DistributionList.objects.create(name="Senior management")
    management.members.create(email=RECIPIENTS[2])
    management.thresholds.set(management.thresholds.model.objects.filter(percent=Decimal("80.00")))
    return RECIPIENTS


def cross_80_percent(ledger, compliance_user):
    """Approve an order that takes the 2026 cap (2,000,000.00) to 85%: one committed alert."""
    order = ledger.order("1700000.00", quotes=("1800000.00", "1900000.00"))
    purchase_order_approve(order_id=order.pk, user=compliance_user)
    return Alert.objects.get()


def sent(alert: Alert) -> bool:
    alert.refresh_from_db()
    return alert.sent_at is not None


def per_recipient(smtp: SmtpServer) -> dict[str, int]:
    return collections.Counter(address for recipients, _ in smtp.envelopes for address in recipients)


def test_crossing_80_percent_sends_one_email_to_each_recipient_with_the_figures(
    ledger, compliance_user, recipients, smtp, queue, workers
):
    workers()

    alert = cross_80_percent(ledger, compliance_user)

    wait_for(lambda: sent(alert), what="the alert to be sent")
    assert per_recipient(smtp) == {address: 1 for address in recipients}
    [(_, message)] = smtp.envelopes
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    cap = caps_with_utilisation().get(pk=alert.cap_id)
    for figure in (
        format_money(cap.amount, "CNY"), format_money(cap.committed, "CNY"), format_money(cap.actual, "CNY"),
        format_money(cap.remaining, "CNY"), f"{cap.used_pct}%",
    ):  # fmt: skip
        assert figure in text and figure in html
    assert "年度上限警示" in message["Subject"]
    assert "committed reached 80.00%" in message["Subject"]
    assert "Xiaomi Group" in text and "IDC services" in text and "2026-01-01 to 2026-12-31" in text
    assert f"https://cct.example.com/admin/compliance/annualcap/{cap.pk}/change/" in text


def test_a_refusing_mail_server_leaves_the_alert_pending_and_visible_until_it_accepts(
    ledger, compliance_user, recipients, smtp, queue, workers
):
    smtp.refuse = True
    workers()

    alert = cross_80_percent(ledger, compliance_user)

    wait_for(lambda: Alert.objects.get(pk=alert.pk).send_attempts >= 1, what="a failed attempt")
    alert.refresh_from_db()
    assert alert.sent_at is None
    assert "451" in alert.last_error
    shown = client_for(compliance_user).get("/api/alerts/").json()["results"][0]
    assert shown["sent_at"] is None and "451" in shown["last_error"]
    assert smtp.envelopes == []

    smtp.refuse = False
    wait_for(lambda: Alert.objects.get(pk=alert.pk).next_attempt_at <= timezone.now(), what="the backoff to pass")
    send_pending.apply_async()  # the minute-by-minute sweep, run now

    wait_for(lambda: sent(alert), what="the alert to be sent after recovery")
    assert per_recipient(smtp) == {address: 1 for address in recipients}


def test_a_recipient_refused_for_a_while_gets_the_alert_once_and_nobody_gets_it_twice(
    ledger, compliance_user, recipients, smtp, queue, workers
):
    busy = recipients[1]
    smtp.refuse_recipients[busy] = "451 4.2.1 Mailbox busy, try again later"
    workers()

    alert = cross_80_percent(ledger, compliance_user)

    wait_for(lambda: Alert.objects.get(pk=alert.pk).send_attempts >= 1, what="the first attempt")
    alert.refresh_from_db()
    assert alert.sent_at is None  # not sent until every recipient has it
    assert busy in alert.last_error and "451" in alert.last_error
    assert per_recipient(smtp) == {recipients[0]: 1, recipients[2]: 1}
    shown = client_for(compliance_user).get("/api/alerts/").json()["results"][0]
    by_email = {delivery["email"]: delivery for delivery in shown["deliveries"]}
    assert set(by_email) == set(recipients)
    assert by_email[busy]["sent_at"] is None and "451 4.2.1 Mailbox busy" in by_email[busy]["last_error"]
    assert all(by_email[address]["sent_at"] and not by_email[address]["last_error"] for address in recipients[::2])

    # Two sweeps while it is still refused, then it accepts.
    for _ in range(2):
        attempts = alert.deliveries.get(email=busy).send_attempts
        wait_for(lambda: Alert.objects.get(pk=alert.pk).next_attempt_at <= timezone.now(), what="the backoff")
        send_pending.apply_async()
        wait_for(lambda a=attempts: alert.deliveries.get(email=busy).send_attempts > a, what="another attempt")
    del smtp.refuse_recipients[busy]
    wait_for(lambda: Alert.objects.get(pk=alert.pk).next_attempt_at <= timezone.now(), what="the backoff")
    send_pending.apply_async()

    wait_for(lambda: sent(alert), what="the alert to be sent to the last recipient")
    assert per_recipient(smtp) == {address: 1 for address in recipients}
    assert alert.last_error == ""


def test_a_recipient_refused_for_good_stays_pending_with_its_error_and_the_others_have_it_once(
    ledger, compliance_user, recipients, smtp, queue, workers
):
    unknown = recipients[2]
    smtp.refuse_recipients[unknown] = "550 5.1.1 No such user here"
    workers()

    alert = cross_80_percent(ledger, compliance_user)
    wait_for(lambda: Alert.objects.get(pk=alert.pk).send_attempts >= 1, what="the first attempt")
    wait_for(lambda: Alert.objects.get(pk=alert.pk).next_attempt_at <= timezone.now(), what="the backoff")
    send_pending.apply_async()
    wait_for(lambda: alert.deliveries.get(email=unknown).send_attempts >= 2, what="the retry")

    alert.refresh_from_db()
    assert alert.sent_at is None
    delivery = alert.deliveries.get(email=unknown)
    assert delivery.sent_at is None and "550 5.1.1 No such user here" in delivery.last_error
    assert per_recipient(smtp) == {recipients[0]: 1, recipients[1]: 1}


def test_an_approval_while_redis_is_down_succeeds_and_the_alert_is_sent_once_redis_is_back(
    ledger, compliance_user, recipients, smtp, queue, workers
):
    queue.stop()

    alert = cross_80_percent(ledger, compliance_user)

    assert alert.triggered_by.status == "approved"
    assert alert.sent_at is None
    queue.start()
    workers()
    send_pending.apply_async()

    wait_for(lambda: sent(alert), what="the alert to be sent once Redis is back")
    assert per_recipient(smtp) == {address: 1 for address in recipients}


def test_a_worker_killed_while_sending_still_gets_the_alert_out_at_most_twice(
    ledger, compliance_user, recipients, smtp, queue, workers, record_property, capsys
):
    smtp.hold_seconds = 5  # the server has the message but has not answered yet
    first = workers("worker1")

    alert = cross_80_percent(ledger, compliance_user)
    wait_for(smtp.received.is_set, what="the first worker to hand the message over")
    first.kill()
    smtp.hold_seconds = 0
    workers("worker2")
    wait_for(lambda: Alert.objects.get(pk=alert.pk).claimed_until is not None, what="the dead worker's claim")
    alert.refresh_from_db()
    wait_for(lambda: alert.claimed_until < timezone.now(), what="the dead worker's lease to run out")
    # Its claims on each recipient's delivery were taken a moment after the alert's: they run out a moment later.
    wait_for(
        lambda: not Delivery.objects.filter(alert=alert, claimed_until__gte=timezone.now()).exists(),
        what="the dead worker's leases on the deliveries to run out",
    )
    send_pending.apply_async()

    wait_for(lambda: sent(alert), timeout=60, what="the alert to be sent by the second worker")
    deliveries = per_recipient(smtp)
    assert set(deliveries) == set(recipients)
    assert set(deliveries.values()) <= {1, 2}
    case = (
        "one duplicate: the server had the message when the worker died, so the second worker sent it again"
        if max(deliveries.values()) == 2
        else "no duplicate: the worker died before the server had the message"
    )
    record_property("case", case)
    with capsys.disabled():
        print(f"\n[worker killed while sending] {case}")


def test_the_same_task_delivered_twice_and_two_workers_sweeping_at_once_send_one_email(
    ledger, compliance_user, recipients, smtp, queue, workers
):
    smtp.hold_seconds = 1  # long enough for the two workers to overlap
    alert = cross_80_percent(ledger, compliance_user)  # queues one task; nobody consumes it yet
    send_outbox_item.apply_async(("alert", alert.pk))  # the same task, delivered again
    send_pending.apply_async()  # two sweeps at once
    send_pending.apply_async()

    workers("worker1")
    workers("worker2")

    wait_for(lambda: sent(alert), what="the alert to be sent")
    wait_for(lambda: queue_is_empty(queue), what="every queued task to be consumed")
    assert per_recipient(smtp) == {address: 1 for address in recipients}


def queue_is_empty(redis_server: RedisServer) -> bool:
    client = redis.Redis.from_url(redis_server.url)
    return client.llen("celery") == 0 and not client.hlen("unacked")


def test_a_reader_of_simplified_chinese_gets_the_alert_with_its_chinese_in_simplified(
    ledger, compliance_user, recipients, smtp, queue, workers
):
    from accounts.models import Preference
    from tests.conftest import make_user

    reader = make_user("mainland.finance", "finance")
    reader.email = RECIPIENTS[2].upper()  # the list's address, written in another case
    reader.save()
    Preference.objects.create(user=reader, language="zh-hans")
    workers()

    alert = cross_80_percent(ledger, compliance_user)

    wait_for(lambda: sent(alert), what="the alert to be sent")
    assert per_recipient(smtp) == {address: 1 for address in recipients}
    [simplified] = smtp.deliveries_to(RECIPIENTS[2])
    [traditional] = smtp.deliveries_to(RECIPIENTS[0])
    assert simplified is not traditional
    text = simplified.get_body(("plain",)).get_content()
    html = simplified.get_body(("html",)).get_content()
    assert "年度上限警示" in simplified["Subject"] and "committed reached 80.00%" in simplified["Subject"]
    assert "关连人士" in text and "内部监控" in text and "承诺金额" in text and "关连人士" in html
    assert not set("關連監諾額報") & set(simplified["Subject"] + text + html)
    assert "關連人士" in traditional.get_body(("plain",)).get_content()
