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
from collections.abc import Iterable, Sequence

from core.display_text import displayable
from core.timeutil import to_local

Cell = str | int | float | dt.datetime | None

# The characters a spreadsheet program may read as the start of a formula (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def inert(value: Cell) -> Cell:
    """``value`` as a cell that cannot be read as a formula (text only; other types unchanged),
    without the characters that hide or reorder text (``core.display_text``; XML, and so XLSX,
    cannot hold control characters at all)."""
    if not isinstance(value, str):
        return value
    value = displayable(value)
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def read_back(value: object) -> object:
    """A cell :func:`inert` wrote, as the text it was (the apostrophe before a formula character
    taken off): a table ecowatch exports and reads again (the 值班表) round-trips unchanged."""
    if isinstance(value, str) and len(value) > 1 and value[0] == "'" and value[1] in FORMULA_STARTS:
        return value[1:]
    return value


def _text(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return f"{to_local(value) if value.tzinfo is not None else value:%Y-%m-%d %H:%M:%S}"
    return str(value)


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> bytes:
    """The table as CSV, UTF-8 with a BOM (Excel then reads the Chinese), every text cell inert,
    times as ``YYYY-MM-DD HH:MM:SS`` in Asia/Shanghai."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow([_text(inert(h)) for h in header])
    writer.writerows([_text(inert(v)) for v in row] for row in rows)
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def xlsx_bytes(header: Sequence[str], rows: Iterable[Sequence[Cell]], title: str) -> bytes:
    """The table as one XLSX sheet named ``title``: times as Excel date-times in Asia/Shanghai,
    every text cell inert and stored as text (never as a formula)."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title[:31])
    for row in ([*header], *rows):
        sheet.append([_typed(inert(v)) for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _typed(value: Cell) -> Cell:
    # openpyxl stores a str beginning with "=" as a formula: inert() already prefixed those. A sheet
    # holds no time zone: an aware time goes in as its Asia/Shanghai wall-clock time.
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return to_local(value).replace(tzinfo=None)
    return value
