"""``ecowatch import FILE``: posts from files exported by other collectors.

Formats: JSON Lines (ecowatch's own contract: ``url``, ``title``, ``text``, ``author``,
``published_at``, ``source``, ``reposts``/``comments``/``likes``/``followers``, ``reply_to``), a
JSON array (or weibo-crawler's ``{"user", "weibo": [...]}``), CSV and XLSX. Text files may be
UTF-8 (with or without BOM), GB18030/GBK, or UTF-16 with a BOM, decoded line by line
(:mod:`crawlers.import_decoding`). Known exporters are recognised by their columns
(:mod:`crawlers.import_formats`); ``--map`` overrides any column.

Every refusal is one line's error naming the line and, when it is about one field, the column;
the other lines are read. An import is a backfill: the posts are counted in the briefing of the
period they were published in (see README, "Briefing periods").
"""

from __future__ import annotations

import bisect
import csv
import datetime as dt
import json
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.errors import EcowatchError
from core.models import RawPost
from core.timeutil import SHANGHAI, parse_time
from crawlers.dates import find_date
from crawlers.import_decoding import DecodedLines, decode_lines
from crawlers.import_formats import ImportFormat, recognise, with_mapping
from crawlers.parsers.counts import parse_count

ENGAGEMENT = ("reposts", "comments", "likes", "followers")
_STRING_FIELDS = ("url", "title", "text", "author", "source", "reply_to")


class ImportFileError(EcowatchError):
    """The file as a whole cannot be read (unknown type, no header, unreadable workbook)."""


class FieldError(ValueError):
    """One field of one record is unusable; ``column`` names where it was read from."""

    def __init__(self, column: str | None, message: str) -> None:
        super().__init__(message)
        self.column = column


@dataclass(slots=True)
class ImportErrorLine:
    """A line (or CSV/XLSX row, or array element) that could not be imported, and why."""

    line: int
    error: str
    column: str | None = None

    def __str__(self) -> str:
        where = f"line {self.line}" + (f", column {self.column}" if self.column else "")
        return f"{where}: {self.error}"


@dataclass(slots=True)
class ImportOptions:
    """How records become posts: the clock, the tolerances and an optional column mapping."""

    now: dt.datetime
    future_tolerance: dt.timedelta = dt.timedelta(hours=24)
    max_chars: int = 20_000
    mapping: Mapping[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class ParsedFile:
    """Posts read from a file, the lines refused, and what was recognised."""

    posts: list[RawPost] = field(default_factory=list)
    errors: list[ImportErrorLine] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)  # the line each post was read from
    formats: Counter[str] = field(default_factory=Counter)
    columns: dict[str, dict[str, str]] = field(default_factory=dict)  # format → field → column used
    encoding: str | None = None
    truncated: int = 0  # posts whose text was cut at ``max_chars``


def parse_when(value: Any, column: str | None = None) -> dt.datetime | None:
    """A publish time: ISO text, Chinese date text, an Excel date, or a Unix timestamp in seconds
    or milliseconds (MediaCrawler's ``create_time``); local times are Asia/Shanghai. None when
    empty; :class:`FieldError` when unreadable or out of range (a 20-digit number is a bad
    field, never a failed import)."""
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):  # an XLSX date cell: local time
        return value.replace(tzinfo=SHANGHAI) if value.tzinfo is None else value
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise FieldError(column, f"a time must be text or a number, not {type(value).__name__}")
    text = str(value).strip()
    if text.replace(".", "", 1).isdigit() and len(text.split(".")[0]) >= 9:
        seconds = float(text) / (1000 if len(text.split(".")[0]) >= 13 else 1)
        try:
            return dt.datetime.fromtimestamp(seconds, dt.UTC)
        except (OverflowError, OSError, ValueError) as exc:
            raise FieldError(column, f"timestamp {text[:30]} is out of range") from exc
    found = parse_time(text) or find_date(text)
    if found is None:
        raise FieldError(column, f"unreadable time {text[:40]!r}")
    return found


def _value(obj: Mapping[str, Any], fmt: ImportFormat, name: str) -> tuple[str | None, Any]:
    for column in fmt.fields.get(name, ()):
        if column in fmt.ignored:
            continue
        value = obj.get(column)
        if value not in (None, ""):
            return column, value
    return None, None


def _string(obj: Mapping[str, Any], fmt: ImportFormat, name: str) -> str:
    column, value = _value(obj, fmt, name)
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise FieldError(column, f"{name} must be text, not a {type(value).__name__} ({str(value)[:40]})")
    return str(value).strip()


