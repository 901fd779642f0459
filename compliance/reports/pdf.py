"""The reports as printable A4 PDFs (ReportLab), built by the very functions that build the workbooks.

`PdfReport` answers the calls a report makes on a `ReportWorkbook` (`table`, `sheet`, and on a table
`append`, `extend`, `finish`, the colour rules and `bar_chart`), so `build_monthly_report` and the others
fill a PDF with the same rows as the workbook: the figures cannot disagree. Each sheet becomes a section
with its heading; rows are kept until `save` lays the document out.

Legibility, the point of the format:
- A4 landscape, every table cell in 8 points (nothing smaller), headings larger;
- a table wider than the page is printed in bands of columns, each band repeating the row's key column
  (the order number, the cap), so no column is squeezed and nothing runs off the page;
- text that does not fit its column wraps (a long word is split), and rows grow to their content;
- long tables run across pages with the header repeated on each;
- the Summary opens with a chart per cap: actual, committed and forecast at period end as a share of the
  cap's amount, against lines at the alert threshold and at 100%.
English and Chinese are drawn with WenQuanYi Zen Hei (Debian's fonts-wqy-zenhei, installed by
scripts/install-pdf-tools), which carries both scripts.
"""

import datetime
from collections.abc import Iterable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO
from xml.sax.saxutils import escape

from django.conf import settings
from django.utils import timezone
from reportlab.graphics.shapes import Drawing, Line, Rect, String
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (
    CondPageBreak,
    KeepTogether,
    LongTable,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from compliance.common.chinese import chinese
from compliance.reports.workbook import PROGRESS_EVERY, Column, Kind, Progress, ReportWorkbook, local_naive

PDF_CONTENT_TYPE = "application/pdf"

FONT = "CCT-Hei"
FONT_FILES = (
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/wqy-zenhei/wqy-zenhei.ttc",
)

PAGE = landscape(A4)
MARGIN = 12 * mm
FRAME_WIDTH = PAGE[0] - 2 * MARGIN
BODY_SIZE = 8  # the smallest type anywhere in a pack
HEADING_SIZE = 13
PADDING = 3  # left and right padding of a table cell, points
# A workbook column's width is in characters; this many points a character at 8 points.
POINTS_PER_CHARACTER = 4.4
ROWS_PER_TABLE = 250  # a long table is laid out in slices: ReportLab sizes a table all at once

AMBER = colors.HexColor("#FFE0B2")
RED = colors.HexColor("#FFCDD2")
HEADER_FILL = colors.HexColor("#DCE6F1")
GRID = colors.HexColor("#9E9E9E")


class FontMissing(RuntimeError):
    pass


def register_font() -> str:
    """Register the CJK font once; a clear error names the Debian package when it is missing."""
    if FONT in pdfmetrics.getRegisteredFontNames():
        return FONT
    for candidate in FONT_FILES:
        if Path(candidate).exists():
            pdfmetrics.registerFont(TTFont(FONT, candidate, subfontIndex=0))
            pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=FONT, italic=FONT, boldItalic=FONT)
            return FONT
    raise FontMissing(
        "The PDF reports need the WenQuanYi Zen Hei font: run scripts/install-pdf-tools "
        "(apt-get install fonts-wqy-zenhei)."
    )


def text_width(text: str, size: float = BODY_SIZE) -> float:
    return pdfmetrics.stringWidth(text, FONT, size)


def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("cell", fontName=FONT, fontSize=BODY_SIZE, leading=BODY_SIZE * 1.25, splitLongWords=1)
    return {
        "cell": base,
        "right": ParagraphStyle("right", parent=base, alignment=TA_RIGHT),
        "header": ParagraphStyle("header", parent=base),
        "title": ParagraphStyle("title", parent=base, fontSize=HEADING_SIZE, leading=HEADING_SIZE * 1.3),
        "section": ParagraphStyle("section", parent=base, fontSize=10, leading=13, spaceBefore=4, spaceAfter=2),
        "note": ParagraphStyle("note", parent=base, fontSize=9, leading=11.5, textColor=colors.HexColor("#555555")),
    }


