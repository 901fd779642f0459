"""Invoices and sales invoices on PostgreSQL, set-based: the same rules as recording invoices one by one
(compliance.caps.documents.invoice_save), as a few statements over the whole file. The two kinds share the
invoices table; a kind takes only orders of its own direction (a sales invoice names a sales order).

1. The rows go into a temporary staging table with COPY, as text: a CSV file is handed to COPY as it is
   (PostgreSQL parses it; no Python per row), a workbook's rows are streamed from openpyxl.
2. One pass types every cell (required, date, amount, currency) into import_cells; one statement then
   joins what the database knows into import_typed: the order named by number or id, the same number
   twice in the file, an invoice already recorded (the same values: unchanged; other values: an error),
   the day's exchange rate, and the cap period of the invoice date. One more statement lists the errors.
3. Any error: nothing is written and the first errors are kept. Otherwise, in the same transaction: the
   orders, then their categories, then the caps' totals are locked in the same order as every other act
   (compliance.caps.documents, compliance.caps.ledger); the new rows take their ids from the invoices' sequence
   (import_new), and the invoices, their history rows, the ledger entries, the orders' flag
   `invoiced_before_approval` and the caps' running totals are each written by one INSERT ... SELECT or
   UPDATE. The audit triggers are statement-level: one INSERT ... SELECT into the trail per statement.
   compliance.ledger.cap_figures_changed then records the alerts and breaches, as every posting does.
   The foreign keys stay as they are (checked at commit, row by row: see the README's benchmark).
"""

import re

import psycopg
from django.db import DatabaseError, connection, transaction
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from transactions.api import direction_message
from transactions.currencies import CURRENCIES
from transactions.models import SALE, Invoice, PurchaseOrder

from ..caps.ledger import cap_figures_changed, totals_lock
from ..common.dates import CHINESE
from ..models import Import
from .kinds import KINDS, Kind
from .outcome import MAX_ERRORS, Outcome, Progress, outcome_record
from .reading import FileRefused, Rows

DATE_RE = r"^[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"
AMOUNT_RE = r"^[0-9]{1,16}(\.[0-9]{1,2})?$"
ID_RE = r"^[0-9]{1,18}$"


def _sql_message(message: str) -> str:
    """A translated sentence with %(name)s placeholders as a format() pattern (%s, in order)."""
    return message.replace("%", "%%").replace("%%(value)s", "%s").replace("%%(row)s", "%s")


def _rate_pattern() -> str:
    """The sentence compliance.caps.documents gives for an invoice without its day's rate, in the active
    language, as a format() pattern: %1$s the invoice's currency, %2$s the category's, %3$s the day, %4$s the
    invoice's number (positional, so a translation may put them in any order)."""
    document = _("invoice %(number)s").replace("%", "%%").replace("%%(number)s", "%4$s")
    sentence = _(
        "There is no %(currency)s/%(target)s exchange rate for %(day)s, the date of %(document)s. "
        "Record that day's rate first."
    ).replace("%", "%%")
    for name, position in (("currency", "%1$s"), ("target", "%2$s"), ("day", "%3$s"), ("document", document)):
        sentence = sentence.replace(f"%%({name})s", position)
    return sentence


def _stage(rows: Rows, progress: Progress, cursor) -> int:
    cursor.execute("DROP TABLE IF EXISTS import_staging")
    columns = ", ".join(f"{name} text" for name in rows.header)
    if rows.format == "csv":
        # The file as it is: PostgreSQL parses the CSV and checks the UTF-8; row_no counts the records.
        cursor.execute(f"CREATE TEMP TABLE import_staging (row_no bigint GENERATED ALWAYS AS IDENTITY, {columns})")
        return _stage_csv(rows, progress, cursor)
    # A workbook's rows, streamed; row_no is the sheet's own row number less one (blank rows are skipped).
    cursor.execute(f"CREATE TEMP TABLE import_staging (row_no bigint, {columns})")
    width, count = len(rows.header), 0
    with cursor.copy(f"COPY import_staging (row_no, {', '.join(rows.header)}) FROM STDIN") as copy:
        for number, cells in rows:
            count += 1
            copy.write_row([number - 1, *(cells + [""] * width)[:width]])
            if count % 5000 == 0:
                progress(50 * rows.done(), outside_transaction=True)
    return count


