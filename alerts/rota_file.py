"""The 值班表 file an office keeps (CSV or XLSX): read with a clear error per bad line, written
back in the same layout.

One row per shift: 日期, 班次 (白班/夜班/全天), 值班员, 电话, 带班领导, optionally 备班 and 备班电话,
领导电话, 开始/结束 (times, for a shift off the standard hours; an offset other than +08:00 is
converted and warned about) and 备注. The whole file is checked before anything is stored: one bad
line and nothing is imported (:mod:`storage.rota` stores a clean file in one transaction).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alerts.rota import RotaPolicy, day_kinds, shift_times
from alerts.workdays import calendar_knows
from core.duty import SHIFT_ALIASES, Person, Shift, ShiftKind
from core.errors import EcowatchError
from core.spreadsheet import csv_bytes, read_back, xlsx_bytes
from core.timeutil import SHANGHAI, to_local

# Column header → field; the first spelling of each is the one written.
COLUMNS: dict[str, tuple[str, ...]] = {
    "date": ("日期", "date"),
    "shift": ("班次", "shift"),
    "primary": ("值班员", "officer", "primary"),
    "phone": ("电话", "phone", "值班员电话"),
    "backup": ("备班", "backup"),
    "backup_phone": ("备班电话", "backup_phone"),
    "leader": ("带班领导", "leader"),
    "leader_phone": ("领导电话", "leader_phone"),
    "start": ("开始", "start"),
    "end": ("结束", "end"),
    "note": ("备注", "note"),
}
REQUIRED = ("date", "shift", "primary", "phone", "leader")
# Who may stand in each column: duty officers for the desk, leaders (or a duty officer) on call.
ROLES_FOR = {"primary": ("duty",), "backup": ("duty",), "leader": ("leader", "duty")}
_HEADER = {spelling.lower(): name for name, spellings in COLUMNS.items() for spelling in spellings}
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}$")
_DATE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")


class RotaFileError(EcowatchError):
    """The file could not be read at all (not CSV/XLSX, no header, missing columns)."""


@dataclass(slots=True)
class ParsedRota:
    """A checked file: its shifts when ``errors`` is empty, else nothing may be stored."""

    shifts: list[Shift] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)  # the file line of each shift
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def normalise_phone(text: str) -> str | None:
    """A mainland mobile (13812345678, +86 138-1234-5678) or landline (023-67781234) in one
    spelling; None when it is neither."""
    compact = re.sub(r"[\s()（）]", "", text)
    if compact.startswith("+86"):
        compact = compact[3:]
    digits = compact.replace("-", "")
    if _MOBILE.match(digits):
        return digits
    return compact if _LANDLINE.match(compact) else None


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a phone typed into Excel comes back as 13812345678.0
    return str(value).strip()


def _date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    found = _DATE.match(_cell(value))
    if not found:
        return None
    try:
        return dt.date(*(int(g) for g in found.groups()))
    except ValueError:
        return None


def _time(value: Any, day: dt.date) -> tuple[dt.datetime, str | None] | None:
    """A start/end cell: ``HH:MM`` on ``day``, or a full time, maybe with an offset (converted).
    Returns the aware UTC time and the offset it was given in when that was not +08:00."""
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, dt.time):
        parsed = dt.datetime.combine(day, value)
    else:
        text = _cell(value).replace("/", "-")
        if re.fullmatch(r"\d{1,2}:\d{2}", text):
            text = f"{day.isoformat()}T{text.zfill(5)}"
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        try:
            parsed = dt.datetime.fromisoformat(text)
        except ValueError:
            return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=SHANGHAI).astimezone(dt.UTC), None
    offset = parsed.utcoffset()
    foreign = None if offset == dt.timedelta(hours=8) else parsed.strftime("UTC%z")
    return parsed.astimezone(dt.UTC), foreign


def read_rows(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """The file's data rows as (line number, {field: cell}); RotaFileError when unreadable."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".xlsx":
            table = _xlsx(path)
        elif suffix in (".csv", ".txt"):
            table = _csv(path.read_bytes())
        else:
            raise RotaFileError(f"{path.name}: a rota is a .csv or .xlsx file")
    except OSError as exc:
        raise RotaFileError(f"{path}: {exc.strerror or exc}") from exc
    filled = [i for i, row in enumerate(table) if any(_cell(c) for c in row)]
    if not filled:
        raise RotaFileError(f"{path.name}: the file is empty")
    # The header is the first line naming columns: a title line above it (一个标题行) is usual.
    header_at = next((i for i in filled[:10] if sum(_cell(c).lower() in _HEADER for c in table[i]) >= 3), filled[0])
    names = [_HEADER.get(_cell(c).lower()) for c in table[header_at]]
    missing = [COLUMNS[f][0] for f in REQUIRED if f not in names]
    if missing:
        raise RotaFileError(f"{path.name}: line {header_at + 1} must name the columns; missing: {', '.join(missing)}")
    out = []
    for number, row in enumerate(table[header_at + 1:], header_at + 2):
        if not any(_cell(c) for c in row):
            continue
        out.append((number, {name: read_back(row[i]) if i < len(row) else None
                             for i, name in enumerate(names) if name}))
    return out