def _source(obj: Mapping[str, Any], fmt: ImportFormat, default_source: str) -> str:
    source = fmt.source or _string(obj, fmt, "source") or default_source
    keyword = obj.get(fmt.keyword_column) if fmt.keyword_column else None
    return f"{source}:{keyword}" if keyword else source


def _from_id(obj: Mapping[str, Any], rule: tuple[str, str] | None) -> str | None:
    if rule is None:
        return None
    value = obj.get(rule[0])
    ident = str(value).strip() if value not in (None, "") else ""
    return rule[1].format(ident) if ident and ident != "0" else None


def to_post(obj: Mapping[str, Any], default_source: str, options: ImportOptions,
            fmt: ImportFormat | None = None) -> tuple[RawPost, bool]:
    """One record (our names or a known exporter's) → a raw post and whether its text was cut.
    :class:`FieldError` (a ValueError) names the column of a bad field; ValueError "no text"."""
    if fmt is None:
        fmt = with_mapping(recognise(obj), options.mapping) if options.mapping else recognise(obj)
    text, title = _string(obj, fmt, "text"), _string(obj, fmt, "title")
    if not (text or title):
        raise ValueError("no text")
    cut = len(text) > options.max_chars
    text = text[:options.max_chars]
    column, when = _value(obj, fmt, "published_at")
    published = parse_when(when, column)
    if published is not None and published > options.now + options.future_tolerance:
        raise FieldError(column, f"published {published.isoformat()}, more than "
                                 f"{options.future_tolerance} after now: refused as a wrong date")
    counts = {}
    for key in ENGAGEMENT:
        column, raw = _value(obj, fmt, key)
        if isinstance(raw, list | dict):
            raise FieldError(column, f"{key} must be a number")
        n = parse_count(raw)
        if n is not None:
            counts[key] = n
    url = _string(obj, fmt, "url") or _from_id(obj, fmt.url_from)
    reply_to = _string(obj, fmt, "reply_to") or _from_id(obj, fmt.thread_from)
    post = RawPost(source=_source(obj, fmt, default_source), title=title if title != text else "",
                   text=text or title, url=url or None, author=_string(obj, fmt, "author") or None,
                   published_at=published, engagement=counts, reply_to=reply_to or None)
    return post, cut


# --- reading records out of each file type ----------------------------------------------------

Record = tuple[int, dict[str, Any] | None, str | None]  # line, the record or None, the line's error


def _json_lines(decoded: DecodedLines) -> Iterator[Record]:
    for number, line in enumerate(decoded.lines, 1):
        if not line.strip():
            continue
        if number in decoded.bad:
            yield number, None, decoded.bad[number]
            continue
        try:
            obj = json.loads(line)
        except ValueError as exc:
            yield number, None, f"not JSON: {exc}"
            continue
        yield (number, obj, None) if isinstance(obj, dict) else (number, None, "not a JSON object")


def _json_document(decoded: DecodedLines) -> Iterator[Record]:
    """Elements of a JSON array (or of weibo-crawler's ``{"user": ..., "weibo": [...]}``), numbered
    as elements (1, 2...: an exported array is often one line); a bad element or a line that did
    not decode loses only the element it is in."""
    text = decoded.text
    starts = [0]
    for i, ch in enumerate(text):
        if ch == "\n":
            starts.append(i + 1)

    def line_of(pos: int) -> int:
        return bisect.bisect_right(starts, pos)

    stripped = text.lstrip()
    if stripped.startswith("{"):
        try:
            data = json.loads(text)
        except ValueError:
            data = None
        items = data.get("weibo") if isinstance(data, dict) else None
        if not isinstance(items, list):  # objects one per line, saved as .json
            yield from _json_lines(decoded)
            return
        user = data.get("user") if isinstance(data.get("user"), dict) else {}
        defaults = {k: user[k] for k in ("screen_name", "nickname") if user.get(k)}
        for number, obj in enumerate(items, 1):
            yield (number, {**defaults, **obj}, None) if isinstance(obj, dict) else (number, None, "not a JSON object")
        return
    decoder = json.JSONDecoder()
    pos = len(text) - len(stripped)
    if not stripped.startswith("["):
        yield 1, None, "a JSON file must hold an array of objects"
        return
    pos += 1
    element = 0
    while True:
        while pos < len(text) and text[pos] in " \t\r\n,":
            pos += 1
        if pos >= len(text) or text[pos] == "]":
            return
        element += 1
        try:
            obj, end = decoder.raw_decode(text, pos)
        except ValueError as exc:
            yield element, None, f"not JSON from here on (file line {line_of(pos)}), nothing after it was read: {exc}"
            return
        first, last = line_of(pos), line_of(end - 1)
        bad = next((n for n in range(first, last + 1) if n in decoded.bad), None)
        if bad is not None:
            yield element, None, f"file line {bad}: {decoded.bad[bad]}"
        else:
            yield (element, obj, None) if isinstance(obj, dict) else (element, None, "not a JSON object")
        pos = end


