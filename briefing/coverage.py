"""Source coverage: which sources were blind during the period, and for how long (pure).

A source *sees* for ``expected_hours`` after each successful run: if it worked at 09:00 and is
expected to bring something every 24 hours, 09:00 to 09:00 the next day is covered. Time in the
period not covered by any such window is blind time. A quiet week with blind sources is not a
clean week, and the briefing says so.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from briefing.records import SourceRun

DEFAULT_EXPECTED_HOURS = 24.0


@dataclass(slots=True)
class SourceCoverage:
    """One source over the period."""

    source: str
    expected_hours: float
    runs: int = 0
    ok_runs: int = 0
    failed_runs: int = 0
    items: int = 0
    new_items: int = 0
    blind_spans: list[tuple[dt.datetime, dt.datetime]] = field(default_factory=list)
    last_error: str | None = None

    @property
    def blind_hours(self) -> float:
        """Total blind time in hours (one decimal)."""
        return round(sum((b - a).total_seconds() for a, b in self.blind_spans) / 3600, 1)

    @property
    def blind(self) -> bool:
        """Blind for any part of the period."""
        return bool(self.blind_spans)

    @property
    def note(self) -> str:
        """What a reader should know, in plain words."""
        if self.runs == 0:
            return "本期未运行"
        if self.ok_runs == 0:
            return "本期每次运行均失败"
        if self.items == 0:
            return "运行正常但未取得任何条目，请核查页面结构或关键词"
        if self.failed_runs:
            return f"{self.failed_runs} 次运行失败"
        if self.blind_spans:
            return "运行正常，但部分时段没有成功运行（如首次运行前、采集中断）"
        return "正常"


def _blind(ok_finishes: list[dt.datetime], start: dt.datetime, end: dt.datetime,
           window: dt.timedelta) -> list[tuple[dt.datetime, dt.datetime]]:
    spans, cursor = [], start  # cursor: covered up to here
    for finish in sorted(ok_finishes):
        if finish > cursor and finish > start:
            spans.append((cursor, min(finish, end)))
        cursor = max(cursor, finish + window)
        if cursor >= end:
            break
    if cursor < end:
        spans.append((max(cursor, start), end))
    return [(a, b) for a, b in spans if b > a]


def coverage(runs: Iterable[SourceRun], start: dt.datetime, end: dt.datetime,
             expected_hours: Mapping[str, float] | None = None, sources: Iterable[str] = ()) -> list[SourceCoverage]:
    """Per source (every configured one, and any other that ran): runs, failures, items and blind
    spans in [start, end). Runs finishing before ``start`` only count for the coverage they lend
    to the period's beginning. Blind sources come first, the longest blind first."""
    expected = dict(expected_hours or {})
    by_source: dict[str, list[SourceRun]] = {name: [] for name in [*expected, *sources]}
    for run in runs:
        by_source.setdefault(run.source, []).append(run)
    out = []
    for name, rs in by_source.items():
        hours = float(expected.get(name, DEFAULT_EXPECTED_HOURS))
        row = SourceCoverage(name, hours)
        finishes = []
        for run in rs:
            finished = run.finished_at or run.started_at
            if run.ok:
                finishes.append(finished)
            if not start <= finished < end:
                continue
            row.runs += 1
            row.ok_runs += run.ok
            row.failed_runs += not run.ok
            row.items += run.items
            row.new_items += run.new_items
            if not run.ok and run.error:
                row.last_error = run.error
        row.blind_spans = _blind(finishes, start, end, dt.timedelta(hours=hours))
        out.append(row)
    out.sort(key=lambda c: (-c.blind_hours, c.source))
    return out
