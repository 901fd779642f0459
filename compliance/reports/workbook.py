"""How every report workbook looks, and how rows get into it.

Workbooks are write-only (streamed): each row goes to a temporary file as it is appended, so memory
does not grow with the number of rows. Consequences of streaming that this module takes care of:
column widths, frozen panes and the header row height are set before the first row; filters,
conditional formats, print setup and charts are written when the workbook is saved.

Every figure is a value, never a formula. Money is numeric with `#,##0.00`, percentages are
fractions shown as `0.00%`, dates are dates. Text is always written as text: a value that Excel or
LibreOffice could take for a formula (it starts with =, +, - or @) also gets a quote prefix, so it
shows as typed and is never evaluated; characters XML cannot carry are dropped.

Speed: writing a cell is most of a report's time. Each sheet writes every value through one reused
cell whose type and style are set directly from the column's kind, with the style's index looked up
once per style rather than once per cell (`_ReusedCell`, installed as the worksheet's
`_values_to_row`). This leans on openpyxl 3.1's write-only internals (pinned in requirements.txt); the
tests that read the workbooks back check types, formats and text cells, and fail if that changes.
"""

import datetime
import enum
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, BinaryIO, Protocol

from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.chart import BarChart, Reference
from openpyxl.chart.data_source import AxDataSource, StrRef
from openpyxl.formatting.rule import CellIsRule, FormulaRule
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.worksheet import Worksheet

from compliance.common.chinese import chinese

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

MONEY_FORMAT = "#,##0.00"
PERCENT_FORMAT = "0.00%"
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
INTEGER_FORMAT = "#,##0"

# The colours of utilisation wherever it is shown (compliance.templatetags.cct): amber at the alert
# threshold, red at the cap.
WARNING_FILL = PatternFill("solid", start_color="FFE0B2", end_color="FFE0B2")
WARNING_FONT = Font(color="E65100", bold=True)
FULL_FILL = PatternFill("solid", start_color="FFCDD2", end_color="FFCDD2")
FULL_FONT = Font(color="B71C1C", bold=True)
HEADER_FILL = PatternFill("solid", start_color="DCE6F1", end_color="DCE6F1")

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

YES, NO = "Yes · 是", "No · 否"


# Printing: landscape A4 with 0.4" side margins leaves 10.9" (785 points). A column of width w (characters of
# the 11-point default font) prints about 5.25w + 5 points wide. Below 73% the 11-point text would print under
# 8 points: such sheets print at 75% across pages instead of one page wide.
PRINTABLE_POINTS = 785
MIN_PRINT_SCALE = 0.73
WIDE_PRINT_SCALE = 75
LINE_POINTS = 15  # the height of one line of 11-point text in a row


def printed_scale(widths: Sequence[float]) -> float:
    """The scale at which columns of these widths print one page wide."""
    return min(1.0, PRINTABLE_POINTS / sum(5.25 * w + 5 for w in widths))


def wrapped_lines(text: str, width: float) -> int:
    """How many lines `text` takes wrapped in a column of `width` characters (a Chinese character is about
    two wide, a Latin one about 1.1 on average); each explicit line break starts a line."""
    lines = 0
    room = max(width - 1, 1)
    for line in text.split("\n"):
        units = sum(2.0 if ord(ch) >= 0x2E80 else 1.1 for ch in line)
        lines += max(1, math.ceil(units / room))
    return lines


class Kind(enum.Enum):
    TEXT = "text"
    MONEY = "money"
    PERCENT = "percent"
    DATE = "date"
    DATETIME = "datetime"
    INTEGER = "integer"


_FORMATS = {
    Kind.MONEY: MONEY_FORMAT,
    Kind.PERCENT: PERCENT_FORMAT,
    Kind.DATE: DATE_FORMAT,
    Kind.DATETIME: DATETIME_FORMAT,
    Kind.INTEGER: INTEGER_FORMAT,
}


@dataclass(frozen=True)
class Column:
    """A column of a table: its header in English and Chinese, what it holds and how wide it is."""

    en: str
    zh: str
    kind: Kind = Kind.TEXT
    width: float = 14

    @property
    def header(self) -> str:
        return f"{self.en}\n{chinese(self.zh)}"


