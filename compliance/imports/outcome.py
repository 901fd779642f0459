"""What an import run reports as it goes (its progress, written from another connection) and at its end
(rows, created, unchanged, errors): shared by the generic path (engine) and the set-based one (bulk)."""

import concurrent.futures
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, connections

from ..models import Import

MAX_ERRORS = 1000  # kept on the import; the count says how many there were in all


@dataclass
class Outcome:
    rows: int = 0
    created: int = 0
    unchanged: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    error_count: int = 0

    def error(self, row: int, column: str, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_ERRORS:
            self.errors.append({"row": row, "column": column, "message": str(message)})


class Progress:
    """Writes the import's progress from another connection (its own thread), so that it is visible
    while the import's transaction is still open. SQLite allows one writer at a time: there the
    progress is only written between phases."""

    def __init__(self, import_id: int) -> None:
        self.import_id = import_id
        self.last = -1
        self.pool = concurrent.futures.ThreadPoolExecutor(max_workers=1) if connection.vendor == "postgresql" else None
        self.pending: concurrent.futures.Future | None = None

    def _write(self, percent: int) -> None:
        try:
            Import.objects.filter(pk=self.import_id).update(progress=percent)
        finally:
            connections.close_all()

    def __call__(self, percent: float, *, outside_transaction: bool = False) -> None:
        percent = max(0, min(99, int(percent)))
        if percent == self.last:
            return
        if self.pool is None:
            if outside_transaction:
                Import.objects.filter(pk=self.import_id).update(progress=percent)
                self.last = percent
            return
        if self.pending is not None and not self.pending.done():
            return  # never queue behind a slow write: the next call will catch up
        self.last = percent
        self.pending = self.pool.submit(self._write, percent)

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True)