def _stage_csv(rows: Rows, progress: Progress, cursor) -> int:
    fileobj = rows._file
    fileobj.seek(0)
    if fileobj.read(3) != b"\xef\xbb\xbf":
        fileobj.seek(0)
    try:
        with (
            transaction.atomic(),
            cursor.copy(f"COPY import_staging ({', '.join(rows.header)}) FROM STDIN (FORMAT csv, HEADER true)") as copy,
        ):
            while chunk := fileobj.read(1 << 20):
                copy.write(chunk)
                progress(50 * min(1.0, fileobj.tell() / rows.size), outside_transaction=True)
    except (DatabaseError, psycopg.Error) as error:  # the file, not the product: say what PostgreSQL found
        # psycopg's COPY raises its own errors, not wrapped in Django's.
        diag = getattr(error if isinstance(error, psycopg.Error) else error.__cause__, "diag", None)
        detail = (diag.message_primary if diag else None) or str(error)
        where = (diag.context if diag else None) or ""
        if "encoding" in detail.lower():
            raise FileRefused(
                _("The file is not UTF-8 text. Save it from the ERP or Excel as “CSV UTF-8” and upload it again.")
            ) from None
        # COPY counts the first row as line 1, as the rows of an import are numbered.
        line = re.search(r"line (\d+)", where)
        row = int(line.group(1)) if line else None
        raise FileRefused(
            _("Row %(row)s is not valid CSV: %(detail)s.") % {"row": row or "?", "detail": detail}, row=row
        ) from None
    cursor.execute("SELECT count(*) FROM import_staging")
    return cursor.fetchone()[0]


def _cells(cursor, kind: Kind) -> None:
    """Each cell judged once, in one pass over the staging table (OFFSET 0 keeps the trimmed cells a
    subquery of their own, so that a cell used by several tests is trimmed once and nothing is stored twice)."""
    # The file's columns by the model field they set (a sales invoice's `sales_order` is `purchase_order`).
    selects = {column.target: f"coalesce(trim(s.{column.name}), '')" for column in kind.columns}
    cursor.execute("DROP TABLE IF EXISTS import_cells")
    cursor.execute(
        f"""
        CREATE TEMP TABLE import_cells AS
        SELECT r.*,
               CASE WHEN r.day_text ~ %(date_re)s
                         AND substr(r.day_text, 9, 2)::int <= extract(day FROM
                             make_date(substr(r.day_text, 1, 4)::int, substr(r.day_text, 6, 2)::int, 1)
                             + interval '1 month - 1 day')
                    THEN r.day_text::date END AS invoice_date,
               CASE WHEN r.amount_text ~ %(amount_re)s THEN r.amount_text::numeric(18, 2) END AS amount,
               r.currency = ANY(%(currencies)s) AS currency_ok,
               CASE WHEN r.po_ref ~ %(id_re)s THEN r.po_ref::bigint END AS po_id
        FROM (
            SELECT s.row_no + 1 AS row_no, {selects["purchase_order"]} AS po_ref, {selects["number"]} AS number,
                   {selects["invoice_date"]} AS day_text, replace({selects["amount"]}, ',', '') AS amount_text,
                   upper({selects["currency"]}) AS currency
            FROM import_staging s OFFSET 0
        ) r
        """,  # noqa: S608 (the column names are the kind's, fixed above)
        {"date_re": DATE_RE, "amount_re": AMOUNT_RE, "id_re": ID_RE, "currencies": list(CURRENCIES)},
    )  # fmt: skip