def _csv(data: bytes) -> list[list[Any]]:
    for encoding in ("utf-8-sig", "gb18030"):  # Excel in a Chinese office saves CSV as GBK
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise RotaFileError("the CSV is neither UTF-8 nor GBK text")
    return [list(row) for row in csv.reader(io.StringIO(text))]


def _xlsx(path: Path) -> list[list[Any]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises zipfile, KeyError, ValueError … for a broken file
        raise RotaFileError(f"{path.name}: not a readable XLSX workbook ({type(exc).__name__})") from exc
    try:
        sheet = book["值班表"] if "值班表" in book.sheetnames else book.worksheets[0]
        return [list(row) for row in sheet.iter_rows(values_only=True)]
    finally:
        book.close()


def parse_rota(rows: Sequence[tuple[int, Mapping[str, Any]]], people: Mapping[str, str],
               policy: RotaPolicy) -> ParsedRota:
    """Check every row and build the shifts; ``people`` maps each active console user to their role.

    Each bad row is one error naming its line; overlapping shifts are an error naming both lines;
    a year the holiday calendar does not know is a warning (weekends assumed).
    """
    result = ParsedRota()
    unknown_years: set[int] = set()
    for number, row in rows:
        errors: list[str] = []
        day = _date(row.get("date"))
        kind_text = _cell(row.get("shift"))
        kind = SHIFT_ALIASES.get(kind_text.lower())
        if day is None:
            errors.append(f"日期 {_cell(row.get('date'))!r} is not a date like 2026-10-10")
        if kind is None:
            errors.append(f"班次 {kind_text!r} is not one of 白班, 夜班, 全天")
        persons: dict[str, Person | None] = {}
        for column, phone_column in (("primary", "phone"), ("backup", "backup_phone"), ("leader", "leader_phone")):
            name = _cell(row.get(column))
            phone_text = _cell(row.get(phone_column))
            label = COLUMNS[column][0]
            if not name:
                if column in REQUIRED:
                    errors.append(f"{label} is empty")
                persons[column] = None
                continue
            role = people.get(name)
            if role is None:
                errors.append(f"{label} {name!r} is not an active console user (add them: ecowatch user add)")
            elif role not in ROLES_FOR[column]:
                errors.append(f"{label} {name!r} is a {role} user; {label} must be {' or '.join(ROLES_FOR[column])}")
            phone = normalise_phone(phone_text) if phone_text else None
            if phone_text and phone is None:
                errors.append(f"{COLUMNS[phone_column][0]} {phone_text!r} is not a mobile (13812345678) "
                              f"or landline (023-67781234) number")
            elif column == "primary" and not phone_text:
                errors.append(f"{COLUMNS['phone'][0]} is empty: the officer on duty must be reachable")
            persons[column] = Person(name, phone)
        span = None
        if day is not None and kind is not None:
            span = _span(number, row, day, ShiftKind(kind), policy, errors, result.warnings)
            if day.year not in unknown_years and not calendar_knows(day.year):
                unknown_years.add(day.year)
                result.warnings.append(f"the holiday calendar does not know {day.year} yet: Monday-Friday are "
                                       f"taken as working days (re-check the rota when the State Council publishes it)")
        if errors:
            result.errors += [f"line {number}: {e}" for e in errors]
            continue
        assert day is not None and kind is not None and span is not None
        result.shifts.append(Shift(day, ShiftKind(kind), span[0], span[1], persons["primary"], persons["backup"],
                                   persons["leader"], _cell(row.get("note"))))
        result.lines.append(number)
    result.errors += overlaps(result.shifts, result.lines)
    return result


def _span(number: int, row: Mapping[str, Any], day: dt.date, kind: ShiftKind, policy: RotaPolicy,
          errors: list[str], warnings: list[str]) -> tuple[dt.datetime, dt.datetime] | None:
    """The shift's times: the standard ones for its kind, or the file's 开始/结束 when given."""
    if kind not in day_kinds(day):
        what = "a working day" if ShiftKind.DAY in day_kinds(day) else "a rest day or holiday"
        errors.append(f"{day} is {what} under the holiday calendar: its shifts are "
                      f"{', '.join(k.label for k in day_kinds(day))}, not {kind.label}")
        return None
    start, end = shift_times(day, kind, policy)
    for column in ("start", "end"):
        if not _cell(row.get(column)) and not isinstance(row.get(column), dt.datetime | dt.time):
            continue
        got = _time(row.get(column), day)
        if got is None:
            errors.append(f"{COLUMNS[column][0]} {_cell(row.get(column))!r} is not a time like 08:30 or "
                          f"2026-10-10T08:30+08:00")
            return None
        value, foreign = got
        if foreign:
            warnings.append(f"line {number}: {COLUMNS[column][0]} given in {foreign}, read as 北京时间 "
                            f"{to_local(value):%m-%d %H:%M}")
        if column == "start":
            start = value
        else:
            end = value if value > start else value + dt.timedelta(days=1)  # "08:30" on a night shift
    if end <= start:
        errors.append("结束 must be after 开始")
        return None
    return start, end


def overlaps(shifts: Sequence[Shift], lines: Sequence[int]) -> list[str]:
    """An error per pair of shifts that overlap in time (a desk has one shift at a time)."""
    order = sorted(range(len(shifts)), key=lambda i: shifts[i].starts_at)
    out = []
    for before, after in itertools.pairwise(order):
        a, b = shifts[before], shifts[after]
        if b.starts_at < a.ends_at:
            out.append(f"line {lines[after]}: {b.duty_date} {b.kind.label} ({to_local(b.starts_at):%m-%d %H:%M}) "
                       f"overlaps line {lines[before]}: {a.duty_date} {a.kind.label} (until "
                       f"{to_local(a.ends_at):%m-%d %H:%M})")
    return out


def rota_rows(shifts: Iterable[Shift], policy: RotaPolicy) -> list[list[str]]:
    """The shifts as a 值班表 (header first), the layout :func:`read_rows` reads back."""
    fields = ("date", "shift", "primary", "phone", "backup", "backup_phone", "leader", "leader_phone", "start", "end",
              "note")
    out = [[COLUMNS[f][0] for f in fields]]
    for s in shifts:
        standard = shift_times(s.duty_date, s.kind, policy) == (s.starts_at, s.ends_at)
        times = ["", ""] if standard else [to_local(s.starts_at).isoformat(), to_local(s.ends_at).isoformat()]
        out.append([s.duty_date.isoformat(), s.kind.label,
                    *(v for p in (s.primary, s.backup) for v in (p.name if p else "", (p.phone or "") if p else "")),
                    s.leader.name if s.leader else "", (s.leader.phone or "") if s.leader else "", *times, s.note])
    return out


def write_rota(path: Path, table: Sequence[Sequence[str]]) -> None:
    """Write a 值班表 as CSV (UTF-8 with BOM, so Excel reads the Chinese) or XLSX, by suffix, every
    cell inert (``core.spreadsheet``: a note or name typed as ``=…`` is text, never a formula);
    :func:`read_rows` takes the guard off again."""
    header, rows = table[0], table[1:]
    path.write_bytes(xlsx_bytes(header, rows, "值班表") if path.suffix.lower() == ".xlsx" else csv_bytes(header, rows))
