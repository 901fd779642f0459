"""A large import through the real thing: the API queues it on a Redis of the test's own and a Celery worker
process runs it, reporting its progress on the way."""

from decimal import Decimal

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from compliance.models import CapTotals, Import
from tests.conftest import client_for
from tests.processes import RedisServer, Worker, broker, wait_for, worker_environment
from transactions.models import Invoice

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
ROWS = 50_000


@pytest.fixture
def redis_server(tmp_path):
    server = RedisServer(tmp_path).start()
    yield server
    server.stop()


@pytest.fixture
def queue(redis_server):
    with broker(redis_server.url, settings.REDIS_BROKER_OPTIONS):
        yield redis_server


@pytest.fixture
def worker(tmp_path, redis_server):
    env = worker_environment(broker_url=redis_server.url, smtp=None, var_dir=tmp_path / "w")
    env["PRIVATE_MEDIA_ROOT"] = str(settings.PRIVATE_MEDIA_ROOT)  # the uploads this process keeps
    process = Worker("importer", env, tmp_path)
    process.start()
    yield process
    process.stop()


def test_a_50000_row_import_reports_progress_and_finishes_on_a_real_worker(ledger, finance_user, queue, worker):
    order = ledger.order("1800000.00", number="PO-BIG")
    # 50,000 invoices of 10.00 to 59.99 in March 2026: 50,000 x 10.00 + (0 + ... + 4,999) cents x 10.
    lines = ["purchase_order,number,invoice_date,amount,currency"]
    lines += [f"{order.number},INV-{n:06d},2026-03-{1 + n % 28:02d},{10 + (n % 5000) // 100}.{n % 100:02d},CNY"
              for n in range(ROWS)]  # fmt: skip
    upload = SimpleUploadedFile("march.csv", ("\n".join(lines) + "\n").encode())

    response = client_for(finance_user).post("/api/imports/", {"kind": "invoices", "file": upload}, format="multipart")

    assert response.status_code == 202
    pk = response.json()["id"]
    seen = set()

    def finished() -> bool:
        imp = Import.objects.get(pk=pk)
        seen.add(imp.progress)
        return imp.status in ("done", "failed")

    wait_for(finished, timeout=300, every=0.02, what="the import to finish")
    imp = Import.objects.get(pk=pk)
    assert (imp.status, imp.rows, imp.created, imp.progress, imp.errors) == ("done", ROWS, ROWS, 100, [])
    assert any(0 < value < 100 for value in seen), seen
    assert Invoice.objects.count() == ROWS
    expected = Decimal(ROWS * 10) + Decimal(sum((n % 5000) for n in range(ROWS))) / 100
    assert CapTotals.objects.get(cap=ledger.caps[1]).actual == expected
