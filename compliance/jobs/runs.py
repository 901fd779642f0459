"""The bookkeeping of periodic jobs: each run recorded with its start, end and outcome (JobRun)."""

import contextlib
from collections.abc import Iterator

from django.utils import timezone

from compliance.models import (
    JobRun,
)


@contextlib.contextmanager
def job_run(job: str) -> Iterator[JobRun]:
    """Record a run of a scheduled job, its outcome and summary, for the admin's job page."""
    run = JobRun.objects.create(job=job, started_at=timezone.now())
    try:
        yield run
    except Exception as error:
        run.succeeded, run.summary = False, f"{type(error).__name__}: {error}"[:2000]
        raise
    else:
        run.succeeded = True
    finally:
        run.finished_at = timezone.now()
        run.save(update_fields=["succeeded", "summary", "finished_at"])