def fraction(pct: Decimal | None) -> Decimal | None:
    """A percentage figure (80.00) as the fraction a percent-formatted cell holds (0.8000)."""
    return None if pct is None else pct / 100


def yes_no(value: bool | None) -> str | None:
    return None if value is None else (YES if value else NO)


def local_naive(moment: datetime.datetime | None) -> datetime.datetime | None:
    """Excel has no time zones: times are shown in the business time zone."""
    if moment is None:
        return None
    return timezone.localtime(moment).replace(tzinfo=None) if timezone.is_aware(moment) else moment


MAX_TEXT = 32767  # the most characters a cell holds


def safe_text(value: str) -> str:
    if ILLEGAL_CHARACTERS_RE.search(value):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
    return value if len(value) <= MAX_TEXT else value[:MAX_TEXT]


class _Style:
    """A cell style registered with the workbook once: its style array and its index."""

    __slots__ = ("array", "id")

    def __init__(self, array, index: int) -> None:
        self.array, self.id = array, index


class _ReusedCell(Cell):
    """The cell a sheet writes every value through: the writer serialises each cell before asking for
    the next one, so one object serves the whole sheet."""

    __slots__ = ("_style_id",)

    @property
    def style_id(self) -> int:
        if self._style_id is None:  # a value bound by openpyxl itself (see _bind)
            return Cell.style_id.fget(self)
        return self._style_id


def _bind(cell: _ReusedCell, value: Any, style: _Style | None) -> None:
    """Any other value: openpyxl decides its type (as a plain append would)."""
    cell._style = None
    cell.value = value
    if style is not None and not cell.has_style:
        cell._style, cell._style_id = style.array, style.id
    else:
        cell._style_id = None


def _filler(kind: Kind, style: _Style | None, guarded: _Style):
    """How a column of `kind` puts a value into the reused cell."""
    if kind is Kind.TEXT:

        def fill(cell: _ReusedCell, value: Any) -> None:
            if value.__class__ is not str:
                return _bind(cell, value, style)
            value = safe_text(value)
            chosen = guarded if value.startswith(FORMULA_TRIGGERS) else style
            cell._value, cell.data_type = value, "s"
            cell._style, cell._style_id = (chosen.array, chosen.id) if chosen else (None, 0)

        return fill
    numeric = kind in (Kind.MONEY, Kind.PERCENT, Kind.INTEGER)
    types = (Decimal, int) if numeric else (datetime.date, datetime.datetime)

    def fill(cell: _ReusedCell, value: Any) -> None:
        if kind is Kind.DATETIME:
            value = local_naive(value)
        if not isinstance(value, types) or isinstance(value, bool):
            return _bind(cell, value, style)
        cell._value, cell.data_type = value, "n" if numeric else "d"
        cell._style, cell._style_id = style.array, style.id

    return fill


class Progress(Protocol):
    """Told how far a report has got (compliance.jobs.report_jobs shows it): rows written so far, and for a PDF
    the share of the layout done."""

    def rows(self, written: int) -> None: ...

    def layout(self, done: float) -> None: ...


PROGRESS_EVERY = 500  # rows between two reports of progress


class ReportWorkbook:
    """A write-only workbook with this product's styles; `save` streams it to a binary file."""

    def __init__(self, *, progress: Progress | None = None) -> None:
        self.book = Workbook(write_only=True)
        self.generated_at = timezone.localtime()
        self.progress = progress
        self.rows_written = 0

    def table(self, title: str, columns: Sequence[Column], *, heading: str, note: str = "") -> "TableSheet":
        return TableSheet(self, title, columns, heading=heading, note=note)

    def sheet(self, title: str, widths: Sequence[float], *, heading: str, note: str = "") -> "FreeSheet":
        return FreeSheet(self, title, widths, heading=heading, note=note)

    def save(self, output: BinaryIO) -> None:
        self.book.save(output)


