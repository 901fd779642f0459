"""Reading the PDF packs back with pypdf, as a printer or a reader's viewer would see them, and
measuring what was drawn.

The layout measure: pypdf's visitor gives every run of text with the matrices it was drawn under, so
each run's position on the page and its size in points are known; its width is the font's own advance
width of the characters (ReportLab's stringWidth on the same font). A run is then a box
[x, x + width] x [baseline - descent, baseline + ascent]. A pack is legible when every box lies on the
page inside the margins, no box is below 8 points, and no two boxes overlap (text drawn over text, or a
cell's text running into the next cell's).
"""

import io
import math
from dataclasses import dataclass

import pypdf
from reportlab.lib.pagesizes import A4, landscape
from reportlab.pdfbase import pdfmetrics

from compliance.reports.pdf import FONT, register_font

PAGE_WIDTH, PAGE_HEIGHT = landscape(A4)
INSIDE = 8  # points of paper a printer may not reach, kept clear on every side


@dataclass(frozen=True)
class TextBox:
    page: int
    text: str
    size: float
    left: float
    bottom: float
    right: float
    top: float

    def overlaps(self, other: "TextBox", tolerance: float = 0.3) -> bool:
        return (
            min(self.right, other.right) - max(self.left, other.left) > tolerance
            and min(self.top, other.top) - max(self.bottom, other.bottom) > tolerance
        )


def reader(data: bytes) -> pypdf.PdfReader:
    return pypdf.PdfReader(io.BytesIO(data))


def text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in reader(data).pages)


def page_texts(data: bytes) -> list[str]:
    return [page.extract_text() for page in reader(data).pages]


def _times(m, n):
    """The product of two PDF matrices [a b c d e f]."""
    a, b, c, d, e, f = m
    a2, b2, c2, d2, e2, f2 = n
    return [
        a * a2 + b * c2,
        a * b2 + b * d2,
        c * a2 + d * c2,
        c * b2 + d * d2,
        e * a2 + f * c2 + e2,
        e * b2 + f * d2 + f2,
    ]


def text_boxes(data: bytes) -> list[TextBox]:
    register_font()
    face = pdfmetrics.getFont(FONT).face
    ascent, descent = face.ascent / 1000, -face.descent / 1000
    boxes: list[TextBox] = []
    for number, page in enumerate(reader(data).pages, 1):
        # pypdf reports runs of one line drawn in several fonts (ReportLab switches subsets of the TTF
        # mid-line) at the line's start: each continues where the one before ended, as Tj advances.
        line = {"origin": None, "advance": 0.0}

        def visit(run, cm, tm, font, font_size, number=number, line=line):
            ends_line = run.endswith("\n")
            run = run.rstrip("\n")
            a, b, _c, _d, x, y = _times(tm, cm)
            size = font_size * math.hypot(a, b)
            width = pdfmetrics.stringWidth(run, FONT, size) if run else 0.0
            origin = (round(x, 3), round(y, 3))
            if origin == line["origin"]:
                x += line["advance"]
                line["advance"] += width
            else:
                line["origin"], line["advance"] = origin, width
            if ends_line:
                line["origin"] = None
            if run.strip():
                boxes.append(TextBox(number, run, size, x, y - descent * size, x + width, y + ascent * size))

        page.extract_text(visitor_text=visit)
    return boxes


def layout_faults(data: bytes) -> list[str]:
    """Every run of text below 8 points, off the page's printable area, or drawn over another run."""
    faults = []
    boxes = text_boxes(data)
    for box in boxes:
        if box.size < 8 - 1e-6:
            faults.append(f"page {box.page}: {box.text!r} at {box.size:.1f} points")
        if (
            box.left < INSIDE
            or box.right > PAGE_WIDTH - INSIDE
            or box.bottom < INSIDE
            or box.top > PAGE_HEIGHT - INSIDE
        ):
            faults.append(f"page {box.page}: {box.text!r} off the page ({box.left:.0f}..{box.right:.0f})")
    by_page: dict[int, list[TextBox]] = {}
    for box in boxes:
        by_page.setdefault(box.page, []).append(box)
    for page_boxes in by_page.values():
        page_boxes.sort(key=lambda box: box.bottom)
        for i, box in enumerate(page_boxes):
            for other in page_boxes[i + 1 :]:
                if other.bottom >= box.top:
                    break
                if box.overlaps(other):
                    faults.append(f"page {box.page}: {box.text!r} overlaps {other.text!r}")
    return faults


def cell_overflows(report) -> list[str]:
    """The layout measure before drawing: every line of every table cell, as ReportLab wraps it, against
    its column's width less the cell's padding (a plain string is one line; a paragraph's line is too
    long when the room left on it is negative)."""
    from reportlab.platypus import LongTable, Paragraph

    from compliance.reports.pdf import PADDING, _styles

    faults = []
    for flowable in report.flowables():
        if not isinstance(flowable, LongTable):
            continue
        for row in flowable._cellvalues:
            for cell, width in zip(row, flowable._colWidths, strict=True):
                room = width - 2 * PADDING
                if isinstance(cell, str):
                    if pdfmetrics.stringWidth(cell, FONT, 8) > room + 0.01:
                        faults.append(f"{cell!r} is wider than its column ({room:.0f} points)")
                elif isinstance(cell, Paragraph):
                    cell.wrap(room, 10_000)
                    for line in cell.blPara.lines:
                        spare = line.extraSpace if hasattr(line, "extraSpace") else line[0]
                        if spare < -0.01:
                            faults.append(f"a line of {cell.text[:40]!r} is {-spare:.1f} points too wide")
    del _styles
    return faults
