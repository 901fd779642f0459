"""Credit notes on PostgreSQL, set-based: the same rows, checks and errors as recording them one by one
(compliance.imports.engine through compliance.caps.documents.credit_note_save), as a few statements over
the whole file. One kind serves both directions: a credit note names an invoice or a sales invoice.

1. The rows are staged as invoices' are (compliance.imports.bulk); rows whose cells are all blank are left
   out, as the row path skips them. One statement types every cell. A cell the statement cannot settle by
   a plain pattern (an amount written 1e3, a date that is not YYYY-MM-DD, a currency with odd characters,
   an invoice named in other scripts) is given to the column's own parser in Python, so that its value or
   its sentence is the row path's: in a file of well-formed rows there is none.
2. One statement joins what the database knows: the invoice by number or id, its order's category and the
   cap period of the credit date, the day's rate, a credit note already recorded with that number, and
   what earlier credit notes leave of each invoice. What remains of an invoice is a running sum per invoice
   in row order (a window): a row is refused when its amount passes what the invoice's stored credit notes
   and the file's earlier accepted rows leave. A refused row credits nothing, so for an invoice the window
   finds over-credited the rows are walked in order (a recursive statement) to say which rows were
   accepted, as the row path would.
3. The errors are listed by one statement, in row order and by column, and worded in Python with the row
   path's own sentences (the first MAX_ERRORS of them). Without an error: the orders, their categories
   and the caps' totals are locked, and the credit notes, their history rows, their negative actual ledger
   entries (in the cap of the credit date) and the caps' totals are each written by one statement;
   compliance.caps.ledger.cap_figures_changed then records what follows, as every posting does.
"""

from decimal import Decimal

from django.db import connection, transaction
from django.utils.translation import gettext as _

from transactions.currencies import CURRENCIES
from transactions.models import CreditNote
from transactions.money import format_money

from ..caps.ledger import cap_figures_changed
from ..common.dates import day_in_words
from ..models import Import
from .bulk import DATE_RE, ID_RE, _lock, _stage
from .kinds import KINDS, MISSING, CellError, Kind, References
from .outcome import MAX_ERRORS, Outcome, Progress, outcome_record
from .reading import Rows

# The characters str.strip() removes: a cell is trimmed in SQL exactly as the row path trims it.
WHITESPACE = "".join(chr(code) for code in range(0x3001) if chr(code).isspace())
STRIP_RE = f"^[{WHITESPACE}]+|[{WHITESPACE}]+$"
FAST_AMOUNT_RE = r"^[0-9]{1,16}(\.[0-9]{1,2})?$"
FAST_CURRENCY_RE = r"^[A-Za-z]{3}$"
# An invoice named in printable ASCII is looked up in SQL; any other name by References.invoice.
ASCII_RE = r"^[ -~]*$"
TABLES = ("import_staging", "import_cells", "import_parsed", "import_typed", "import_credit", "import_new")


def _strip(column: str) -> str:
    return f"regexp_replace(coalesce(s.{column}, ''), %(strip)s, '', 'g')"