class _Sheet:
    """Common to every sheet: two heading rows, styles shared by all cells of a kind, printing."""

    def __init__(self, report: ReportWorkbook, title: str, widths: Sequence[float], *, heading: str, note: str):
        self.ws: WriteOnlyWorksheet = report.book.create_sheet(chinese(title)[:31])
        self.report = report
        self.rows_written = 0
        self._heading = chinese(heading)
        self._note = chinese(
            " · ".join(part for part in (note, f"Generated {report.generated_at:%Y-%m-%d %H:%M} · 製表時間") if part)
        )
        self._started = False
        for index, width in enumerate(widths, 1):
            self.ws.column_dimensions[get_column_letter(index)].width = width
        self.width = len(widths)
        self.widths = list(widths)
        setup = self.ws.page_setup
        setup.orientation = "landscape"
        setup.paperSize = Worksheet.PAPERSIZE_A4
        self.ws.print_options.gridLines = False
        self.ws.page_margins.left = self.ws.page_margins.right = 0.4
        if printed_scale(widths) >= MIN_PRINT_SCALE:
            # One page wide, as many pages long as the rows need (never squeezed onto one).
            setup.fitToWidth = 1
            setup.fitToHeight = 0
            self.ws.sheet_properties.pageSetUpPr.fitToPage = True
        else:
            # Too wide to fit legibly: printed at a fixed scale across pages, the first column repeated.
            setup.scale = WIDE_PRINT_SCALE
            self.ws.sheet_properties.pageSetUpPr.fitToPage = False
            self.ws.print_title_cols = "A:A"
        # One shared style per kind of cell: building a style per cell would cost as much as writing it.
        self._styles = {kind: self._style_of(number_format=fmt) for kind, fmt in _FORMATS.items()}
        self._guarded = self._style_of(quote_prefix=True)
        self._bold_style = self._style_of(font=Font(bold=True))
        self._title_style = self._style_of(font=Font(bold=True, size=14))
        self._note_style = self._style_of(font=Font(italic=True, color="555555"))
        self._header_style = self._style_of(
            font=Font(bold=True),
            fill=HEADER_FILL,
            alignment=Alignment(wrap_text=True, vertical="center"),
            border=Border(bottom=Side(style="thin", color="7F7F7F")),
        )
        self._cell = _ReusedCell(self.ws)
        self._cell._style_id = None
        self._fillers: list = []
        self.ws._values_to_row = self._cells

    def _style_of(
        self, *, number_format=None, font=None, fill=None, alignment=None, border=None, quote_prefix=False
    ) -> _Style:
        prototype = WriteOnlyCell(self.ws)
        if number_format:
            prototype.number_format = number_format
        if font:
            prototype.font = font
        if fill:
            prototype.fill = fill
        if alignment:
            prototype.alignment = alignment
        if border:
            prototype.border = border
        if quote_prefix:
            prototype.quotePrefix = True
        return _Style(prototype._style, prototype.style_id)

    def fillers(self, kinds: Sequence[Kind], styles: Sequence[_Style | None] | None = None) -> list:
        """Fillers for a row of `kinds`; `styles` replaces the style of text columns (None: plain)."""
        styles = styles or [None] * len(kinds)
        return [
            _filler(kind, style if kind is Kind.TEXT else self._styles[kind], self._guarded)
            for kind, style in zip(kinds, styles, strict=True)
        ]

    def _cells(self, values: Sequence[Any], row_index: int):
        """The worksheet's own conversion of a row into cells, replaced (see the module docstring)."""
        cell, fillers = self._cell, self._fillers
        for column, (value, fill) in enumerate(zip(values, fillers, strict=False), 1):
            if value is None:
                continue
            fill(cell, value)
            cell.row, cell.column = row_index, column
            yield cell

    def _append(self, values: Sequence[Any], fillers: list) -> None:
        self._fillers = fillers
        self.ws.append(values)
        self.rows_written += 1
        if self.report.progress is not None:
            report = self.report
            report.rows_written += 1
            if not report.rows_written % PROGRESS_EVERY:
                report.progress.rows(report.rows_written)

    def _text_row(self, text: str, style: _Style) -> None:
        self._append([text], self.fillers([Kind.TEXT], [style]))

    def start(self) -> None:
        """The heading rows; must come before any other row."""
        if self._started:
            return
        self._started = True
        self._text_row(self._heading, self._title_style)
        self._text_row(self._note, self._note_style)