def _csv_rows(decoded: DecodedLines) -> Iterator[Record]:
    # A post's text may well exceed csv's default 128 KiB cell limit (it is cut at max_chars later).
    csv.field_size_limit(max(csv.field_size_limit(), 1 << 26))
    reader = csv.reader(iter(decoded.lines))
    header: list[str] | None = None
    last = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:  # that row is unreadable; the reader goes on with the next line
            first, last = last + 1, reader.line_num
            yield first, None, f"unreadable CSV row: {exc}"
            continue
        first, last = last + 1, reader.line_num
        if header is None:
            header = [h.strip().lstrip("\ufeff") for h in row]
            if first in decoded.bad:
                raise ImportFileError(f"the header row {decoded.bad[first]}")
            continue
        if not any(cell.strip() for cell in row):
            continue
        bad = next((n for n in range(first, last + 1) if n in decoded.bad), None)
        if bad is not None:
            yield first, None, (decoded.bad[bad] if bad == first else f"line {bad}: {decoded.bad[bad]}")
            continue
        if len(row) > len(header):
            yield first, None, f"{len(row)} cells for {len(header)} columns"
            continue
        yield first, {h: v for h, v in zip(header, row, strict=False) if h}, None


def _xlsx_rows(path: Path) -> Iterator[Record]:
    from openpyxl import load_workbook  # only for .xlsx files
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, OSError, KeyError, ValueError) as exc:
        raise ImportFileError(f"not a readable XLSX workbook: {exc}") from exc
    try:
        sheet = book.active
        if sheet is None:
            raise ImportFileError("the workbook has no sheet")
        header: list[str] | None = None
        for number, cells in enumerate(sheet.iter_rows(values_only=True), 1):
            values = list(cells)
            if header is None:
                if any(v not in (None, "") for v in values):
                    header = [str(v).strip() if v is not None else "" for v in values]
                continue
            if all(v in (None, "") for v in values):
                continue
            yield number, {h: v for h, v in zip(header, values, strict=False) if h}, None
    finally:
        book.close()


def _records(path: Path) -> tuple[Iterator[Record], str | None, bool]:
    """The records of ``path``, its text encoding (None for XLSX), and whether the layout is
    one header for all rows (CSV, XLSX) rather than per record (JSON)."""
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        return _xlsx_rows(path), None, True
    if suffix == ".xls":
        raise ImportFileError("old .xls workbooks are not read: save the sheet as .xlsx or CSV")
    decoded = decode_lines(path.read_bytes())
    if suffix == ".csv":
        return _csv_rows(decoded), decoded.encoding, True
    first = next((line.lstrip() for line in decoded.lines if line.strip()), "")
    if suffix == ".json" or first.startswith("["):
        return _json_document(decoded), decoded.encoding, False
    return _json_lines(decoded), decoded.encoding, False


def read_file(path: Path, options: ImportOptions | None = None) -> ParsedFile:
    """Read any supported export; raises :class:`ImportFileError` or
    :class:`crawlers.import_decoding.EncodingRefused` when the file as a whole cannot be read."""
    from core.timeutil import utcnow

    options = options or ImportOptions(now=utcnow())
    records, encoding, one_header = _records(path)
    out = ParsedFile(encoding=encoding)
    fmt: ImportFormat | None = None
    default_source = f"import:{path.name}"
    for number, obj, error in records:
        if obj is None:
            out.errors.append(ImportErrorLine(number, error or "unreadable"))
            continue
        if fmt is None or not one_header:
            fmt = recognise(obj) if not options.mapping else with_mapping(recognise(obj), options.mapping)
            missing = [c for c in options.mapping.values() if c not in obj]
            if one_header and missing:
                raise ImportFileError(f"mapped column(s) not in the file: {', '.join(missing)} "
                                      f"(its columns: {', '.join(obj)})")
            if fmt.name not in out.columns:
                out.columns[fmt.name] = {name: c for name in fmt.fields if (c := fmt.column_for(name, obj))}
        try:
            post, cut = to_post(obj, default_source, options, fmt)
        except FieldError as exc:
            out.errors.append(ImportErrorLine(number, str(exc), exc.column))
            continue
        except (ValueError, TypeError) as exc:
            out.errors.append(ImportErrorLine(number, str(exc)))
            continue
        out.posts.append(post)
        out.lines.append(number)
        out.formats[fmt.name] += 1
        out.truncated += cut
    return out