def format_value(value: Any, kind: Kind) -> str:
    """A cell's value as printed: the workbook's number formats, as text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if kind is Kind.MONEY and isinstance(value, Decimal | int):
        return f"{value:,.2f}"
    if kind is Kind.PERCENT and isinstance(value, Decimal | int):
        return f"{Decimal(value) * 100:,.2f}%"
    if kind is Kind.INTEGER and isinstance(value, Decimal | int):
        return f"{value:,}"
    if isinstance(value, datetime.datetime):
        return f"{local_naive(value):%Y-%m-%d %H:%M}"
    if isinstance(value, datetime.date):
        return f"{value:%Y-%m-%d}"
    return str(value)


def _numeric(kind: Kind) -> bool:
    return kind in (Kind.MONEY, Kind.PERCENT, Kind.INTEGER)


class PdfReport:
    """A report laid out for print; stands where a `ReportWorkbook` does."""

    def __init__(self, *, title: str = "", progress: Progress | None = None) -> None:
        register_font()
        self.generated_at = timezone.localtime()
        self.title = title
        self.progress = progress
        self.rows_written = 0
        self.sections: list[PdfTable | PdfFreeSheet] = []

    def table(self, title: str, columns: Sequence[Column], *, heading: str, note: str = "") -> "PdfTable":
        section = PdfTable(self, title, columns, heading=heading, note=note)
        self.sections.append(section)
        return section

    def sheet(self, title: str, widths: Sequence[float], *, heading: str, note: str = "") -> "PdfFreeSheet":
        section = PdfFreeSheet(self, title, widths, heading=heading, note=note)
        self.sections.append(section)
        return section

    def flowables(self) -> list:
        styles = _styles()
        story: list = []
        for index, section in enumerate(self.sections):
            if index:
                story.append(PageBreak())
            story.append(Paragraph(escape(section.heading), styles["title"]))
            story.append(Paragraph(escape(section.note), styles["note"]))
            story.append(Spacer(1, 4))
            story.extend(section.flowables(styles))
        return story

    def save(self, output: BinaryIO) -> None:
        generated = f"{self.generated_at:%Y-%m-%d %H:%M}"
        footer = chinese(f"{self.title} · Generated {generated} · 製表時間")

        def page_furniture(canvas, doc) -> None:
            canvas.saveState()
            canvas.setFont(FONT, BODY_SIZE)
            canvas.setFillColor(colors.HexColor("#555555"))
            canvas.drawString(MARGIN, MARGIN / 2, footer)
            canvas.drawRightString(PAGE[0] - MARGIN, MARGIN / 2, chinese(f"Page {doc.page} · 第{doc.page}頁"))
            canvas.restoreState()

        doc = SimpleDocTemplate(
            output,
            pagesize=PAGE,
            leftMargin=MARGIN,
            rightMargin=MARGIN,
            topMargin=MARGIN,
            bottomMargin=MARGIN,
            title=chinese(self.title),
            author="Connected-transaction compliance tracker",
        )
        if self.progress is not None:
            progress, total = self.progress, [1]

            def laid_out(kind: str, value: int) -> None:
                if kind == "SIZE_EST":
                    total[0] = max(value, 1)
                elif kind == "PROGRESS":
                    progress.layout(value / total[0])

            doc.setProgressCallBack(laid_out)
        doc.build(self.flowables(), onFirstPage=page_furniture, onLaterPages=page_furniture)


class _Section:
    def __init__(self, report: PdfReport, title: str, *, heading: str, note: str) -> None:
        self.title = chinese(title)
        self.heading = chinese(heading)
        self.note = chinese(
            " · ".join(part for part in (note, f"Generated {report.generated_at:%Y-%m-%d %H:%M} · 製表時間") if part)
        )


def _cell(text: str, width: float, style: ParagraphStyle) -> Any:
    """A plain string when it fits on one line (cheap to draw), else a paragraph that wraps."""
    if "\n" not in text and text_width(text) <= width - 2 * PADDING:
        return text
    return Paragraph(escape(text).replace("\n", "<br/>"), style)


def _widths(columns: Sequence[Column], needed: list[float]) -> list[float]:
    """Points per column: the workbook's width, widened to the longest figure of a numeric column and to
    its header's longest word, at most the frame's width."""
    widths = []
    for column, need in zip(columns, needed, strict=True):
        header = max((text_width(word) for word in f"{column.en} {column.zh}".split()), default=0)
        width = max(column.width * POINTS_PER_CHARACTER, need + 2 * PADDING, min(header, 90) + 2 * PADDING)
        widths.append(min(width, FRAME_WIDTH / 2))
    return widths


def _bands(widths: list[float], key: int) -> list[list[int]]:
    """Column indexes of each band: as many columns as fit on the page, the key column first in every band."""
    bands: list[list[int]] = []
    current: list[int] = []
    used = 0.0
    for index, width in enumerate(widths):
        if current and used + width > FRAME_WIDTH:
            bands.append(current)
            current, used = [key], widths[key]
        if index == key and bands:
            continue
        current.append(index)
        used += width
    if current:
        bands.append(current)
    return bands


class PdfTable(_Section):
    """A table section: one row per `append`, the same values the workbook's sheet receives."""

    def __init__(self, report: PdfReport, title: str, columns: Sequence[Column], *, heading: str, note: str):
        super().__init__(report, title, heading=heading, note=note)
        self.report = report
        self.columns = list(columns)
        self.rows: list[list[str]] = []
        self.raw: list[Sequence[Any]] = []
        self._needed = [0.0] * len(self.columns)
        self._numeric = [_numeric(c.kind) for c in self.columns]
        self._digit = text_width("0")
        self._rules: list[tuple[str, Any]] = []
        self._chart: tuple[str, list[str]] | None = None

    @property
    def rows_written(self) -> int:
        return len(self.rows)

    def _index(self, en: str) -> int:
        return next(i for i, c in enumerate(self.columns) if c.en == en)

    def append(self, values: Sequence[Any]) -> None:
        if len(values) != len(self.columns):
            raise ValueError(f"{self.title}: {len(values)} values for {len(self.columns)} columns")
        row = []
        for index, (value, column) in enumerate(zip(values, self.columns, strict=True)):
            text = format_value(value, column.kind)
            if self._numeric[index] and not isinstance(value, str):
                # Figures never wrap: the column is as wide as its longest one (digits are all one width).
                need = len(text) * self._digit
                if need > self._needed[index]:
                    self._needed[index] = need
            row.append(text)
        self.rows.append(row)
        self.raw.append(values)
        if self.report.progress is not None:
            self.report.rows_written += 1
            if not self.report.rows_written % PROGRESS_EVERY:
                self.report.progress.rows(self.report.rows_written)

    def extend(self, rows: Iterable[Sequence[Any]]) -> None:
        for row in rows:
            self.append(row)

    def finish(self) -> None:
        pass

    def start(self) -> None:
        pass

    def column_letter(self, en: str) -> str:
        return en

    def colour_utilisation(self, *column_names: str, threshold: Decimal) -> None:
        for name in column_names:
            self._rules.append(("pct", (self._index(name), self._index(name), threshold)))

    def colour_by(self, target: str, source: str, *, threshold: Decimal) -> None:
        self._rules.append(("pct", (self._index(target), self._index(source), threshold)))

    def highlight(self, column: str, text: str) -> None:
        self._rules.append(("text", (self._index(column), text)))

    def bar_chart(self, *, title: str, label: str, values: Sequence[str], anchor_row: int | None = None) -> None:
        self._chart = (title, label)

    # --- layout ---

    def _fills(self) -> list[tuple[int, int, colors.Color]]:
        """(row, column, colour) of every coloured cell: amber at the alert threshold, red at 100%."""
        fills = []
        for kind, rule in self._rules:
            for row_index, values in enumerate(self.raw):
                if kind == "pct":
                    target, source, threshold = rule
                    value = values[source]
                    if not isinstance(value, Decimal | int) or isinstance(value, bool):
                        continue
                    if value >= 1:
                        fills.append((row_index, target, RED))
                    elif value * 100 >= threshold:
                        fills.append((row_index, target, AMBER))
                else:
                    column, text = rule
                    if values[column] == text:
                        fills.append((row_index, column, RED))
        return fills

    def _key(self) -> int:
        for name in ("Order", "Cap", "Connected person", "Record", "Matter", "Classified"):
            if any(c.en == name for c in self.columns):
                return self._index(name)
        return 0

    def flowables(self, styles: dict[str, ParagraphStyle]) -> list:
        story: list = []
        if self._chart is not None and self.rows:
            story.extend(self._chart_flowables(styles))
        if not self.rows:
            story.append(Paragraph("None · 沒有", styles["cell"]))
            return story
        widths = _widths(self.columns, self._needed)
        bands = _bands(widths, self._key())
        fills = self._fills()
        for number, band in enumerate(bands, 1):
            if len(bands) > 1:
                names = ", ".join(self.columns[i].en for i in band if i != self._key() or number == 1)
                story.append(CondPageBreak(60))
                story.append(
                    Paragraph(
                        escape(f"Columns {number} of {len(bands)} · 第{number}/{len(bands)}部分: {names}"),
                        styles["section"],
                    )
                )
            story.extend(self._band_tables(band, widths, fills, styles))
        return story

    def _band_tables(self, band: list[int], widths: list[float], fills, styles) -> list:
        band_widths = [widths[i] for i in band]
        spare = FRAME_WIDTH - sum(band_widths)
        texts = [i for i, column in enumerate(band) if not self._numeric[column]]
        if spare > 0 and texts:  # the room left over goes to the text columns, so they wrap less
            for i in texts:
                band_widths[i] += spare / len(texts)
        header = [
            Paragraph(escape(self.columns[c].en) + "<br/>" + escape(chinese(self.columns[c].zh)), styles["header"])
            for c in band
        ]
        body_style, right = styles["cell"], styles["right"]
        cells = [
            [
                _cell(row[c], width, right if self._numeric[c] else body_style)
                for c, width in zip(band, band_widths, strict=True)
            ]
            for row in self.rows
        ]
        position = {column: i for i, column in enumerate(band)}
        tables = []
        for first in range(0, len(cells), ROWS_PER_TABLE):
            chunk = cells[first : first + ROWS_PER_TABLE]
            commands = [
                ("FONT", (0, 0), (-1, -1), FONT, BODY_SIZE),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("BACKGROUND", (0, 0), (-1, 0), HEADER_FILL),
                ("LINEBELOW", (0, 0), (-1, 0), 0.6, GRID),
                ("LINEBELOW", (0, 1), (-1, -1), 0.25, GRID),
                ("LEFTPADDING", (0, 0), (-1, -1), PADDING),
                ("RIGHTPADDING", (0, 0), (-1, -1), PADDING),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
            ]
            for i, column in enumerate(band):
                if self._numeric[column]:
                    commands.append(("ALIGN", (i, 1), (i, -1), "RIGHT"))
            for row_index, column, colour in fills:
                if first <= row_index < first + ROWS_PER_TABLE and column in position:
                    commands.append(("BACKGROUND", (position[column], row_index - first + 1), None, colour))
            commands = [(c[0], c[1], c[2] if c[2] is not None else c[1], *c[3:]) for c in commands]
            table = LongTable([header, *chunk], colWidths=band_widths, repeatRows=1)
            table.setStyle(TableStyle(commands))
            tables.append(table)
        return tables

    def _chart_flowables(self, styles) -> list:
        title, label = self._chart
        label_index = self._index(label)
        names = {c.en for c in self.columns}
        series = [
            (name, colour)
            for name, colour in (
                ("Actual %", colors.HexColor("#1565C0")),
                ("Committed %", colors.HexColor("#90CAF9")),
                ("Forecast %", colors.HexColor("#8D6E63")),
            )
            if name in names
        ]
        amount = self._index("Annual cap") if "Annual cap" in names else None
        currency = self._index("Currency") if "Currency" in names else None
        caps = []
        for row, values in zip(self.rows, self.raw, strict=True):
            figures = [values[self._index(name)] for name, _ in series]
            caption = row[label_index]
            if amount is not None:
                caption += f" · {row[currency] if currency is not None else ''} {row[amount]}".rstrip()
            caps.append((caption, [Decimal(v) * 100 if isinstance(v, Decimal | int) else None for v in figures]))
        threshold = Decimal(settings.CCT_DEFAULT_ALERT_THRESHOLD)
        story = [Paragraph(escape(chinese(title)), styles["section"])]
        per_drawing = 8
        for first in range(0, len(caps), per_drawing):
            drawing = utilisation_chart(caps[first : first + per_drawing], series, threshold=threshold)
            story.append(KeepTogether([drawing]))
        story.append(Spacer(1, 6))
        story.append(CondPageBreak(120))
        return story


