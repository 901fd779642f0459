"""Reading an uploaded file as rows of text, streamed, with the hostile files refused up front.

A file is CSV (UTF-8, with or without a byte-order mark) or an .xlsx workbook (its first sheet). The
first row holds the column names. Cells are read as text and never evaluated: a cell starting with =,
+, - or @ is kept as the text it is (an .xlsx formula as its formula text, not its cached result).
"""

import csv
import datetime
import io
import zipfile
from collections.abc import Iterator
from decimal import Decimal

from django.utils.translation import gettext as _

MAX_COLUMNS = 64
MAX_LINE = 64 * 1024  # characters of one CSV line: far beyond any real row
XLSX_MAX_UNPACKED = 2 * 1024**3  # bytes, the whole workbook unpacked
XLSX_MAX_RATIO = 200  # unpacked / packed bytes of one member of the archive
SNIFF = 8192


class FileRefused(Exception):
    """The file as a whole cannot be read; the message says why, for the user. `row`: the row where the
    file stops being readable, when known (a CSV record PostgreSQL's COPY cannot parse)."""

    def __init__(self, message: str, *, row: int | None = None) -> None:
        super().__init__(message)
        self.row = row


def file_format(name: str, head: bytes) -> str:
    """'csv' or 'xlsx', from the name and the first bytes; anything else is refused."""
    lower = (name or "").lower()
    if lower.endswith(".xlsx"):
        if not head.startswith(b"PK\x03\x04"):
            raise FileRefused(_("The file is named .xlsx but is not an Excel workbook."))
        return "xlsx"
    if lower.endswith(".csv") or lower.endswith(".txt") or not lower:
        if head.startswith(b"PK\x03\x04") or b"\x00" in head:
            raise FileRefused(_("The file is not a CSV text file: save it as CSV UTF-8 or as .xlsx."))
        return "csv"
    raise FileRefused(_("Only CSV (UTF-8) and .xlsx files can be imported."))


class Rows:
    """The header's column names and an iterator of (row number, cells); row 2 is the first data row.
    `done()` is the share of the file read so far (0 to 1), for the progress bar. Raises FileRefused for
    a file that cannot be read as a whole (also while iterating)."""

    def __init__(self, fileobj, name: str) -> None:
        fileobj.seek(0, io.SEEK_END)
        self.size = fileobj.tell() or 1
        fileobj.seek(0)
        head = fileobj.read(SNIFF)
        fileobj.seek(0)
        self.format = file_format(name, head)
        self._file = fileobj
        self._last_row = 0
        self._max_row = 0
        if self.format == "xlsx":
            self.header, self._rows, self._max_row = _xlsx_rows(fileobj)
        else:
            self.header, self._rows = _csv_rows(fileobj)

    def __iter__(self) -> Iterator[tuple[int, list[str]]]:
        for number, cells in self._rows:
            self._last_row = number
            yield number, cells

    def done(self) -> float:
        if self.format == "xlsx":
            return min(1.0, self._last_row / self._max_row) if self._max_row else 0.0
        try:
            return min(1.0, self._file.tell() / self.size)
        except (OSError, ValueError):
            return 0.0


# --- CSV ----------------------------------------------------------------------------------------


def _lines(text: io.TextIOBase) -> Iterator[str]:
    while True:
        try:
            line = text.readline(MAX_LINE + 1)
        except UnicodeDecodeError:
            raise FileRefused(
                _("The file is not UTF-8 text. Save it from the ERP or Excel as “CSV UTF-8” and upload it again.")
            ) from None
        if not line:
            return
        if len(line) > MAX_LINE and not line.endswith("\n"):
            raise FileRefused(
                _("A line of the file is longer than %(limit)s characters: it is not a CSV file of the ERP's rows.")
                % {"limit": f"{MAX_LINE:,}"}
            )
        yield line