def _cells(cursor) -> None:
    """Each cell trimmed and, where a plain pattern settles it, typed (a NULL value: not settled here)."""
    blank = " AND ".join(f"{_strip(name)} = ''" for name in KINDS["credit_notes"].names)
    cursor.execute(f"DELETE FROM import_staging s WHERE {blank}", {"strip": STRIP_RE})  # noqa: S608
    cursor.execute(
        f"""
        CREATE TEMP TABLE import_cells AS
        SELECT r.*,
               r.inv_ref ~ %(ascii_re)s AS inv_ascii,
               CASE WHEN r.inv_ref ~ %(id_re)s THEN r.inv_ref::bigint END AS inv_id,
               CASE WHEN r.day_text ~ %(date_re)s
                         AND substr(r.day_text, 9, 2)::int <= extract(day FROM
                             make_date(substr(r.day_text, 1, 4)::int, substr(r.day_text, 6, 2)::int, 1)
                             + interval '1 month - 1 day')
                    THEN r.day_text::date END AS day_fast,
               CASE WHEN replace(r.amount_text, ',', '') ~ %(amount_re)s
                    THEN nullif(replace(r.amount_text, ',', '')::numeric(18, 2), 0) END AS amount_fast,
               CASE WHEN r.currency_text ~ %(currency_re)s AND upper(r.currency_text) = ANY(%(currencies)s)
                    THEN upper(r.currency_text) END AS currency_fast
        FROM (
            SELECT s.row_no + 1 AS row_no, {_strip("invoice")} AS inv_ref, {_strip("number")} AS number,
                   {_strip("credit_date")} AS day_text, coalesce(s.amount, '') AS amount_raw,
                   {_strip("amount")} AS amount_text, coalesce(s.currency, '') AS currency_raw,
                   {_strip("currency")} AS currency_text
            FROM import_staging s OFFSET 0
        ) r
        """,  # noqa: S608 (the column names are the kind's)
        {"strip": STRIP_RE, "ascii_re": ASCII_RE, "id_re": ID_RE, "date_re": DATE_RE, "amount_re": FAST_AMOUNT_RE,
         "currency_re": FAST_CURRENCY_RE, "currencies": list(CURRENCIES)},
    )  # fmt: skip


# The cells left to the column's parser: not blank (required is said in SQL) and not settled by a pattern.
UNSETTLED = """
    SELECT c.row_no, u.col, u.raw
    FROM import_cells c
    CROSS JOIN LATERAL (VALUES
        ('invoice', c.inv_ref, c.inv_ref <> '' AND NOT c.inv_ascii),
        ('credit_date', c.day_text, c.day_text <> '' AND c.day_fast IS NULL),
        ('amount', c.amount_raw, c.amount_text <> '' AND c.amount_fast IS NULL),
        ('currency', c.currency_raw, c.currency_text <> '' AND c.currency_fast IS NULL)
    ) AS u(col, raw, unsettled)
    WHERE u.unsettled ORDER BY c.row_no
"""


def _parsed(cursor, kind: Kind) -> None:
    """The unsettled cells through the row path's parsers, in batches (memory stays flat): each one's value
    as text, or its sentence, into import_parsed."""
    cursor.execute("CREATE TEMP TABLE import_parsed (row_no bigint, col text, value text, message text)")
    columns = {column.name: column for column in kind.columns}
    refs = References()
    with connection.connection.cursor(name="import_unsettled") as unsettled:
        unsettled.execute(UNSETTLED)
        while batch := unsettled.fetchmany(5000):
            parsed = []
            for row_no, name, raw in batch:
                try:
                    value = columns[name].parse(raw, refs)
                    parsed.append((row_no, name, str(getattr(value, "pk", value)), None))
                except CellError as error:
                    parsed.append((row_no, name, None, str(error)))
            with cursor.copy("COPY import_parsed FROM STDIN") as copy:
                for row in parsed:
                    copy.write_row(row)
    cursor.execute("CREATE INDEX ON import_parsed (row_no)")
    cursor.execute("ANALYZE import_parsed")