CHART_LABEL_WIDTH = 250
CHART_BAR_HEIGHT = 9
CHART_GAP = 10
CHART_LEGEND = 16


def utilisation_chart(
    caps: list[tuple[str, list[Decimal | None]]], series: list[tuple[str, colors.Color]], *, threshold: Decimal
) -> Drawing:
    """Horizontal bars per cap (one per series, as a percentage of the cap's amount) with the alert threshold
    and 100% drawn across; a bar beyond the scale is cut at its end with its figure printed."""
    per_cap = len(series) * CHART_BAR_HEIGHT + CHART_GAP + BODY_SIZE + 4
    height = CHART_LEGEND + len(caps) * per_cap + 14
    width = FRAME_WIDTH
    drawing = Drawing(width, height)
    top_scale = max([Decimal(120)] + [v for _, vs in caps for v in vs if v is not None])
    scale = _ChartScale(CHART_LABEL_WIDTH, width - 60, min(top_scale, Decimal(200)))
    _chart_legend(drawing, series, left=scale.left, height=height)
    y = height - CHART_LEGEND
    for caption, values in caps:
        y = _chart_cap_bars(drawing, caption, values, series, scale=scale, y=y, width=width)
    _chart_lines(drawing, scale, threshold=threshold, bottom=y + CHART_GAP - 2, top=height - CHART_LEGEND)
    return drawing