class _Borrowed(io.RawIOBase):
    """The upload, read through a text wrapper that must not close it when it is done."""

    def __init__(self, fileobj) -> None:
        self._file = fileobj

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._file.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def _csv_rows(fileobj) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    text = io.TextIOWrapper(io.BufferedReader(_Borrowed(fileobj)), encoding="utf-8-sig", errors="strict", newline="")
    reader = csv.reader(_lines(text))
    try:
        header = next(reader)
    except StopIteration:
        raise FileRefused(_("The file is empty: the first row must name the columns.")) from None
    except csv.Error as error:
        raise FileRefused(_("The file is not valid CSV: %(error)s.") % {"error": error}) from None
    header = _check_header(header)

    def rows() -> Iterator[tuple[int, list[str]]]:
        number = 1
        try:
            for cells in reader:
                number += 1
                if not any(cell.strip() for cell in cells):
                    continue
                yield number, cells
        except csv.Error as error:
            raise FileRefused(
                _("Row %(row)s is not valid CSV: %(error)s.") % {"row": number + 1, "error": error}, row=number + 1
            ) from None

    return header, rows()


def _check_header(header: list) -> list[str]:
    names = [str(cell or "").strip().lower() for cell in header]
    while names and not names[-1]:
        names.pop()
    if len(names) > MAX_COLUMNS:
        raise FileRefused(
            _("The first row has %(count)s columns; an import has at most %(limit)s.")
            % {"count": f"{len(names):,}", "limit": MAX_COLUMNS}
        )
    if not names:
        raise FileRefused(_("The first row must name the columns."))
    return names


# --- xlsx ---------------------------------------------------------------------------------------


def _check_archive(fileobj) -> None:
    """Refuse a zip bomb before openpyxl unpacks anything: the sizes the archive declares are checked
    (zipfile stops reading a member beyond its declared size)."""
    try:
        archive = zipfile.ZipFile(fileobj)
    except zipfile.BadZipFile:
        raise FileRefused(_("The file is named .xlsx but is not an Excel workbook.")) from None
    total = 0
    for member in archive.infolist():
        total += member.file_size
        if member.compress_size and member.file_size / member.compress_size > XLSX_MAX_RATIO:
            raise FileRefused(
                _("The workbook unpacks to far more than its size (a compressed “zip bomb”); it is refused.")
            )
    if total > XLSX_MAX_UNPACKED:
        raise FileRefused(_("The workbook unpacks to more than 2 GB; split it or export CSV."))
    fileobj.seek(0)


def _xlsx_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return value.date().isoformat() if value.time() == datetime.time(0) else value.isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        # The decimal the cell shows, not the binary float (0.1 + 0.2 stays 0.3 at cents).
        return format(Decimal(repr(value)), "f")
    return str(value)


def _xlsx_rows(fileobj) -> tuple[list[str], Iterator[tuple[int, list[str]]], int]:
    _check_archive(fileobj)
    from openpyxl import load_workbook

    try:
        # data_only=False: a formula is read as its text, never as a result computed elsewhere.
        workbook = load_workbook(fileobj, read_only=True, data_only=False)
        sheet = workbook.worksheets[0]
    except Exception:  # openpyxl raises many kinds of error on a broken workbook
        raise FileRefused(_("The workbook cannot be read: save it again from Excel as .xlsx.")) from None
    declared = sheet.max_column or 0
    if declared > MAX_COLUMNS * 4:
        raise FileRefused(
            _("The first sheet has %(count)s columns; an import has at most %(limit)s.")
            % {"count": f"{declared:,}", "limit": MAX_COLUMNS}
        )
    rows = sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS + 1)
    try:
        header = next(rows)
    except StopIteration:
        raise FileRefused(_("The file is empty: the first row must name the columns.")) from None
    header = _check_header([cell for cell in header])

    def data() -> Iterator[tuple[int, list[str]]]:
        try:
            for number, values in enumerate(rows, start=2):
                cells = [_xlsx_cell(value) for value in values]
                if not any(cell.strip() for cell in cells):
                    continue
                yield number, cells
        finally:
            workbook.close()

    return header, data(), sheet.max_row or 0
