"""Invoices and sales invoices on PostgreSQL, set-based: the same rules as recording invoices one by one
(compliance.services.invoice_save), as a few statements over the whole file. The two kinds share the
invoices table; a kind takes only orders of its own direction (a sales invoice names a sales order).

1. The rows go into a temporary staging table with COPY, as text: a CSV file is handed to COPY as it is
   (PostgreSQL parses it; no Python per row), a workbook's rows are streamed from openpyxl.
2. One statement types and checks every row: cells (required, date, amount, currency), the order named by
   number or id, the same number twice in the file, an invoice already recorded (the same values:
   unchanged; other values: an error), the day's exchange rate, and the cap period of the invoice date.
3. Any error: nothing is written and the first errors are kept. Otherwise, in one transaction: the
   orders, then their categories, then the caps' totals are locked in the same order as every other act
   (compliance.services, compliance.ledger), and the invoices, their history rows, the orders' flag
   `invoiced_before_approval`, the ledger entries and the caps' running totals are each written by one
   INSERT ... SELECT or UPDATE. The audit triggers are statement-level: one INSERT ... SELECT into the
   trail per statement. compliance.ledger.cap_figures_changed then records the alerts and breaches, as
   every posting does.
"""

import re

from django.db import DatabaseError, connection, transaction
from django.utils.translation import gettext as _

from transactions.api import direction_message
from transactions.currencies import CURRENCIES
from transactions.models import SALE, Invoice, PurchaseOrder

from ..caps.ledger import cap_figures_changed, totals_lock
from ..models import Import
from .kinds import KINDS, Kind
from .outcome import MAX_ERRORS, Outcome, Progress
from .reading import FileRefused, Rows

DATE_RE = r"^[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"
AMOUNT_RE = r"^[0-9]{1,16}(\.[0-9]{1,2})?$"
ID_RE = r"^[0-9]{1,18}$"


def _sql_message(message: str) -> str:
    """A translated sentence with %(name)s placeholders as a format() pattern (%s, in order)."""
    return message.replace("%", "%%").replace("%%(value)s", "%s").replace("%%(row)s", "%s")


def _stage(rows: Rows, progress: Progress, cursor) -> int:
    header = rows.header
    columns = ", ".join(f"{name} text" for name in header)
    names = ", ".join(header)
    cursor.execute("DROP TABLE IF EXISTS import_staging")
    if rows.format == "csv":
        # The file as it is: PostgreSQL parses the CSV and checks the UTF-8; row_no counts the records.
        cursor.execute(f"CREATE TEMP TABLE import_staging (row_no bigint GENERATED ALWAYS AS IDENTITY, {columns})")
        fileobj = rows._file
        fileobj.seek(0)
        if fileobj.read(3) != b"\xef\xbb\xbf":
            fileobj.seek(0)
        try:
            with (
                transaction.atomic(),
                cursor.copy(f"COPY import_staging ({names}) FROM STDIN (FORMAT csv, HEADER true)") as copy,
            ):
                while chunk := fileobj.read(1 << 20):
                    copy.write(chunk)
                    progress(50 * min(1.0, fileobj.tell() / rows.size), outside_transaction=True)
        except DatabaseError as error:  # the file, not the product: say what PostgreSQL found and where
            diag = getattr(error.__cause__, "diag", None)
            detail = (diag.message_primary if diag else None) or str(error)
            where = (diag.context if diag else None) or ""
            if "encoding" in detail.lower():
                raise FileRefused(
                    _("The file is not UTF-8 text. Save it from the ERP or Excel as “CSV UTF-8” and upload it again.")
                ) from None
            line = re.search(r"line (\d+)", where)
            raise FileRefused(
                _("Row %(row)s is not valid CSV: %(detail)s.")
                % {"row": line.group(1) if line else "?", "detail": detail}
            ) from None
        cursor.execute("SELECT count(*) FROM import_staging")
        return cursor.fetchone()[0]
    # A workbook's rows, streamed; row_no is the sheet's own row number less one (blank rows are skipped).
    cursor.execute(f"CREATE TEMP TABLE import_staging (row_no bigint, {columns})")
    width, count = len(header), 0
    with cursor.copy(f"COPY import_staging (row_no, {names}) FROM STDIN") as copy:
        for number, cells in rows:
            count += 1
            copy.write_row([number - 1, *(cells + [""] * width)[:width]])
            if count % 5000 == 0:
                progress(50 * rows.done(), outside_transaction=True)
    return count