class _ChartScale:
    """The plot's horizontal scale: 0% at `left`, `top`% (where longer bars are cut) at `right`."""

    def __init__(self, left: float, right: float, top: Decimal) -> None:
        self.left, self.right, self.top = left, right, top

    def x(self, pct: Decimal) -> float:
        return self.left + float(min(pct, self.top) / self.top) * (self.right - self.left)


def _chart_legend(drawing: Drawing, series: list[tuple[str, colors.Color]], *, left: float, height: float) -> None:
    """The legend along the top: a swatch and a caption per series."""
    cursor = left
    for name, colour in series:
        drawing.add(Rect(cursor, height - 10, 10, 8, fillColor=colour, strokeColor=None))
        caption = {
            "Actual %": "Actual · 實際",
            "Committed %": "Committed · 已承諾",
            "Forecast %": "Forecast · 期末預測",
        }
        text = caption.get(name, name)
        drawing.add(String(cursor + 13, height - 9, text, fontName=FONT, fontSize=BODY_SIZE))
        cursor += 13 + text_width(text) + 14


def _chart_cap_bars(
    drawing: Drawing,
    caption: str,
    values: list[Decimal | None],
    series: list[tuple[str, colors.Color]],
    *,
    scale: _ChartScale,
    y: float,
    width: float,
) -> float:
    """A cap's label and its bars, one per series, downwards from `y`; returns where the next cap starts."""
    y -= BODY_SIZE + 2
    # The cap's label, cut to the label column (its full name is in the table below).
    shown = caption
    while text_width(shown) > width - 8 and len(shown) > 4:
        shown = shown[:-2]
    drawing.add(String(0, y, shown, fontName=FONT, fontSize=BODY_SIZE))
    y -= 2
    plot_left, plot_right = scale.left, scale.right
    for (name, colour), value in zip(series, values, strict=True):
        y -= CHART_BAR_HEIGHT
        drawing.add(
            Rect(
                plot_left,
                y + 1,
                plot_right - plot_left,
                CHART_BAR_HEIGHT - 2,
                fillColor=colors.HexColor("#F5F5F5"),
                strokeColor=None,
            )
        )
        if value is not None:
            drawing.add(
                Rect(
                    plot_left,
                    y + 1,
                    scale.x(value) - plot_left,
                    CHART_BAR_HEIGHT - 2,
                    fillColor=colour,
                    strokeColor=None,
                )
            )
            figure = f"{value:,.1f}%"
            drawing.add(String(plot_right + 4, y + 1.5, figure, fontName=FONT, fontSize=BODY_SIZE))
        short = {"Actual %": "Actual 實際", "Committed %": "Committed 已承諾", "Forecast %": "Forecast 預測"}
        text = short.get(name, name)
        drawing.add(String(plot_left - 4, y + 1.5, text, fontName=FONT, fontSize=BODY_SIZE, textAnchor="end"))
    return y - CHART_GAP


