"""Building the auditors' evidence binder (compliance.reports.evidence) in the background.

A request for a large year records an EvidenceBinder (queued) and queues its build after commit; the
worker claims it with one conditional UPDATE (queued -> running), so a duplicate delivery of the task
builds nothing twice, writes the .zip to a temporary file while recording its progress, then keeps it
with its SHA-256. A binder whose task was lost (the broker was down) is built by the daily sweep."""

import datetime
import tempfile
from typing import TYPE_CHECKING

from django.core.files import File
from django.db import transaction
from django.utils import timezone

from compliance.common import queue
from compliance.models import EvidenceBinder
from compliance.reports.evidence import write_evidence_binder
from compliance.reports.issued import sha256_of

if TYPE_CHECKING:
    from transactions.users import User

# A queued binder not started after this long is taken up by the sweep.
STALE_QUEUED = datetime.timedelta(minutes=10)


def evidence_binder_request(*, year: int, user: "User") -> EvidenceBinder:
    binder = EvidenceBinder.objects.create(year=year, requested_by=user)
    transaction.on_commit(lambda: _enqueue(binder.pk))
    return binder


def _enqueue(pk: int) -> None:
    queue.send_task("compliance.tasks.build_evidence_binder", pk)  # the daily sweep builds it if this fails


def evidence_binder_build(*, binder_id: int) -> str:
    claimed = EvidenceBinder.objects.filter(pk=binder_id, status=EvidenceBinder.Status.QUEUED).update(
        status=EvidenceBinder.Status.RUNNING, started_at=timezone.now()
    )
    if not claimed:
        return "skipped"
    binder = EvidenceBinder.objects.get(pk=binder_id)
    mine = EvidenceBinder.objects.filter(pk=binder_id)

    def progress(percent: int) -> None:
        mine.filter(progress__lt=percent).update(progress=percent)

    try:
        with tempfile.TemporaryFile() as output:
            write_evidence_binder(binder.year, output, progress=progress)
            output.seek(0)
            sha256, _size = sha256_of(output)
            output.seek(0)
            binder.file.save(binder.filename, File(output), save=False)
        mine.update(
            file=binder.file.name, sha256=sha256, status=EvidenceBinder.Status.DONE, progress=100,
            finished_at=timezone.now(),
        )  # fmt: skip
        return "done"
    except Exception as error:
        mine.update(status=EvidenceBinder.Status.FAILED, error=f"{type(error).__name__}: {error}"[:2000],
                    finished_at=timezone.now())  # fmt: skip
        raise


def stale_binders_build() -> int:
    """The safety net: build the binders whose task never ran."""
    stale = EvidenceBinder.objects.filter(
        status=EvidenceBinder.Status.QUEUED, requested_at__lt=timezone.now() - STALE_QUEUED
    ).values_list("pk", flat=True)
    return sum(evidence_binder_build(binder_id=pk) == "done" for pk in list(stale))
