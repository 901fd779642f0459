"""Queueing an import: the file is judged as a whole at once (its format, its encoding, its columns), so a
hostile or wrong file is refused in the upload's answer; the rows are read by the worker."""

import datetime
import logging
from typing import TYPE_CHECKING

from celery import current_app
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from ..models import Import
from .engine import header_check
from .kinds import CONTRACT_KINDS, KINDS
from .outcome import IMPORT_LEASE
from .reading import FileRefused, Rows

if TYPE_CHECKING:
    from transactions.users import User

log = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 1024**3


def import_file_check(*, kind: str, file: UploadedFile) -> None:
    """Refuse, with a sentence, a file that cannot be imported as `kind` (ValidationError on `file`)."""
    if file.size is not None and file.size > MAX_UPLOAD_BYTES:
        raise ValidationError({"file": _("The file is larger than 1 GB; split it by month.")})
    try:
        rows = Rows(file, file.name)
        header_check(KINDS[kind], rows.header)
    except FileRefused as refused:
        raise ValidationError({"file": str(refused)}) from None
    finally:
        file.seek(0)


def import_create(*, user: "User", kind: str, file: UploadedFile, dry_run: bool = False) -> Import:
    """Keep the upload and queue its run after the commit; the request never waits for the rows."""
    if kind not in CONTRACT_KINDS:
        raise ValidationError({"kind": _("“%(kind)s” is not a kind of import.") % {"kind": kind}})
    if kind not in KINDS:
        raise ValidationError({"kind": _("Importing %(kind)s is not available yet.") % {"kind": kind}})
    model = KINDS[kind].model._meta
    if not user.has_perm(f"{model.app_label}.add_{model.model_name}"):
        raise PermissionDenied(_("Your role may not record %(what)s.") % {"what": model.verbose_name_plural})
    import_file_check(kind=kind, file=file)
    with transaction.atomic():
        imp = Import(kind=kind, dry_run=dry_run, created_by=user, file_name=file.name.rsplit("/", 1)[-1][:200])
        imp.file.save(imp.file_name or "import", file, save=False)
        imp.save()
        transaction.on_commit(lambda: import_enqueue(imp.pk))
    return imp


def import_enqueue(import_id: int) -> None:
    """Queue the run. Never fails the caller: an import left queued is picked up by the imports sweep."""
    try:
        current_app.send_task(
            "compliance.tasks.run_import", args=(import_id,), retry=False
        )  # by name: tasks imports this module
    except Exception as error:
        log.warning("Could not queue import %s (%s); the imports sweep will run it.", import_id, error)


def imports_run_queued(*, older_than: datetime.timedelta = datetime.timedelta(minutes=2)) -> int:
    """The safety net: run every import still queued a while after its upload (its task lost with the
    broker). The claim in import_run makes a run that races the task's harmless."""
    from .engine import import_run

    ran = 0
    queued = Import.objects.filter(status=Import.Status.QUEUED, created_at__lte=timezone.now() - older_than)
    for pk in list(queued.order_by("pk").values_list("pk", flat=True)):
        ran += import_run(pk) is not None
    return ran


def imports_fail_abandoned() -> int:
    """The imports whose worker died while running them (no heartbeat for longer than the lease) are
    failed with a sentence about the file as a whole. Nothing of theirs was written: an import writes its
    rows in one transaction, rolled back with the worker's connection (compliance.imports.outcome)."""
    now = timezone.now()
    cutoff = now - IMPORT_LEASE
    silent = Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, claimed_at__lt=cutoff)
    message = _(
        "The worker running this import stopped before it finished (no sign of life for %(minutes)s minutes). "
        "Nothing was written: an import writes all its rows or none. Upload the file again."
    ) % {"minutes": int(IMPORT_LEASE.total_seconds() // 60)}
    return Import.objects.filter(silent, status=Import.Status.RUNNING).update(
        status=Import.Status.FAILED,
        created=0,
        unchanged=0,
        errors=[{"row": None, "column": "", "message": message}],
        error_count=1,
        finished_at=now,
    )


def import_confirm(*, checked: Import, user: "User") -> Import:
    """Run for real the file of a dry run that found no error (a new import of the same file)."""
    if not checked.dry_run or checked.status != Import.Status.DONE:
        raise ValidationError(_("Only a dry run that found no error can be imported."))
    with checked.file.open("rb") as source:
        upload = UploadedFile(source, name=checked.file_name or "import", size=checked.file.size)
        return import_create(user=user, kind=checked.kind, file=upload)