TYPED = """
        CREATE TEMP TABLE import_typed AS
        WITH p AS (
            SELECT row_no,
                   max(value) FILTER (WHERE col = 'invoice') AS invoice,
                   max(message) FILTER (WHERE col = 'invoice') AS invoice_error,
                   max(value) FILTER (WHERE col = 'credit_date') AS credit_date,
                   max(message) FILTER (WHERE col = 'credit_date') AS credit_date_error,
                   max(value) FILTER (WHERE col = 'amount') AS amount,
                   max(message) FILTER (WHERE col = 'amount') AS amount_error,
                   max(value) FILTER (WHERE col = 'currency') AS currency,
                   max(message) FILTER (WHERE col = 'currency') AS currency_error
            FROM import_parsed GROUP BY row_no
        ), typed AS MATERIALIZED (
            SELECT c.row_no, c.inv_ref, c.inv_ascii, c.number, c.day_text, c.amount_text, c.currency_text,
                   p.invoice_error, p.credit_date_error, p.amount_error, p.currency_error,
                   COALESCE(by_number.id, by_id.id, p.invoice::bigint) AS invoice_id,
                   COALESCE(c.day_fast, p.credit_date::date) AS credit_date,
                   COALESCE(c.amount_fast, p.amount::numeric(18, 2)) AS amount,
                   COALESCE(c.currency_fast, p.currency) AS currency
            FROM import_cells c
            LEFT JOIN p ON p.row_no = c.row_no
            LEFT JOIN transactions_invoice by_number ON c.inv_ascii AND by_number.number = c.inv_ref
            LEFT JOIN transactions_invoice by_id ON c.inv_ascii AND by_number.id IS NULL AND by_id.id = c.inv_id
        ), checked AS MATERIALIZED (
            SELECT t.*, t.invoice_id IS NOT NULL AND t.number <> '' AND length(t.number) <= 64
                        AND t.credit_date IS NOT NULL AND t.amount IS NOT NULL AND t.currency IS NOT NULL AS cells_ok
            FROM typed t
        ), repeated AS (
            SELECT number, min(row_no) AS first_row FROM checked WHERE cells_ok GROUP BY number HAVING count(*) > 1
        ), credited AS (
            SELECT invoice_id, sum(amount) AS total FROM transactions_creditnote
            WHERE invoice_id IN (SELECT invoice_id FROM checked) GROUP BY invoice_id
        )
        SELECT k.*, COALESCE(d.first_row, k.row_no) AS first_row,
               inv.number AS invoice_number, inv.currency AS invoice_currency,
               inv.amount - COALESCE(cr.total, 0) AS remaining, o.id AS order_id,
               cat.currency AS category_currency,
               ex.id AS stored_id, ex.invoice_id AS stored_invoice, ex.credit_date AS stored_date,
               ex.amount AS stored_amount, ex.currency AS stored_currency,
               CASE WHEN k.currency = cat.currency THEN k.amount
                    WHEN direct.rate IS NOT NULL THEN ROUND(k.amount * direct.rate / 1, 2)
                    WHEN inverse.rate IS NOT NULL THEN ROUND(k.amount * 1 / inverse.rate, 2) END AS converted,
               cap.id AS cap_id
        FROM checked k
        LEFT JOIN repeated d ON d.number = k.number
        LEFT JOIN transactions_invoice inv ON inv.id = k.invoice_id
        LEFT JOIN credited cr ON cr.invoice_id = k.invoice_id
        LEFT JOIN transactions_purchaseorder o ON o.id = inv.purchase_order_id
        LEFT JOIN transactions_transactioncategory cat ON cat.id = o.category_id
        LEFT JOIN transactions_creditnote ex ON ex.number = k.number
        LEFT JOIN transactions_exchangerate direct
               ON direct.currency = k.currency AND direct.target_currency = cat.currency
              AND direct.rate_date = k.credit_date
        LEFT JOIN transactions_exchangerate inverse
               ON inverse.currency = cat.currency AND inverse.target_currency = k.currency
              AND inverse.rate_date = k.credit_date
        LEFT JOIN compliance_annualcap cap
               ON cap.category_id = cat.id AND cap.period_start <= k.credit_date AND cap.period_end >= k.credit_date
        """


def _typed(cursor) -> None:
    """The cells typed (settled in SQL or by the parser) with the invoice named by number or id, what its
    stored credit notes leave of it, its order's category, a credit note already recorded with the row's
    number, the first row giving the same number, the amount in the category's currency (the day's rate,
    either way round) and the cap period of the credit date."""
    cursor.execute(TYPED)
    cursor.execute("ANALYZE import_typed")