def _chart_lines(drawing: Drawing, scale: _ChartScale, *, threshold: Decimal, bottom: float, top: float) -> None:
    """The alert threshold (dashed) and 100% drawn across the bars, each with its figure below."""
    for pct, colour, caption in (
        (threshold, colors.HexColor("#E65100"), f"{threshold:.0f}%"),
        (Decimal(100), colors.HexColor("#B71C1C"), "100%"),
    ):
        drawing.add(
            Line(
                scale.x(pct),
                bottom,
                scale.x(pct),
                top,
                strokeColor=colour,
                strokeWidth=1.2,
                strokeDashArray=[3, 2] if pct != 100 else None,
            )
        )
        drawing.add(
            String(
                scale.x(pct),
                bottom - 10,
                caption,
                fontName=FONT,
                fontSize=BODY_SIZE,
                textAnchor="middle",
                fillColor=colour,
            )
        )


class PdfFreeSheet(_Section):
    """A section laid out row by row (the INED summary): sections, headers and rows of a few columns."""

    def __init__(self, report: PdfReport, title: str, widths: Sequence[float], *, heading: str, note: str):
        super().__init__(report, title, heading=heading, note=note)
        self.widths = [w * POINTS_PER_CHARACTER for w in widths]
        scale = FRAME_WIDTH / sum(self.widths)
        self.widths = [w * scale for w in self.widths]
        self.items: list[tuple[str, Any]] = []

    def start(self) -> None:
        pass

    def blank(self) -> None:
        self.items.append(("blank", None))

    def section(self, text: str) -> None:
        self.items.append(("section", text))

    def header(self, columns: Sequence[Column]) -> None:
        # English and Chinese on one line where they fit (this page is meant to be read on one sheet).
        self.items.append(("header", [f"{c.en} · {chinese(c.zh)}" for c in columns]))

    def row(self, values: Sequence[Any], kinds: Sequence[Kind], *, bold_first: bool = False, wrap: bool = False):
        self.items.append(("row", ([format_value(v, k) for v, k in zip(values, kinds, strict=True)], list(kinds))))

    def flowables(self, styles: dict[str, ParagraphStyle]) -> list:
        story: list = []
        block: list[list] = []
        spans: list[tuple] = []
        header_rows: list[int] = []
        count = len(self.widths)

        def flush() -> None:
            if not block:
                return
            commands = [
                ("FONT", (0, 0), (-1, -1), FONT, BODY_SIZE),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, -1), 0.25, GRID),
                ("LEFTPADDING", (0, 0), (-1, -1), PADDING),
                ("RIGHTPADDING", (0, 0), (-1, -1), PADDING),
                ("TOPPADDING", (0, 0), (-1, -1), 1),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
                *spans,
            ]
            for index in header_rows:
                commands.append(("BACKGROUND", (0, index), (-1, index), HEADER_FILL))
            table = Table(block, colWidths=self.widths, repeatRows=1 if header_rows[:1] == [0] else 0)
            table.setStyle(TableStyle(commands))
            story.append(table)
            block.clear()
            spans.clear()
            header_rows.clear()

        def add(texts: list[str], kinds: list[Kind] | None) -> None:
            index = len(block)
            cells: list[Any] = []
            for i, text in enumerate(texts):
                numeric = kinds is not None and _numeric(kinds[i])
                style = styles["right"] if numeric else styles["cell"]
                cells.append(Paragraph(escape(text).replace("\n", "<br/>"), style) if text else "")
                # The last value spans the columns left, as in the workbook.
                if i == len(texts) - 1 and i < count - 1:
                    spans.append(("SPAN", (i, index), (count - 1, index)))
            cells += [""] * (count - len(cells))
            block.append(cells)

        for kind, value in self.items:
            if kind == "blank":
                flush()
                story.append(Spacer(1, 3))
            elif kind == "section":
                flush()
                story.append(Paragraph(escape(value), styles["section"]))
            elif kind == "header":
                flush()
                header_rows.append(len(block))
                add(value, None)
            else:
                texts, kinds = value
                add(texts, kinds)
        flush()
        return story


def new_report(*, pdf: bool, title: str, progress: Progress | None = None) -> "ReportWorkbook | PdfReport":
    """An empty report to build: the workbook, or the printable PDF of the same rows."""
    if pdf:
        return PdfReport(title=title, progress=progress)
    return ReportWorkbook(progress=progress)
