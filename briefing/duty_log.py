"""The duty log (值班日志) of a month: shifts, pages, acknowledgements, hand-overs and overrides,
exported as DOCX or XLSX."""

from __future__ import annotations

import datetime as dt
import re

from core.timeutil import SHANGHAI

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def month_bounds(text: str) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of a month like ``2026-10`` in Asia/Shanghai, as aware UTC; ValueError else."""
    found = _MONTH.match(text.strip())
    if not found or not 1 <= int(found.group(2)) <= 12:
        raise ValueError(f"not a month like 2026-10: {text!r}")
    year, month = int(found.group(1)), int(found.group(2))
    start = dt.date(year, month, 1)
    end = dt.date(year + month // 12, month % 12 + 1, 1)
    return (dt.datetime.combine(start, dt.time(0, 0), tzinfo=SHANGHAI).astimezone(dt.UTC),
            dt.datetime.combine(end, dt.time(0, 0), tzinfo=SHANGHAI).astimezone(dt.UTC))