def _running_sums(cursor) -> None:
    """What the file's earlier rows have credited of each invoice before each row (`before`), over the rows
    that reach the check of what remains (their cells good, their number new, the invoice's currency): a
    running sum in row order of the rows that are recorded. A row is recorded when its amount fits and its
    day's rate is known; while no row of an invoice overflows, that is the window's sum of the rows with a
    rate. From a row that overflows on, a refused row credits nothing: those invoices are walked row by row."""
    cursor.execute(
        """
        CREATE TEMP TABLE import_credit AS
        SELECT row_no, invoice_id, amount, remaining, converted IS NOT NULL AS rate_ok,
               row_number() OVER w AS rn,
               COALESCE(sum(CASE WHEN converted IS NOT NULL THEN amount END)
                        OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS before
        FROM import_typed
        WHERE cells_ok AND first_row = row_no AND stored_id IS NULL AND currency = invoice_currency
        WINDOW w AS (PARTITION BY invoice_id ORDER BY row_no)
        """
    )
    cursor.execute("SELECT EXISTS (SELECT FROM import_credit WHERE before + amount > remaining)")
    if not cursor.fetchone()[0]:
        return
    cursor.execute("CREATE INDEX ON import_credit (invoice_id, rn)")
    cursor.execute("ANALYZE import_credit")
    cursor.execute(
        """
        WITH RECURSIVE walk (invoice_id, rn, before, taken) AS (
            SELECT c.invoice_id, c.rn, 0::numeric,
                   CASE WHEN c.amount <= c.remaining AND c.rate_ok THEN c.amount ELSE 0 END
            FROM import_credit c WHERE c.rn = 1 AND c.invoice_id IN (
                SELECT invoice_id FROM import_credit WHERE before + amount > remaining)
            UNION ALL
            SELECT c.invoice_id, c.rn, w.before + w.taken,
                   CASE WHEN w.before + w.taken + c.amount <= c.remaining AND c.rate_ok THEN c.amount ELSE 0 END
            FROM walk w JOIN import_credit c ON c.invoice_id = w.invoice_id AND c.rn = w.rn + 1
        )
        UPDATE import_credit c SET before = w.before FROM walk w WHERE c.invoice_id = w.invoice_id AND c.rn = w.rn
        """
    )


ERRORS = """
    WITH found AS (
        SELECT t.row_no, e.ord, e.col, e.code, e.a, e.b, e.c, e.d
        FROM import_typed t
        LEFT JOIN import_credit r ON r.row_no = t.row_no
        CROSS JOIN LATERAL (VALUES
            (1, 'invoice', CASE WHEN t.inv_ref = '' THEN 'required'
                                WHEN t.inv_ascii AND t.invoice_id IS NULL THEN 'missing'
                                WHEN t.invoice_error IS NOT NULL THEN 'text' END,
             CASE WHEN t.inv_ascii THEN left(t.inv_ref, 64) ELSE t.invoice_error END, NULL, NULL, NULL),
            (2, 'number', CASE WHEN t.number = '' THEN 'required' WHEN length(t.number) > 64 THEN 'long' END,
             NULL, NULL, NULL, NULL),
            (3, 'credit_date', CASE WHEN t.day_text = '' THEN 'required'
                                    WHEN t.credit_date_error IS NOT NULL THEN 'text' END,
             t.credit_date_error, NULL, NULL, NULL),
            (4, 'amount', CASE WHEN t.amount_text = '' THEN 'required' WHEN t.amount_error IS NOT NULL THEN 'text' END,
             t.amount_error, NULL, NULL, NULL),
            (5, 'currency', CASE WHEN t.currency_text = '' THEN 'required'
                                 WHEN t.currency_error IS NOT NULL THEN 'text' END,
             t.currency_error, NULL, NULL, NULL),
            (6, NULL,
             CASE WHEN NOT t.cells_ok THEN NULL
                  WHEN t.first_row < t.row_no THEN 'twice'
                  WHEN t.stored_id IS NOT NULL THEN
                       CASE WHEN (t.stored_invoice, t.stored_date, t.stored_amount, t.stored_currency)
                                 IS DISTINCT FROM (t.invoice_id, t.credit_date, t.amount, t.currency) THEN 'stored' END
                  WHEN t.currency <> t.invoice_currency THEN 'currency'
                  WHEN r.amount > t.remaining - r.before THEN 'over'
                  WHEN t.converted IS NULL THEN 'rate' END,
             CASE WHEN t.first_row < t.row_no THEN t.first_row::text
                  WHEN t.stored_id IS NOT NULL THEN t.number
                  WHEN t.currency <> t.invoice_currency THEN t.invoice_currency
                  WHEN r.amount > t.remaining - r.before THEN (t.remaining - r.before)::text
                  ELSE t.currency END,
             CASE WHEN t.stored_id IS NOT NULL THEN concat_ws(', ',
                       CASE WHEN t.stored_invoice <> t.invoice_id THEN 'invoice' END,
                       CASE WHEN t.stored_date <> t.credit_date THEN 'credit_date' END,
                       CASE WHEN t.stored_amount <> t.amount THEN 'amount' END,
                       CASE WHEN t.stored_currency <> t.currency THEN 'currency' END)
                  WHEN r.amount > t.remaining - r.before THEN t.invoice_currency
                  ELSE t.category_currency END,
             CASE WHEN r.amount > t.remaining - r.before THEN t.invoice_number ELSE t.credit_date::text END,
             t.number)
        ) AS e(ord, col, code, a, b, c, d)
        -- Only the rows with an error are taken apart (the lateral is skipped for the good ones).
        WHERE (NOT t.cells_ok OR t.first_row < t.row_no OR t.stored_id IS NOT NULL
               OR t.currency <> t.invoice_currency OR t.converted IS NULL OR r.amount > t.remaining - r.before)
          AND e.code IS NOT NULL
    )
    SELECT row_no, col, code, a, b, c, d, count(*) OVER () FROM found ORDER BY row_no, ord LIMIT %(limit)s
"""