def _typed(cursor, kind: Kind) -> None:
    """The cells with what the database knows of them: the order named by number or id and its
    category, the first row giving the same number, the invoice already recorded with that number, the
    amount in the category's currency (the day's rate, either way round) and the cap period of the date."""
    cursor.execute("DROP TABLE IF EXISTS import_typed")
    cursor.execute(
        """
        CREATE TEMP TABLE import_typed AS
        WITH checked AS MATERIALIZED (
            SELECT c.*, o.order_id, o.category_id, cat.name AS order_category_name,
                   cat.currency AS category_currency, cat.direction = %(direction)s AS direction_ok,
                   c.po_ref <> '' AND o.order_id IS NOT NULL AND cat.direction = %(direction)s AND c.number <> ''
                   AND length(c.number) <= 64 AND c.invoice_date IS NOT NULL AND c.amount > 0
                   AND c.currency_ok AS cells_ok
            FROM import_cells c
            LEFT JOIN transactions_purchaseorder by_number ON by_number.number = c.po_ref
            LEFT JOIN transactions_purchaseorder by_id ON by_id.id = c.po_id
            CROSS JOIN LATERAL (SELECT COALESCE(by_number.id, by_id.id) AS order_id,
                                       COALESCE(by_number.category_id, by_id.category_id) AS category_id) o
            LEFT JOIN transactions_transactioncategory cat ON cat.id = o.category_id
        ), repeated AS (
            -- Numbers given more than once in the file, with the first row that gave them.
            SELECT number, min(row_no) AS first_row FROM checked WHERE cells_ok GROUP BY number HAVING count(*) > 1
        )
        SELECT k.*,
               COALESCE(d.first_row, k.row_no) AS first_row,
               ex.id AS stored_id,
               ex.purchase_order_id AS stored_order, ex.invoice_date AS stored_date, ex.amount AS stored_amount,
               ex.currency AS stored_currency,
               CASE WHEN k.currency = k.category_currency THEN k.amount
                    WHEN direct.rate IS NOT NULL THEN ROUND(k.amount * direct.rate / 1, 2)
                    WHEN inverse.rate IS NOT NULL THEN ROUND(k.amount * 1 / inverse.rate, 2) END AS converted,
               cap.id AS cap_id
        FROM checked k
        LEFT JOIN repeated d ON d.number = k.number
        LEFT JOIN transactions_invoice ex ON ex.number = k.number
        LEFT JOIN transactions_exchangerate direct
               ON direct.currency = k.currency AND direct.target_currency = k.category_currency
              AND direct.rate_date = k.invoice_date
        LEFT JOIN transactions_exchangerate inverse
               ON inverse.currency = k.category_currency AND inverse.target_currency = k.currency
              AND inverse.rate_date = k.invoice_date
        LEFT JOIN compliance_annualcap cap
               ON cap.category_id = k.category_id AND cap.period_start <= k.invoice_date
              AND cap.period_end >= k.invoice_date
        """,
        {"direction": kind.direction},
    )


def _messages(kind: Kind) -> dict[str, str]:
    """The sentences of the row errors, as format() patterns for the statement that lists them."""
    other_direction = direction_message(kind.direction).replace("%", "%%").replace("%%(category)s", "%s")
    order_column = kind.column_of("purchase_order")
    missing_order = (
        _("No sales order has the number or id “%(value)s”.")
        if kind.direction == SALE
        else _("No purchase order has the number or id “%(value)s”.")
    )
    messages = {
        "order_column": order_column,
        "other_direction": other_direction,
        "required": _("This column is required."),
        "date": _sql_message(_("“%(value)s” is not a date: write YYYY-MM-DD.")),
        "amount": _sql_message(_("“%(value)s” is not an amount (at most two decimals).")),
        "positive": _("The amount must be greater than zero."),
        "currency": _sql_message(_("“%(value)s” is not an ISO 4217 currency code (e.g. CNY, HKD, USD).")),
        "order": _sql_message(missing_order),
        "long": _("At most %(count)s characters.") % {"count": 64},
        "twice": _sql_message(_("The same document is on row %(row)s.")),
        "stored": _("%(document)s is already recorded with other values (%(fields)s).")
        .replace("%", "%%")
        .replace("%%(document)s", "%1$s")
        .replace("%%(fields)s", "%2$s"),
        "rate": _rate_pattern(),
        # The day as day_in_words writes it in the active language.
        "day_format": 'YYYY"年"FMMM"月"FMDD"日"' if get_language() in CHINESE else "FMDD Mon YYYY",
    }  # fmt: skip
    return messages


