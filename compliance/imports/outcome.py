"""What an import run reports as it goes (its progress and its lease, written from another connection) and
at its end (rows, created, unchanged, errors): shared by the generic path (engine) and the set-based one
(bulk).

The lease: a running import writes its last sign of life (`heartbeat_at`) every HEARTBEAT from a thread of
its own, and with its progress. A worker that dies (killed, out of memory, the machine lost) stops writing
it, and the imports sweep fails a run silent for longer than IMPORT_LEASE. Nothing was written by such a
run: an import writes its rows in one transaction, which PostgreSQL rolls back when the connection goes.
A run the sweep failed while it was only slow finds out at its end: its outcome is recorded in the
transaction of its rows, on condition that the import is still running, or that transaction is rolled
back (LeaseLost)."""

import concurrent.futures
import datetime
import logging
import threading
from dataclasses import dataclass, field
from typing import Any

from django.db import DatabaseError, connection, connections
from django.utils import timezone

from ..models import Import

log = logging.getLogger(__name__)

MAX_ERRORS = 1000  # kept on the import; the count says how many there were in all
HEARTBEAT = datetime.timedelta(seconds=30)
IMPORT_LEASE = datetime.timedelta(minutes=5)  # ten heartbeats missed


class LeaseLost(Exception):
    """The imports sweep failed this run while it was still going (taken for dead): it must write nothing."""


@dataclass
class Outcome:
    rows: int = 0
    created: int = 0
    unchanged: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    error_count: int = 0
    recorded: bool = False

    def error(self, row: int | None, column: str, message: str) -> None:
        """A row's error; `row` None for an error about the file as a whole (its format, its encoding)."""
        self.error_count += 1
        if len(self.errors) < MAX_ERRORS:
            self.errors.append({"row": row, "column": column, "message": str(message)})


def outcome_record(import_id: int, outcome: Outcome, *, with_rows: bool = False) -> None:
    """Keep the outcome on the import. `with_rows`: called in the transaction that writes the rows, so that
    the rows and `done` are committed together, and only if the sweep has not failed the run meanwhile."""
    failed = bool(outcome.error_count)
    imports = Import.objects.filter(pk=import_id)
    if with_rows:
        imports = imports.filter(status=Import.Status.RUNNING)
    now = timezone.now()
    updated = imports.update(
        status=Import.Status.FAILED if failed else Import.Status.DONE,
        rows=outcome.rows,
        created=0 if failed else outcome.created,
        unchanged=0 if failed else outcome.unchanged,
        errors=outcome.errors,
        error_count=outcome.error_count,
        progress=100,
        finished_at=now,
        heartbeat_at=now,
    )
    if with_rows and not updated:
        raise LeaseLost
    outcome.recorded = True


class Progress:
    """Writes the import's progress and heartbeat from another connection (threads of its own), so that
    they are visible while the import's transaction is still open. SQLite allows one writer at a time:
    there the progress is only written between phases and the heartbeat at the claim."""

    def __init__(self, import_id: int) -> None:
        self.import_id = import_id
        self.last = -1
        self.pool = concurrent.futures.ThreadPoolExecutor(max_workers=1) if connection.vendor == "postgresql" else None
        self.pending: concurrent.futures.Future | None = None
        self.stopped = threading.Event()
        self.beat = None
        if self.pool is not None:
            self.beat = threading.Thread(target=self._beat, name=f"import-{import_id}-heartbeat", daemon=True)
            self.beat.start()

    def _beat(self) -> None:
        while not self.stopped.wait(HEARTBEAT.total_seconds()):
            try:
                Import.objects.filter(pk=self.import_id, status=Import.Status.RUNNING).update(
                    heartbeat_at=timezone.now()
                )
            except DatabaseError as error:  # the next beat tries again; the lease allows ten to fail
                log.warning("Import %s: heartbeat not written (%s)", self.import_id, error)
            finally:
                connections.close_all()

    def _write(self, percent: int) -> None:
        try:
            Import.objects.filter(pk=self.import_id).update(progress=percent, heartbeat_at=timezone.now())
        finally:
            connections.close_all()

    def __call__(self, percent: float, *, outside_transaction: bool = False) -> None:
        percent = max(0, min(99, int(percent)))
        if percent == self.last:
            return
        if self.pool is None:
            if outside_transaction:
                Import.objects.filter(pk=self.import_id).update(progress=percent, heartbeat_at=timezone.now())
                self.last = percent
            return
        if self.pending is not None and not self.pending.done():
            return  # never queue behind a slow write: the next call will catch up
        self.last = percent
        self.pending = self.pool.submit(self._write, percent)

    def close(self) -> None:
        self.stopped.set()
        if self.pool is not None:
            self.pool.shutdown(wait=True)
        if self.beat is not None:
            self.beat.join()
