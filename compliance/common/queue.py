"""Queueing background work by the task's name (a leaf: it imports nothing of the project).

Whoever records something to be done in the background (an alert to e-mail, a report to build) queues it
here after the commit, by the name under which compliance.tasks registers the task: queueing never imports
the tasks, so the modules that queue work stay below the jobs that do it. Queueing never fails the caller:
if the broker cannot be reached, the row stays pending and the periodic sweep picks it up.
"""

import logging
from collections.abc import Iterable

from celery import current_app

log = logging.getLogger(__name__)

SEND_OUTBOX_ITEM = "compliance.tasks.send_outbox_item"


def send_task(name: str, *args: object) -> bool:
    """Queue task `name` with `args`; False (and a warning in the log) when the broker is unreachable."""
    try:
        current_app.send_task(name, args=args, retry=False)
    except Exception as error:
        log.warning("Could not queue %s%s (%s); the sweep will queue it again.", name, args, error)
        return False
    return True


def enqueue(kind: str, pks: Iterable[int]) -> None:
    """Queue the sending of each outbox row of `kind` (compliance.delivery.outbox), after the commit that
    recorded them. Stops at the first failure: the broker is down, and the pending sweep sends them all."""
    for pk in pks:
        if not send_task(SEND_OUTBOX_ITEM, kind, pk):
            return