# The column a row's error names once its cells are good, as the row path names it.
ROW_COLUMNS = {"twice": "number", "stored": "number", "currency": "currency", "over": "amount", "rate": "currency"}


def _sentence(code: str, a: str | None, b: str | None, c: str | None, d: str | None) -> str:
    """An error's sentence, as the row path words it (compliance.imports.kinds, compliance.caps.documents)."""
    import datetime

    if code == "text":
        return a or ""
    if code == "required":
        return _("This column is required.")
    if code == "missing":
        return MISSING["invoice"]() % {"value": a}
    if code == "long":
        return _("At most %(count)s characters.") % {"count": 64}
    if code == "twice":
        return _("The same document is on row %(row)s.") % {"row": a}
    if code == "stored":
        return _("%(document)s is already recorded with other values (%(fields)s).") % {"document": a, "fields": b}
    if code == "currency":
        return _("A credit note is in the currency of its invoice (%(currency)s).") % {"currency": a}
    if code == "over":
        return _("Only %(remaining)s of invoice %(number)s remains to be credited.") % {
            "remaining": format_money(Decimal(a or "0"), b or ""),
            "number": c,
        }
    return _(
        "There is no %(currency)s/%(target)s exchange rate for %(day)s, the date of %(document)s. "
        "Record that day's rate first."
    ) % {
        "currency": a,
        "target": b,
        "day": day_in_words(datetime.date.fromisoformat(c or "")),
        "document": _("credit note %(number)s") % {"number": d},
    }


def _errors(cursor, outcome: Outcome) -> None:
    """Every row's errors in one statement: the cells in the kind's column order; then, for a row whose cells
    are good, the first of: the same number earlier in the file, a stored credit note with other values,
    another currency than the invoice's, more than remains of the invoice, no exchange rate."""
    cursor.execute(ERRORS, {"limit": MAX_ERRORS})
    found = cursor.fetchall()
    if found:
        outcome.error_count = found[0][7]
        outcome.errors = [
            {"row": row, "column": column or ROW_COLUMNS[code], "message": _sentence(code, a, b, c, d)}
            for row, column, code, a, b, c, d, _count in found
        ]


# A credit note's columns as the import writes them, from the table import_new; the history row copies them.
CREDIT_NOTE_VALUES = {
    "id": "n.id", "invoice_id": "n.invoice_id", "number": "n.number", "credit_date": "n.credit_date",
    "amount": "n.amount", "currency": "n.currency", "created_by_id": "%(user)s", "created_at": "now()",
}  # fmt: skip


