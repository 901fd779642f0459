"""Running an import: claim it, read the file, check every row, write all or nothing.

The generic path checks each row and records it through its kind's service (the admin's and the API's
rules, alerts and breaches included) inside one transaction, rolled back when any row is refused or
when the import is a dry run. Invoices and sales invoices on PostgreSQL take the set-based path
(compliance.imports.bulk), and credit notes its sibling (compliance.imports.credits): the work per row is
done by a handful of statements over the whole file, not by statements per row.
"""

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from transactions.audit import audit_reason
from transactions.errors import Refusal

from ..models import Import
from .kinds import KINDS, CellError, Kind, References
from .outcome import MAX_ERRORS, LeaseLost, Outcome, Progress, outcome_record  # noqa: F401 - MAX_ERRORS re-exported
from .reading import FileRefused, Rows

log = logging.getLogger(__name__)

PROGRESS_EVERY = 2000  # rows


def header_check(kind: Kind, header: list[str]) -> None:
    unknown = [name for name in header if name and name not in kind.names]
    if unknown:
        raise FileRefused(
            _("Unknown column %(columns)s: the columns of %(kind)s are %(names)s.")
            % {"columns": ", ".join(unknown[:5]), "kind": kind.name, "names": ", ".join(kind.names)}
        )
    missing = [column.name for column in kind.columns if column.required and column.name not in header]
    if missing:
        raise FileRefused(_("The first row lacks the column(s) %(columns)s.") % {"columns": ", ".join(missing)})
    repeated = sorted({name for name in header if name and header.count(name) > 1})
    if repeated:
        raise FileRefused(_("The column(s) %(columns)s appear twice.") % {"columns": ", ".join(repeated)})


def parse_row(kind: Kind, header: list[str], number: int, cells: list[str], refs: References, outcome: Outcome):
    """The row's values by model field, or None after recording its errors (by column)."""
    if len(cells) > len(header) and any(cell.strip() for cell in cells[len(header) :]):
        outcome.error(number, "", _("The row has more cells than the first row has columns."))
        return None
    given = dict(zip(header, cells, strict=False))
    values: dict[str, Any] = {}
    failed = False
    for column in kind.columns:
        raw = given.get(column.name, "")
        if not raw.strip():
            if column.required:
                outcome.error(number, column.name, _("This column is required."))
                failed = True
            else:
                # An optional column left out or blank takes its default, so that the row compares with
                # the stored document as recorded (a second import of the same file is `unchanged`).
                values[column.target] = column.parse("", refs)
            continue
        try:
            values[column.target] = column.parse(raw, refs)
        except CellError as error:
            outcome.error(number, column.name, str(error))
            failed = True
    return None if failed else values


def _messages(error: ValidationError) -> list[tuple[str, str]]:
    if hasattr(error, "error_dict"):
        return [
            (name if name != "__all__" else "", message)
            for name, msgs in error.message_dict.items()
            for message in msgs
        ]
    return [("", message) for message in error.messages]


REFUSAL_COLUMNS = {"no_exchange_rate": "currency"}


def generic_run(imp: Import, kind: Kind, rows: Rows, progress: Progress) -> Outcome:
    outcome = Outcome()
    refs = References()
    seen: dict[tuple, int] = {}
    user = imp.created_by
    with transaction.atomic(), audit_reason(f"import {imp.pk} ({kind.name})"):
        for number, cells in rows:
            outcome.rows += 1
            if outcome.rows % PROGRESS_EVERY == 0:
                progress(95 * rows.done())
            values = parse_row(kind, rows.header, number, cells, refs, outcome)
            if values is None:
                continue
            values.setdefault("reference", "") if "reference" in kind.names else None
            key = tuple(getattr(values.get(name), "pk", values.get(name)) for name in kind.key)
            if key in seen:
                repeated = _("The same document is on row %(row)s.") % {"row": seen[key]}
                outcome.error(number, kind.column_of(kind.key[-1]), repeated)
                continue
            seen[key] = number
            stored = kind.stored(values)
            if stored is not None:
                differences = kind.differences(stored, values)
                if differences:
                    outcome.error(
                        number,
                        "number" if "number" in kind.key else differences[0],
                        _("%(document)s is already recorded with other values (%(fields)s).")
                        % {"document": stored, "fields": ", ".join(differences)},
                    )
                else:
                    outcome.unchanged += 1
                continue
            try:
                kind.record(user=user, **values)
            except ValidationError as error:
                for column, message in _messages(error):
                    outcome.error(number, kind.column_of(column) if column else column, message)
                continue
            except Refusal as refusal:
                outcome.error(number, REFUSAL_COLUMNS.get(refusal.code, ""), refusal.detail)
                continue
            outcome.created += 1
        if outcome.error_count or imp.dry_run:
            transaction.set_rollback(True)
        else:
            outcome_record(imp.pk, outcome, with_rows=True)
    return outcome


def import_rows(imp: Import, progress: Progress) -> Outcome:
    """Read the import's file and check (and, unless a dry run, write) its rows by its kind's path. A
    file that cannot be read as a whole is an error about the file: its row is None."""
    outcome = Outcome()
    try:
        kind = KINDS.get(imp.kind)
        if kind is None:
            raise FileRefused(_("Importing %(kind)s is not available yet.") % {"kind": imp.kind})
        with imp.file.open("rb") as fileobj:
            rows = Rows(fileobj, imp.file_name or imp.file.name)
            header_check(kind, rows.header)
            if connection.vendor == "postgresql" and getattr(settings, "CCT_IMPORTS_BULK", True):
                if kind.name in ("invoices", "sales_invoices"):
                    from .bulk import invoices_run

                    return invoices_run(imp, rows, progress, kind)
                if kind.name == "credit_notes":
                    from .credits import credit_notes_run

                    return credit_notes_run(imp, rows, progress, kind)
            return generic_run(imp, kind, rows, progress)
    except FileRefused as refused:
        outcome.error(refused.row, "", str(refused))
    return outcome


def import_run(import_id: int) -> Import | None:
    """Run a queued import once: claimed with a conditional update, so a task delivered twice runs it
    once. Returns the import, or None when another run has it."""
    now = timezone.now()
    claimed = Import.objects.filter(pk=import_id, status=Import.Status.QUEUED).update(
        status=Import.Status.RUNNING, started_at=now, claimed_at=now, heartbeat_at=now
    )
    if not claimed:
        return None
    imp = Import.objects.select_related("created_by").get(pk=import_id)
    progress = Progress(imp.pk)
    outcome = Outcome()
    try:
        outcome = import_rows(imp, progress)
    except LeaseLost:
        log.warning("Import %s was failed by the imports sweep while it ran; its rows were rolled back", import_id)
        outcome.recorded = True  # the sweep's sentence stays
    except Exception:
        log.exception("Import %s failed", import_id)
        outcome.error(None, "", _("The import stopped on an unexpected error; nothing was written."))
    finally:
        progress.close()
    if not outcome.recorded:
        outcome_record(imp.pk, outcome)
    imp.refresh_from_db()
    return imp
