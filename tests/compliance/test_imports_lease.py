"""An import's lease and its errors about the file as a whole (compliance.imports.outcome): a run whose
worker died is failed by the imports sweep with a sentence, and writes nothing; a file that cannot be read
is reported as about the file (row null in the API, "file" in the admin), not as a row."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from compliance.imports.engine import import_rows, import_run
from compliance.imports.outcome import LeaseLost, Progress
from compliance.imports.services import import_create
from compliance.models import Import, LedgerEntry
from compliance.tasks import sweep_imports
from tests.conftest import client_for
from transactions.models import Invoice

pytestmark = pytest.mark.django_db

HEADER = "purchase_order,number,invoice_date,amount,currency"


@pytest.fixture(autouse=True, params=["set-based", "row by row"])
def path(request, settings):
    settings.CCT_IMPORTS_BULK = request.param == "set-based"
    return request.param


@pytest.fixture
def order(ledger):
    return ledger.order("1800000.00", quotes=("1900000.00", "1950000.00"), number="PO-2026-001")


def upload(*rows: str, body: bytes | None = None) -> SimpleUploadedFile:
    content = body if body is not None else "\n".join([HEADER, *rows, ""]).encode("utf-8")
    return SimpleUploadedFile("rows.csv", content, content_type="text/csv")


def running(user, *, heartbeat_minutes_ago: float) -> Import:
    """An import its worker claimed and last heard from `heartbeat_minutes_ago`."""
    imp = import_create(user=user, kind="invoices", file=upload("PO-2026-001,INV-1,2026-03-10,1.00,CNY"))
    then = timezone.now() - datetime.timedelta(minutes=heartbeat_minutes_ago)
    Import.objects.filter(pk=imp.pk).update(status="running", claimed_at=then, started_at=then, heartbeat_at=then)
    return imp


# --- The lease ------------------------------------------------------------------------------------------


def test_the_sweep_fails_a_run_whose_worker_went_silent_and_leaves_a_live_one_running(ledger, order, finance_user):
    dead = running(finance_user, heartbeat_minutes_ago=6)
    alive = running(finance_user, heartbeat_minutes_ago=1)

    sweep_imports()

    dead.refresh_from_db()
    assert (dead.status, dead.created, dead.error_count) == ("failed", 0, 1)
    assert dead.errors[0]["row"] is None
    assert dead.errors[0]["message"].startswith("The worker running this import stopped before it finished")
    assert "Nothing was written" in dead.errors[0]["message"]
    assert Import.objects.get(pk=alive.pk).status == "running"


def test_the_api_and_the_admin_show_the_run_the_sweep_failed(client, ledger, order, finance_user):
    dead = running(finance_user, heartbeat_minutes_ago=10)
    sweep_imports()

    body = client_for(finance_user).get(f"/api/imports/{dead.pk}/").json()
    client.force_login(finance_user)
    page = client.get(f"/admin/compliance/import/{dead.pk}/change/").content.decode()

    assert (body["status"], body["errors"][0]["row"], body["errors"][0]["column"]) == ("failed", None, "")
    assert "<td>file</td><td>-</td><td>The worker running this import stopped" in page


def test_a_run_the_sweep_failed_while_it_was_only_slow_writes_nothing(ledger, order, finance_user):
    imp = running(finance_user, heartbeat_minutes_ago=6)
    sweep_imports()  # taken for dead; its worker is in fact still reading the file
    progress = Progress(imp.pk)

    try:
        with pytest.raises(LeaseLost):
            import_rows(Import.objects.get(pk=imp.pk), progress)
    finally:
        progress.close()

    assert not Invoice.objects.exists()
    assert not LedgerEntry.objects.filter(basis="actual").exists()
    assert Import.objects.get(pk=imp.pk).errors[0]["message"].startswith("The worker running this import stopped")


def test_a_run_keeps_its_lease_fresh_and_a_finished_one_is_never_swept(ledger, order, finance_user):
    imp = import_create(user=finance_user, kind="invoices", file=upload("PO-2026-001,INV-1,2026-03-10,1.00,CNY"))
    before = timezone.now()

    done = import_run(imp.pk)
    Import.objects.filter(pk=imp.pk).update(heartbeat_at=before - datetime.timedelta(hours=1))
    sweep_imports()

    assert done.heartbeat_at >= before
    assert Import.objects.get(pk=imp.pk).status == "done"
    assert Invoice.objects.get().number == "INV-1"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("path", ["set-based"], indirect=True)  # the heartbeat is the same on both paths
def test_a_running_import_beats_from_its_own_connection_while_its_transaction_is_open(path, finance_user, monkeypatch):
    import time

    from django.db import transaction

    from compliance.imports import outcome

    monkeypatch.setattr(outcome, "HEARTBEAT", datetime.timedelta(milliseconds=50))
    imp = running(finance_user, heartbeat_minutes_ago=60)
    stale = Import.objects.get(pk=imp.pk).heartbeat_at

    progress = Progress(imp.pk)
    try:
        with transaction.atomic():  # as while an import's rows are written: the beat needs nothing from it
            for _ in range(100):
                if Import.objects.filter(pk=imp.pk, heartbeat_at__gt=stale).exists():
                    break
                time.sleep(0.05)
    finally:
        progress.close()

    assert Import.objects.get(pk=imp.pk).heartbeat_at > stale


# --- Errors about the file ------------------------------------------------------------------------------


def test_a_file_that_is_not_utf8_past_its_first_rows_is_an_error_about_the_file(client, ledger, order, finance_user):
    # The upload's check reads the first rows (a few kilobytes); the worker finds the Latin-1 byte further on.
    good = "".join(f"PO-2026-001,INV-{n},2026-03-10,1.00,CNY\n" for n in range(500))
    body = f"{HEADER}\n{good}PO-2026-001,INV-\xe9,2026-03-10,1.00,CNY\n"
    imp = import_run(import_create(user=finance_user, kind="invoices", file=upload(body=body.encode("latin-1"))).pk)

    api = client_for(finance_user).get(f"/api/imports/{imp.pk}/").json()
    client.force_login(finance_user)
    page = client.get(f"/admin/compliance/import/{imp.pk}/change/").content.decode()

    assert api["status"] == "failed"
    assert [(e["row"], e["column"]) for e in api["errors"]] == [(None, "")]
    assert "not UTF-8 text" in api["errors"][0]["message"]
    assert "<td>file</td><td>-</td><td>The file is not UTF-8 text." in page
    assert not Invoice.objects.exists()


def test_a_file_whose_columns_changed_after_the_upload_is_an_error_about_the_file(ledger, order, finance_user):
    imp = import_create(user=finance_user, kind="invoices", file=upload("PO-2026-001,INV-1,2026-03-10,1.00,CNY"))
    with imp.file.open("wb") as stored:  # the kept file no longer has the column it had when checked
        stored.write(b"purchase_order,number,invoice_date,amount\nPO-2026-001,INV-1,2026-03-10,1.00\n")

    imp = import_run(imp.pk)

    assert imp.errors == [{"row": None, "column": "", "message": "The first row lacks the column(s) currency."}]


def test_a_csv_record_that_cannot_be_parsed_is_an_error_of_its_row_not_of_the_file(path, ledger, order, finance_user):
    body = f'{HEADER}\nPO-2026-001,INV-1,2026-03-10,1.00,CNY\nPO-2026-001,"INV-2,2026-03-10,1.00,CNY\n'
    imp = import_run(import_create(user=finance_user, kind="invoices", file=upload(body=body.encode())).pk)

    # The quote opened on row 3 is never closed. PostgreSQL's COPY gives up at the end of the file (row 4)
    # and says so; Python's reader takes the rest of the file as one cell of row 3, which lacks its columns.
    assert imp.status == "failed"
    if path == "set-based":
        assert [(e["row"], e["column"]) for e in imp.errors] == [(4, "")]
        assert imp.errors[0]["message"].startswith("Row 4 is not valid CSV: unterminated CSV quoted field")
    else:
        assert {e["row"] for e in imp.errors} == {3}
    assert not Invoice.objects.exists()
