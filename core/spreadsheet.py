"""Tables written for people to open in Excel/WPS: CSV (UTF-8 with a BOM) and XLSX.

Exports carry crawled text, which is untrusted: a title beginning with ``=`` is a formula to a
spreadsheet (``=HYPERLINK(...)`` phishes, ``=cmd|...`` once ran programs). Every text cell that
begins with ``= + - @`` (or a tab / carriage return, which some programs strip before looking) is
made inert by a leading apostrophe, in both formats: what Excel shows is then the text, never a
formula, and a file saved again from Excel stays inert. Numbers and times stay typed.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable, Sequence

Cell = str | int | float | dt.datetime | None

# The characters a spreadsheet program may read as the start of a formula (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def inert(value: Cell) -> Cell:
    """``value`` as a cell that cannot be read as a formula (text only; other types unchanged)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _text(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return str(value)


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> bytes:
    """The table as CSV, UTF-8 with a BOM (Excel then reads the Chinese), every text cell inert."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow([_text(inert(h)) for h in header])
    writer.writerows([_text(inert(v)) for v in row] for row in rows)
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def xlsx_bytes(header: Sequence[str], rows: Iterable[Sequence[Cell]], title: str) -> bytes:
    """The table as one XLSX sheet named ``title``; times as Excel date-times (naive: the caller
    passes local times), every text cell inert and stored as text (never as a formula)."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title[:31])
    for row in ([*header], *rows):
        sheet.append([_typed(inert(v)) for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# XML 1.0 cannot hold most control characters; crawled text sometimes has them (openpyxl refuses).
_NOT_IN_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _typed(value: Cell) -> Cell:
    # openpyxl stores a str beginning with "=" as a formula; inert() already prefixed those. An aware
    # time cannot go into a sheet: the caller converts to local time first, this keeps it naive.
    if isinstance(value, str):
        return _NOT_IN_XML.sub("\ufffd", value)
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.replace(tzinfo=None)
    return value