def _typed(cursor, kind: Kind) -> None:
    # The file's columns by the model field they set (a sales invoice's `sales_order` is `purchase_order`).
    selects = {column.target: f"coalesce(trim(s.{column.name}), '')" for column in kind.columns}
    cursor.execute("DROP TABLE IF EXISTS import_typed")
    cursor.execute(
        f"""
        CREATE TEMP TABLE import_typed AS
        WITH raw AS MATERIALIZED (
            SELECT s.row_no + 1 AS row_no, {selects["purchase_order"]} AS po_ref, {selects["number"]} AS number,
                   {selects["invoice_date"]} AS day_text, replace({selects["amount"]}, ',', '') AS amount_text,
                   upper({selects["currency"]}) AS currency
            FROM import_staging s
        ), cells AS MATERIALIZED (
            -- Each cell is judged once here (a CTE not materialised would be inlined and judged again at
            -- every join that uses it).
            SELECT r.*,
                   CASE WHEN r.day_text ~ %(date_re)s
                             AND substr(r.day_text, 9, 2)::int <= extract(day FROM
                                 make_date(substr(r.day_text, 1, 4)::int, substr(r.day_text, 6, 2)::int, 1)
                                 + interval '1 month - 1 day')
                        THEN r.day_text::date END AS invoice_date,
                   CASE WHEN r.amount_text ~ %(amount_re)s THEN r.amount_text::numeric(18, 2) END AS amount,
                   r.currency = ANY(%(currencies)s) AS currency_ok,
                   CASE WHEN r.po_ref ~ %(id_re)s THEN r.po_ref::bigint END AS po_id
            FROM raw r
        ), checked AS MATERIALIZED (
            SELECT c.*,
                   COALESCE(by_number.id, by_id.id) AS order_id,
                   COALESCE(by_number.category_id, by_id.category_id) AS category_id,
                   order_category.name AS order_category_name,
                   order_category.direction = %(direction)s AS direction_ok,
                   c.po_ref <> '' AND COALESCE(by_number.id, by_id.id) IS NOT NULL
                   AND order_category.direction = %(direction)s AND c.number <> ''
                   AND length(c.number) <= 64 AND c.invoice_date IS NOT NULL AND c.amount > 0
                   AND c.currency_ok AS cells_ok
            FROM cells c
            LEFT JOIN transactions_purchaseorder by_number ON by_number.number = c.po_ref
            LEFT JOIN transactions_purchaseorder by_id ON by_id.id = c.po_id
            LEFT JOIN transactions_transactioncategory order_category
                   ON order_category.id = COALESCE(by_number.category_id, by_id.category_id)
        ), repeated AS (
            -- Numbers given more than once in the file, with the first row that gave them.
            SELECT number, min(row_no) AS first_row FROM checked WHERE cells_ok GROUP BY number HAVING count(*) > 1
        )
        SELECT k.*,
               COALESCE(d.first_row, k.row_no) AS first_row,
               cat.currency AS category_currency,
               ex.id AS stored_id,
               ex.purchase_order_id AS stored_order, ex.invoice_date AS stored_date, ex.amount AS stored_amount,
               ex.currency AS stored_currency,
               CASE WHEN k.currency = cat.currency THEN k.amount
                    WHEN direct.rate IS NOT NULL THEN ROUND(k.amount * direct.rate / 1, 2)
                    WHEN inverse.rate IS NOT NULL THEN ROUND(k.amount * 1 / inverse.rate, 2) END AS converted,
               cap.id AS cap_id
        FROM checked k
        LEFT JOIN repeated d ON d.number = k.number
        LEFT JOIN transactions_transactioncategory cat ON cat.id = k.category_id
        LEFT JOIN transactions_invoice ex ON ex.number = k.number
        LEFT JOIN transactions_exchangerate direct
               ON direct.currency = k.currency AND direct.target_currency = cat.currency
              AND direct.rate_date = k.invoice_date
        LEFT JOIN transactions_exchangerate inverse
               ON inverse.currency = cat.currency AND inverse.target_currency = k.currency
              AND inverse.rate_date = k.invoice_date
        LEFT JOIN compliance_annualcap cap
               ON cap.category_id = k.category_id AND cap.period_start <= k.invoice_date
              AND cap.period_end >= k.invoice_date
        """,  # noqa: S608 (the column names are the kind's, fixed above)
        {
            "date_re": DATE_RE, "amount_re": AMOUNT_RE, "id_re": ID_RE, "currencies": list(CURRENCIES),
            "direction": kind.direction,
        },
    )  # fmt: skip