class TableSheet(_Sheet):
    """A sheet holding one table: two heading rows, a bilingual header (frozen, with filters) and rows."""

    HEADER_ROW = 3

    def __init__(self, report: ReportWorkbook, title: str, columns: Sequence[Column], *, heading: str, note: str):
        super().__init__(report, title, [c.width for c in columns], heading=heading, note=note)
        self.columns = list(columns)
        self._row_fillers = self.fillers([c.kind for c in self.columns])
        self.ws.freeze_panes = f"A{self.HEADER_ROW + 1}"
        # Tall enough for the header that wraps most, so no header is cut off on screen or paper.
        lines = max(wrapped_lines(c.header, c.width) for c in self.columns)
        self.ws.row_dimensions[self.HEADER_ROW].height = max(32, LINE_POINTS * lines + 2)
        self.ws.print_title_rows = f"{self.HEADER_ROW}:{self.HEADER_ROW}"

    def start(self) -> None:
        """The heading rows and the header; written on the first row, so that a sheet created early (to
        keep the sheets in reading order) can be filled once its figures are known."""
        if self._started:
            return
        super().start()
        header = [Kind.TEXT] * len(self.columns)
        self._append([c.header for c in self.columns], self.fillers(header, [self._header_style] * len(header)))

    @property
    def first_data_row(self) -> int:
        return self.HEADER_ROW + 1

    @property
    def last_data_row(self) -> int:
        return self.rows_written

    def _index(self, en: str) -> int:
        return next(i for i, c in enumerate(self.columns, 1) if c.en == en)

    def column_letter(self, en: str) -> str:
        """The letter of the column whose English header is `en`."""
        return get_column_letter(self._index(en))

    def append(self, values: Sequence[Any]) -> None:
        if len(values) != len(self.columns):
            raise ValueError(f"{self.ws.title}: {len(values)} values for {len(self.columns)} columns")
        if not self._started:
            self.start()
        self._append(values, self._row_fillers)

    def extend(self, rows: Iterable[Sequence[Any]]) -> None:
        for row in rows:
            self.append(row)

    def finish(self) -> None:
        """Filters over the header and every data row (called once all rows are in)."""
        self.start()
        last = get_column_letter(len(self.columns))
        self.ws.auto_filter.ref = f"A{self.HEADER_ROW}:{last}{max(self.rows_written, self.HEADER_ROW)}"

    def colour_utilisation(self, *column_names: str, threshold: Decimal) -> None:
        """Amber at the alert threshold, red at 100%, on percentage columns (rules, not formulas in cells)."""
        if self.last_data_row < self.first_data_row:
            return
        for name in column_names:
            letter = self.column_letter(name)
            cells = f"{letter}{self.first_data_row}:{letter}{self.last_data_row}"
            full = CellIsRule(operator="greaterThanOrEqual", formula=["1"], fill=FULL_FILL, font=FULL_FONT)
            full.stopIfTrue = True
            warning = CellIsRule(
                operator="greaterThanOrEqual", formula=[str(threshold / 100)], fill=WARNING_FILL, font=WARNING_FONT
            )
            self.ws.conditional_formatting.add(cells, full)
            self.ws.conditional_formatting.add(cells, warning)

    def colour_by(self, target: str, source: str, *, threshold: Decimal) -> None:
        """Colours the cells of column `target` as the percentage in column `source` of the same row."""
        if self.last_data_row < self.first_data_row:
            return
        letter, by = self.column_letter(target), self.column_letter(source)
        cells = f"{letter}{self.first_data_row}:{letter}{self.last_data_row}"
        first = f"${by}{self.first_data_row}"
        full = FormulaRule(formula=[f"{first}>=1"], fill=FULL_FILL, font=FULL_FONT, stopIfTrue=True)
        warning = FormulaRule(formula=[f"{first}>={threshold / 100}"], fill=WARNING_FILL, font=WARNING_FONT)
        self.ws.conditional_formatting.add(cells, full)
        self.ws.conditional_formatting.add(cells, warning)

    def highlight(self, column: str, text: str) -> None:
        """Red, as a cap at 100%, for the cells of `column` that hold exactly `text` (e.g. a breach)."""
        if self.last_data_row < self.first_data_row:
            return
        letter = self.column_letter(column)
        cells = f"{letter}{self.first_data_row}:{letter}{self.last_data_row}"
        quoted = text.replace('"', '""')
        rule = FormulaRule(formula=[f'${letter}{self.first_data_row}="{quoted}"'], fill=FULL_FILL, font=FULL_FONT)
        self.ws.conditional_formatting.add(cells, rule)

    def bar_chart(self, *, title: str, label: str, values: Sequence[str], anchor_row: int | None = None) -> None:
        """A horizontal bar chart of the percentage columns `values` per row, labelled by column `label`."""
        if self.last_data_row < self.first_data_row:
            return
        chart = BarChart()
        chart.type = "bar"
        chart.style = 10
        chart.title = chinese(title)
        chart.y_axis.title = chinese("Utilisation · 使用率")
        chart.y_axis.number_format = "0%"
        chart.y_axis.scaling.min = 0
        # openpyxl 3.1 hides axes unless told otherwise.
        chart.x_axis.delete = False
        chart.y_axis.delete = False
        chart.x_axis.axPos = "l"  # horizontal bars: the caps down the left, percentages along the bottom
        chart.y_axis.axPos = "b"
        for name in values:
            index = self._index(name)
            data = Reference(self.ws, min_col=index, min_row=self.HEADER_ROW, max_row=self.last_data_row)
            chart.add_data(data, titles_from_data=True)
        # The labels are text: a string reference, or Excel would number the bars 1, 2, 3.
        letter = self.column_letter(label)
        labels = f"{quote_sheetname(self.ws.title)}!${letter}${self.first_data_row}:${letter}${self.last_data_row}"
        for series in chart.series:
            series.cat = AxDataSource(strRef=StrRef(f=labels))
        rows = self.last_data_row - self.first_data_row + 1
        chart.height = max(7.5, 1.2 * rows + 3)
        chart.width = 24
        self.ws.add_chart(chart, f"A{anchor_row or self.last_data_row + 3}")