def _errors(cursor, outcome: Outcome, kind: Kind) -> None:
    """Every row's errors in one statement: the cells first; then, for a row whose cells are good, the
    first of: the same number earlier in the file, a stored invoice with other values, no exchange rate."""
    cursor.execute(
        """
        WITH found AS (
            SELECT t.row_no, e.ord, e.col, e.message
            FROM import_typed t
            CROSS JOIN LATERAL (VALUES
                (1, %(order_column)s, CASE WHEN t.po_ref = '' THEN %(required)s
                                           WHEN t.order_id IS NULL THEN format(%(order)s, left(t.po_ref, 64))
                                           WHEN NOT t.direction_ok
                                           THEN format(%(other_direction)s, t.order_category_name) END),
                (2, 'number', CASE WHEN t.number = '' THEN %(required)s WHEN length(t.number) > 64 THEN %(long)s END),
                (3, 'invoice_date', CASE WHEN t.day_text = '' THEN %(required)s
                                         WHEN t.invoice_date IS NULL THEN format(%(date)s, left(t.day_text, 40)) END),
                (4, 'amount', CASE WHEN t.amount_text = '' THEN %(required)s
                                   WHEN t.amount IS NULL THEN format(%(amount)s, left(t.amount_text, 40))
                                   WHEN t.amount <= 0 THEN %(positive)s END),
                (5, 'currency', CASE WHEN t.currency = '' THEN %(required)s
                                     WHEN NOT t.currency_ok THEN format(%(currency)s, left(t.currency, 10)) END),
                (6, 'number', CASE WHEN t.cells_ok AND t.first_row < t.row_no THEN format(%(twice)s, t.first_row)
                                   WHEN t.cells_ok AND t.stored_id IS NOT NULL AND (
                                        t.stored_order, t.stored_date, t.stored_amount, t.stored_currency)
                                        IS DISTINCT FROM (t.order_id, t.invoice_date, t.amount, t.currency)
                                   THEN format(%(stored)s, t.number, concat_ws(', ',
                                        CASE WHEN t.stored_order <> t.order_id THEN %(order_column)s END,
                                        CASE WHEN t.stored_date <> t.invoice_date THEN 'invoice_date' END,
                                        CASE WHEN t.stored_amount <> t.amount THEN 'amount' END,
                                        CASE WHEN t.stored_currency <> t.currency THEN 'currency' END)) END),
                (7, 'currency', CASE WHEN t.cells_ok AND t.first_row = t.row_no AND t.stored_id IS NULL
                                          AND t.converted IS NULL
                                     THEN format(%(rate)s, t.currency, t.category_currency,
                                                 to_char(t.invoice_date, %(day_format)s), t.number) END)
            ) AS e(ord, col, message)
            WHERE (NOT t.cells_ok OR t.first_row < t.row_no OR t.stored_id IS NOT NULL OR t.converted IS NULL)
              AND e.message IS NOT NULL
        )
        SELECT row_no, col, message, count(*) OVER () FROM found ORDER BY row_no, ord LIMIT %(limit)s
        """,
        {**_messages(kind), "limit": MAX_ERRORS},
    )
    found = cursor.fetchall()
    if found:
        outcome.error_count = found[0][3]
        outcome.errors = [{"row": row, "column": column, "message": message} for row, column, message, _ in found]


def _history(cursor, model, where: str, params: dict, *, kind: str, user_id: int, reason: str) -> None:
    """simple_history's rows for the rows `where` selects, as saving each would write them."""
    history = model.history.model
    own = [f.column for f in model._meta.concrete_fields]
    table, source = history._meta.db_table, model._meta.db_table
    cursor.execute(
        f"""INSERT INTO {table} ({", ".join(own)}, history_date, history_change_reason, history_type, history_user_id)
            SELECT {", ".join("m." + c for c in own)}, now(), %(reason)s, %(kind)s, %(user)s
            FROM {source} m WHERE {where}""",  # noqa: S608
        {**params, "reason": reason, "kind": kind, "user": user_id},
    )


def _lock(cursor) -> list[int]:
    """The same lock order as a document recorded on its own (an invoice, or a credit note through its
    invoice): the new rows' orders, the orders' categories, the caps' totals. Both set-based kinds use it."""
    new = "FROM import_typed t WHERE t.stored_id IS NULL"
    cursor.execute(
        f"SELECT id FROM transactions_purchaseorder WHERE id IN (SELECT t.order_id {new}) ORDER BY id FOR UPDATE"  # noqa: S608
    )
    cursor.execute(
        f"""SELECT id FROM transactions_transactioncategory WHERE id IN (
                SELECT o.category_id FROM transactions_purchaseorder o WHERE o.id IN (SELECT t.order_id {new})
            ) ORDER BY id FOR UPDATE"""  # noqa: S608
    )
    cursor.execute(f"SELECT DISTINCT t.cap_id {new} AND t.cap_id IS NOT NULL")
    cap_ids = sorted(row[0] for row in cursor.fetchall())
    totals_lock(cap_ids)
    return cap_ids


# An invoice's columns as the import writes them, from the table import_new; the history row copies them.
INVOICE_VALUES = {
    "id": "n.id", "number": "n.number", "invoice_date": "n.invoice_date", "amount": "n.amount",
    "currency": "n.currency", "created_at": "now()", "created_by_id": "%(user)s", "purchase_order_id": "n.order_id",
}  # fmt: skip


