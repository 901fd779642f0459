"""A broker that accepts connections and never answers (a paused Redis, a half-open network path) must
not hold requests: an approval answers within a few seconds with its alert left to the pending sweep,
and /healthz answers 503 naming the broker within 5 seconds.

The bounds below are not performance measurements: without the socket timeouts these requests never
answer at all (pytest-timeout ends the test).
"""

import os
import signal
import socket
import threading
import time
from decimal import Decimal

import pytest
from django.conf import settings

from compliance.delivery import outbox
from compliance.models import Alert, AlertRecipient
from tests.processes import RedisServer, broker

# Publishing after the commit gives up after one socket timeout (2 s); the rest is the approval itself.
REQUEST_BOUND_SECONDS = 5


@pytest.fixture
def silent_listener():
    """A TCP listener that accepts every connection and never sends a byte."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                connection, _ = server.accept()
            except OSError:
                continue
            held.append(connection)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"redis://127.0.0.1:{server.getsockname()[1]}/0"
    stop.set()
    thread.join()
    for connection in held:
        connection.close()
    server.close()


@pytest.fixture
def paused_redis(tmp_path):
    """A real redis-server, stopped with SIGSTOP once it is up: connections are accepted by the kernel
    and never answered."""
    server = RedisServer(tmp_path).start()
    os.kill(server.process.pid, signal.SIGSTOP)
    yield server.url
    os.kill(server.process.pid, signal.SIGCONT)
    server.stop()


def approve_across_80_percent(ledger, compliance_api, django_capture_on_commit_callbacks) -> float:
    AlertRecipient.objects.create(threshold=Decimal("80.00"), email="cfo@example.com")
    order = ledger.order("1700000.00", quotes=("1800000.00", "1900000.00"))
    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = compliance_api.post(f"/api/purchase-orders/{order.pk}/approve/")
    elapsed = time.monotonic() - started
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "approved"
    assert len(callbacks) == 1  # the publish was attempted
    return elapsed


@pytest.mark.timeout(60)
def test_an_approval_answers_promptly_when_the_broker_accepts_and_never_answers(
    ledger, compliance_api, silent_listener, django_capture_on_commit_callbacks
):
    with broker(silent_listener, settings.REDIS_BROKER_OPTIONS):
        elapsed = approve_across_80_percent(ledger, compliance_api, django_capture_on_commit_callbacks)

    assert elapsed < REQUEST_BOUND_SECONDS
    alert = Alert.objects.get()
    assert alert.sent_at is None  # not queued: the sweep sends it
    assert outbox.send_due()["sent"] == 1


@pytest.mark.redis
@pytest.mark.timeout(60)
def test_an_approval_answers_promptly_when_redis_is_paused(
    ledger, compliance_api, paused_redis, django_capture_on_commit_callbacks
):
    with broker(paused_redis, settings.REDIS_BROKER_OPTIONS):
        elapsed = approve_across_80_percent(ledger, compliance_api, django_capture_on_commit_callbacks)

    assert elapsed < REQUEST_BOUND_SECONDS
    assert Alert.objects.get().sent_at is None


def healthz_within_5_seconds(client) -> dict:
    started = time.monotonic()
    response = client.get("/healthz")
    assert time.monotonic() - started < 5
    assert response.status_code == 503
    return response.json()


@pytest.mark.timeout(60)
def test_the_health_check_names_a_broker_that_never_answers(client, db, silent_listener):
    with broker(silent_listener, settings.REDIS_BROKER_OPTIONS):
        body = healthz_within_5_seconds(client)

    assert (body["status"], body["database"]) == ("down", "ok")
    assert body["broker"].startswith("down:") and "imeout" in body["broker"]


@pytest.mark.redis
@pytest.mark.timeout(60)
def test_the_health_check_names_a_paused_redis(client, db, paused_redis):
    with broker(paused_redis, settings.REDIS_BROKER_OPTIONS):
        body = healthz_within_5_seconds(client)

    assert body["status"] == "down"
    assert body["broker"].startswith("down:")