class FreeSheet(_Sheet):
    """A sheet laid out row by row (the one-page summaries), with the same styles."""

    def __init__(self, report: ReportWorkbook, title: str, widths: Sequence[float], *, heading: str, note: str):
        super().__init__(report, title, widths, heading=heading, note=note)
        # One page wide; as long as its rows need, each row as tall as its wrapped text, so that nothing is
        # squeezed or printed over the row below.
        top = Alignment(wrap_text=True, vertical="top")
        self._header_wrap_style = self._style_of(
            font=Font(bold=True),
            fill=HEADER_FILL,
            alignment=Alignment(wrap_text=True, vertical="top"),
            border=Border(bottom=Side(style="thin", color="7F7F7F")),
        )
        self._wrap_style = self._style_of(alignment=top)
        self._bold_wrap_style = self._style_of(font=Font(bold=True), alignment=top)

    def blank(self) -> None:
        self.start()
        self._append([], [])

    def section(self, text: str) -> None:
        self.start()
        self._text_row(text, self._title_style)

    def header(self, columns: Sequence[Column]) -> None:
        self.start()
        kinds = [Kind.TEXT] * len(columns)
        values = [c.header for c in columns]
        self._size_and_merge(values, wrap=True)
        self._append(values, self.fillers(kinds, [self._header_wrap_style] * len(columns)))

    def _size_and_merge(self, values: Sequence[Any], *, wrap: bool) -> None:
        """Before a row is written: its last value spans the columns left (merged, so it wraps within the
        page rather than running off it), and the row is as tall as its most wrapped cell."""
        row = self.rows_written + 1
        widths = self.widths[: len(values)]
        if len(values) < self.width:
            widths[-1] = sum(self.widths[len(values) - 1 :])
            first, last = get_column_letter(len(values)), get_column_letter(self.width)
            self.ws.merged_cells.add(f"{first}{row}:{last}{row}")
        if not wrap:
            return
        lines = max(
            (
                wrapped_lines(value, width)
                for value, width in zip(values, widths, strict=True)
                if isinstance(value, str)
            ),
            default=1,
        )
        if lines > 1:
            self.ws.row_dimensions[row].height = LINE_POINTS * lines

    def row(
        self, values: Sequence[Any], kinds: Sequence[Kind], *, bold_first: bool = False, wrap: bool = False
    ) -> None:
        """One row. `wrap` wraps the text of every cell, the last spanning the columns to its right."""
        self.start()
        styles: list[_Style | None] = [self._wrap_style if wrap else None] * len(kinds)
        if wrap:
            self._size_and_merge(values, wrap=True)
        if bold_first:
            styles[0] = self._bold_wrap_style if wrap else self._bold_style
        self._append(values, self.fillers(kinds, styles))
