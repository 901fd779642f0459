"""Recording a mailing once per kind and period: the one way every scheduled or reminding e-mail is made.

The first call for a (kind, period) records the Mailing with its subject and body, saves it and queues its
e-mail after the commit; any later call (a retried job, a second worker, the next day's run) finds it and
changes nothing. The unique constraint on (kind, period) makes that hold under concurrency as well.
"""

from collections.abc import Callable

from django.db import transaction
from django.template.loader import render_to_string

from compliance.common import queue
from compliance.models import Mailing


def mailing_once(
    kind: str, period: str, compose: Callable[[Mailing], None] | None = None, **fields: str
) -> tuple[Mailing, bool]:
    """The Mailing of `kind` for `period`, and whether this call created it. A new one gets `fields`, then
    `compose(mailing)` fills what is costly to compute or needs the saved row (an attachment, a record
    pointing at it); the whole is one transaction, and the e-mail is queued once it commits."""
    with transaction.atomic():
        mailing, created = Mailing.objects.get_or_create(kind=kind, period=period, defaults=fields)
        if created:
            if compose is not None:
                compose(mailing)
                mailing.save()
            transaction.on_commit(lambda: queue.enqueue("mailing", [mailing.pk]))
    return mailing, created


def render_body(mailing: Mailing, template: str, context: dict) -> None:
    """The plain and HTML bodies from compliance/mail/<template>.txt and .html."""
    mailing.body = render_to_string(f"compliance/mail/{template}.txt", context).strip() + "\n"
    mailing.body_html = render_to_string(f"compliance/mail/{template}.html", context)