def _insert_documents(cursor, *, user_id: int, reason: str) -> int:
    """The new invoices, their history rows and their ledger entries: each one INSERT ... SELECT from a
    table of the new rows whose ids are taken from the invoices' sequence first, so that the three
    statements need no join and no RETURNING, and each writes its table in id order."""
    columns = [f.column for f in Invoice._meta.concrete_fields]
    if sorted(columns) != sorted(INVOICE_VALUES):  # a field added to Invoice must be written here too
        raise RuntimeError(f"Invoice's columns {columns} are not those the import writes")
    cursor.execute("SELECT pg_get_serial_sequence('transactions_invoice', 'id')")
    sequence = cursor.fetchone()[0]
    cursor.execute("DROP TABLE IF EXISTS import_new")
    cursor.execute(
        """CREATE TEMP TABLE import_new AS
           SELECT nextval(%(sequence)s::regclass) AS id, t.*
           FROM (SELECT order_id, number, invoice_date, amount, currency, cap_id, converted
                 FROM import_typed WHERE stored_id IS NULL ORDER BY row_no OFFSET 0) t""",
        {"sequence": sequence},
    )
    own, values = ", ".join(INVOICE_VALUES), ", ".join(INVOICE_VALUES.values())
    history_table = Invoice.history.model._meta.db_table
    params = {"user": user_id, "reason": reason}
    cursor.execute(f"INSERT INTO transactions_invoice ({own}) SELECT {values} FROM import_new n ORDER BY n.id", params)  # noqa: S608
    created = cursor.rowcount
    cursor.execute(
        f"""INSERT INTO {history_table} ({own}, history_date, history_change_reason, history_type, history_user_id)
            SELECT {values}, now(), %(reason)s, '+', %(user)s FROM import_new n ORDER BY n.id""",  # noqa: S608
        params,
    )
    cursor.execute(
        """INSERT INTO compliance_ledgerentry (cap_id, entry_date, basis, kind, amount, purchase_order_id, invoice_id,
                                               recorded_at, recorded_by_id)
           SELECT n.cap_id, n.invoice_date, 'actual', 'invoice', n.converted, n.order_id, n.id, now(), %(user)s
           FROM import_new n WHERE n.cap_id IS NOT NULL AND n.converted <> 0 ORDER BY n.id""",
        params,
    )
    return created


def _write(cursor, imp: Import, progress: Progress, outcome: Outcome, kind: Kind) -> None:
    user_id = imp.created_by_id
    cap_ids = _lock(cursor)
    outcome.created = _insert_documents(cursor, user_id=user_id, reason=f"import {imp.pk} ({kind.name})")
    progress(85)
    cursor.execute(
        """UPDATE transactions_purchaseorder SET invoiced_before_approval = true
           WHERE status = 'draft' AND NOT invoiced_before_approval
             AND id IN (SELECT DISTINCT n.order_id FROM import_new n) RETURNING id"""
    )
    flagged = [row[0] for row in cursor.fetchall()]
    if flagged:
        _history(cursor, PurchaseOrder, "m.id = ANY(%(ids)s)", {"ids": flagged}, kind="~", user_id=user_id,
                 reason="invoiced before approval")  # fmt: skip
    cursor.execute(
        """UPDATE compliance_captotals c SET actual = c.actual + s.total
           FROM (SELECT cap_id, SUM(converted) AS total FROM import_new WHERE cap_id IS NOT NULL GROUP BY cap_id) s
           WHERE c.cap_id = s.cap_id"""
    )
    # Alerts, the day a cap was first exceeded and breaches: the reaction of every posting.
    cap_figures_changed(cap_ids=cap_ids)


def _check(cursor, imp: Import, outcome: Outcome, kind: Kind) -> None:
    _cells(cursor, kind)
    # A temporary table has no statistics until analysed: without them the planner would join a million
    # cells to the orders by nested loops. The later statements only scan import_typed.
    cursor.execute("ANALYZE import_cells")
    _typed(cursor, kind)
    _errors(cursor, outcome, kind)
    if outcome.error_count:
        return
    cursor.execute("SELECT count(*) FROM import_typed WHERE stored_id IS NOT NULL")
    outcome.unchanged = cursor.fetchone()[0]


def invoices_run(imp: Import, rows: Rows, progress: Progress, kind: Kind = KINDS["invoices"]) -> Outcome:
    outcome = Outcome()
    with connection.cursor() as cursor:
        try:
            outcome.rows = _stage(rows, progress, cursor)
            progress(55, outside_transaction=True)
            with transaction.atomic():
                # Sorts and hashes of a million rows in memory rather than in temporary files.
                cursor.execute("SET LOCAL work_mem = '256MB'")
                _check(cursor, imp, outcome, kind)
                if outcome.error_count:
                    return outcome
                if imp.dry_run:
                    outcome.created = outcome.rows - outcome.unchanged
                    return outcome
                _write(cursor, imp, progress, outcome, kind)
                # The foreign keys' checks now rather than at the commit, so that the import's row, locked
                # by recording the outcome, is locked for the commit alone.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                outcome_record(imp.pk, outcome, with_rows=True)
        finally:
            for table in ("import_staging", "import_cells", "import_typed", "import_new"):
                cursor.execute(f"DROP TABLE IF EXISTS {table}")
    return outcome