def _insert_documents(cursor, *, user_id: int, reason: str) -> int:
    """The new credit notes, their history rows and their ledger entries (the negative of the amount
    converted, in the cap of the credit date), each one INSERT ... SELECT from the new rows, whose ids are
    taken from the credit notes' sequence first."""
    columns = [f.column for f in CreditNote._meta.concrete_fields]
    if sorted(columns) != sorted(CREDIT_NOTE_VALUES):  # a field added to CreditNote must be written here too
        raise RuntimeError(f"CreditNote's columns {columns} are not those the import writes")
    cursor.execute("SELECT pg_get_serial_sequence('transactions_creditnote', 'id')")
    cursor.execute(
        """CREATE TEMP TABLE import_new AS
           SELECT nextval(%(sequence)s::regclass) AS id, t.*
           FROM (SELECT invoice_id, order_id, number, credit_date, amount, currency, cap_id, converted
                 FROM import_typed WHERE stored_id IS NULL ORDER BY row_no OFFSET 0) t""",
        {"sequence": cursor.fetchone()[0]},
    )
    own, values = ", ".join(CREDIT_NOTE_VALUES), ", ".join(CREDIT_NOTE_VALUES.values())
    history_table = CreditNote.history.model._meta.db_table
    params = {"user": user_id, "reason": reason}
    cursor.execute(
        f"INSERT INTO transactions_creditnote ({own}) SELECT {values} FROM import_new n ORDER BY n.id",  # noqa: S608
        params,
    )
    created = cursor.rowcount
    cursor.execute(
        f"""INSERT INTO {history_table} ({own}, history_date, history_change_reason, history_type, history_user_id)
            SELECT {values}, now(), %(reason)s, '+', %(user)s FROM import_new n ORDER BY n.id""",  # noqa: S608
        params,
    )
    cursor.execute(
        """INSERT INTO compliance_ledgerentry (cap_id, entry_date, basis, kind, amount, purchase_order_id, invoice_id,
                                               credit_note_id, recorded_at, recorded_by_id)
           SELECT n.cap_id, n.credit_date, 'actual', 'credit_note', -n.converted, n.order_id, n.invoice_id, n.id,
                  now(), %(user)s
           FROM import_new n WHERE n.cap_id IS NOT NULL AND n.converted <> 0 ORDER BY n.id""",
        params,
    )
    return created


def _write(cursor, imp: Import, outcome: Outcome) -> None:
    cap_ids = _lock(cursor)
    outcome.created = _insert_documents(cursor, user_id=imp.created_by_id, reason=f"import {imp.pk} (credit_notes)")
    cursor.execute(
        """UPDATE compliance_captotals c SET actual = c.actual - s.total
           FROM (SELECT cap_id, SUM(converted) AS total FROM import_new WHERE cap_id IS NOT NULL GROUP BY cap_id) s
           WHERE c.cap_id = s.cap_id"""
    )
    # Alerts, the day a cap was first exceeded and breaches: the reaction of every posting.
    cap_figures_changed(cap_ids=cap_ids)


def _check(cursor, outcome: Outcome, kind: Kind) -> None:
    _cells(cursor)
    # Without statistics the planner would join a million cells to the invoices by nested loops.
    cursor.execute("ANALYZE import_cells")
    _parsed(cursor, kind)
    _typed(cursor)
    _running_sums(cursor)
    _errors(cursor, outcome)
    if outcome.error_count:
        return
    cursor.execute("SELECT count(*) FROM import_typed WHERE stored_id IS NOT NULL")
    outcome.unchanged = cursor.fetchone()[0]


def credit_notes_run(imp: Import, rows: Rows, progress: Progress, kind: Kind = KINDS["credit_notes"]) -> Outcome:
    outcome = Outcome()
    with connection.cursor() as cursor:
        try:
            _stage(rows, progress, cursor)
            progress(55, outside_transaction=True)
            with transaction.atomic():
                cursor.execute("SET LOCAL work_mem = '256MB'")
                _check(cursor, outcome, kind)
                cursor.execute("SELECT count(*) FROM import_cells")
                outcome.rows = cursor.fetchone()[0]
                if outcome.error_count:
                    return outcome
                if imp.dry_run:
                    outcome.created = outcome.rows - outcome.unchanged
                    return outcome
                _write(cursor, imp, outcome)
                progress(85)
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                outcome_record(imp.pk, outcome, with_rows=True)
        finally:
            for table in TABLES:
                cursor.execute(f"DROP TABLE IF EXISTS {table}")
    return outcome