def _errors(cursor, outcome: Outcome, kind: Kind) -> None:
    """Every row's errors in one statement: the cells first; then, for a row whose cells are good, the
    first of: the same number earlier in the file, a stored invoice with other values, no exchange rate."""
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
        # The sentence compliance.services gives for an invoice recorded on its own.
        "rate": "There is no %1$s exchange rate for %2$s, the date of invoice %3$s. Record that day's rate first.",
    }  # fmt: skip
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
                                     THEN format(%(rate)s, t.currency || '/' || t.category_currency,
                                                 to_char(t.invoice_date, 'FMDD Mon YYYY'), t.number) END)
            ) AS e(ord, col, message)
            WHERE (NOT t.cells_ok OR t.first_row < t.row_no OR t.stored_id IS NOT NULL OR t.converted IS NULL)
              AND e.message IS NOT NULL
        )
        SELECT row_no, col, message, count(*) OVER () FROM found ORDER BY row_no, ord LIMIT %(limit)s
        """,
        {**messages, "limit": MAX_ERRORS},
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


def _write(cursor, imp: Import, progress: Progress, outcome: Outcome, kind: Kind) -> None:
    user_id = imp.created_by_id
    reason = f"import {imp.pk} ({kind.name})"
    new = "FROM import_typed t WHERE t.stored_id IS NULL"
    # The same lock order as an invoice recorded on its own: its order, its category, the caps' totals.
    cursor.execute(
        f"SELECT id FROM transactions_purchaseorder WHERE id IN (SELECT t.order_id {new}) ORDER BY id FOR UPDATE"  # noqa: S608
    )
    categories = f"SELECT id FROM transactions_transactioncategory WHERE id IN (SELECT t.category_id {new})"  # noqa: S608
    cursor.execute(categories + " ORDER BY id FOR UPDATE")
    cursor.execute(f"SELECT DISTINCT t.cap_id {new} AND t.cap_id IS NOT NULL")
    cap_ids = sorted(row[0] for row in cursor.fetchall())
    totals_lock(cap_ids)

    invoice_columns = [f.column for f in Invoice._meta.concrete_fields]
    own = ", ".join(invoice_columns)
    new_values = ", ".join("ins." + c for c in invoice_columns)
    history_table = Invoice.history.model._meta.db_table
    # One statement: the invoices, their history rows (what saving each would write) and their ledger
    # entries, each an INSERT ... SELECT over the rows the first returns.
    cursor.execute(
        f"""WITH ins AS (
                INSERT INTO transactions_invoice (purchase_order_id, number, invoice_date, amount, currency,
                                                  created_by_id, created_at)
                SELECT t.order_id, t.number, t.invoice_date, t.amount, t.currency, %(user)s, now() {new}
                ORDER BY t.row_no
                RETURNING {own}
            ), history AS (
                INSERT INTO {history_table} ({own}, history_date, history_change_reason, history_type,
                                             history_user_id)
                SELECT {new_values}, now(), %(reason)s, '+', %(user)s FROM ins
            ), entries AS (
                INSERT INTO compliance_ledgerentry (cap_id, entry_date, basis, kind, amount, purchase_order_id,
                                                    invoice_id, recorded_at, recorded_by_id)
                SELECT t.cap_id, ins.invoice_date, 'actual', 'invoice', t.converted, ins.purchase_order_id, ins.id,
                       now(), %(user)s
                FROM ins JOIN import_typed t ON t.number = ins.number
                WHERE t.cap_id IS NOT NULL AND t.converted <> 0
            )
            SELECT count(*) FROM ins""",  # noqa: S608 (table and column names from the models)
        {"user": user_id, "reason": reason},
    )
    outcome.created = cursor.fetchone()[0]
    progress(85)
    cursor.execute(
        """UPDATE transactions_purchaseorder SET invoiced_before_approval = true
           WHERE status = 'draft' AND NOT invoiced_before_approval
             AND id IN (SELECT t.order_id FROM import_typed t WHERE t.stored_id IS NULL) RETURNING id"""
    )
    flagged = [row[0] for row in cursor.fetchall()]
    if flagged:
        _history(cursor, PurchaseOrder, "m.id = ANY(%(ids)s)", {"ids": flagged}, kind="~", user_id=user_id,
                 reason="invoiced before approval")  # fmt: skip
    cursor.execute(
        """UPDATE compliance_captotals c SET actual = c.actual + s.total
           FROM (SELECT cap_id, SUM(converted) AS total FROM import_typed
                 WHERE stored_id IS NULL AND cap_id IS NOT NULL GROUP BY cap_id) s
           WHERE c.cap_id = s.cap_id"""
    )
    # Alerts, the day a cap was first exceeded and breaches: the reaction of every posting.
    cap_figures_changed(cap_ids=cap_ids)


def invoices_run(imp: Import, rows: Rows, progress: Progress, kind: Kind = KINDS["invoices"]) -> Outcome:
    outcome = Outcome()
    with connection.cursor() as cursor:
        try:
            outcome.rows = _stage(rows, progress, cursor)
            progress(55, outside_transaction=True)
            # Temporary tables have no statistics until analysed: without them the planner joins a
            # million rows by nested loops.
            cursor.execute("ANALYZE import_staging")
            _typed(cursor, kind)
            cursor.execute("ANALYZE import_typed")
            _errors(cursor, outcome, kind)
            if outcome.error_count:
                return outcome
            cursor.execute("SELECT count(*) FROM import_typed WHERE stored_id IS NOT NULL")
            outcome.unchanged = cursor.fetchone()[0]
            if imp.dry_run:
                outcome.created = outcome.rows - outcome.unchanged
                return outcome
            with transaction.atomic():
                _write(cursor, imp, progress, outcome, kind)
        finally:
            cursor.execute("DROP TABLE IF EXISTS import_staging")
            cursor.execute("DROP TABLE IF EXISTS import_typed")
    return outcome
