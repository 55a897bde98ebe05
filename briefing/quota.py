"""The month's 信息简报 tally: every submitter's count against its quota, and who is behind.

Pure (the counts are handed in): who owes briefs is the jurisdiction pack (every street/town, the
bureau's own units, every department but the receiving one), the quota by kind is
:data:`core.sharing.BRIEF_QUOTA`. A submitter with no brief is a row with 0, never left out: that is
the row the assessment is about. The same rows make the console's table, the CSV export and the
monthly summary (DOCX/HTML through the briefing renderers).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass

from briefing.layout import Block
from core.errors import EcowatchError
from core.jurisdiction import Jurisdiction
from core.sharing import BRIEF_QUOTA, SubmitterKind
from core.spreadsheet import csv_bytes
from core.timeutil import SHANGHAI, to_local

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


class QuotaError(EcowatchError):
    """A month that cannot be read (not YYYY-MM)."""


@dataclass(slots=True, frozen=True)
class Submitter:
    """Someone who owes 信息简报 each month."""

    code: str  # unit code, department code, or the bureau unit's name
    name: str
    kind: SubmitterKind

    @property
    def quota(self) -> int:
        """Briefs owed a month."""
        return BRIEF_QUOTA[self.kind.value]


@dataclass(slots=True, frozen=True)
class TallyRow:
    """One submitter's month."""

    submitter: Submitter
    submitted: int

    @property
    def behind(self) -> int:
        """How many short of the quota (0 when met)."""
        return max(0, self.submitter.quota - self.submitted)


def submitters(jurisdiction: Jurisdiction) -> list[Submitter]:
    """Who owes briefs, in pack order: streets/towns, the bureau's units, then the departments."""
    briefs = jurisdiction.briefs
    out = [Submitter(u.code, u.name, SubmitterKind.STREET_OR_TOWN) for u in jurisdiction.units.values()]
    out += [Submitter(str(name), str(name), SubmitterKind.BUREAU_UNIT) for name in briefs.get("bureau_units", [])]
    out += [Submitter(d.code, d.name, SubmitterKind.DEPARTMENT) for d in jurisdiction.departments.values()
            if d.code != briefs.get("receiver")]
    return out


def submitter_of(jurisdiction: Jurisdiction, code_or_name: str) -> Submitter | None:
    """The submitter with this code or name (None when it owes nothing)."""
    for s in submitters(jurisdiction):
        if code_or_name in (s.code, s.name):
            return s
    return None


def month_bounds(key: str) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of an Asia/Shanghai month ``2026-12`` as aware datetimes."""
    match = _MONTH.match(key or "")
    if not match or not 1 <= int(match.group(2)) <= 12 or not 1970 <= int(match.group(1)) <= 9998:
        raise QuotaError(f"month must be YYYY-MM (1970-9998), e.g. 2026-12, not {key!r}")
    year, month = int(match.group(1)), int(match.group(2))
    start = dt.datetime(year, month, 1, tzinfo=SHANGHAI)
    end = dt.datetime(year + month // 12, month % 12 + 1, 1, tzinfo=SHANGHAI)
    return start, end


def month_of(at: dt.datetime) -> str:
    """The Asia/Shanghai month of a time, as ``2026-12``."""
    return f"{to_local(at):%Y-%m}"


def tally(who: list[Submitter], counts: Mapping[str, int]) -> list[TallyRow]:
    """Every submitter's count (0 when none), in the given order."""
    return [TallyRow(s, int(counts.get(s.code, 0))) for s in who]


HEADER = ["报送单位", "类别", "应报（篇）", "已报（篇）", "欠报（篇）", "完成情况"]


def row_cells(r: TallyRow) -> list[str]:
    """One row as printed and exported."""
    return [r.submitter.name, r.submitter.kind.label, str(r.submitter.quota), str(r.submitted), str(r.behind),
            "未完成" if r.behind else "已完成"]


def to_csv(rows: list[TallyRow]) -> bytes:
    """The export for the district's assessment (UTF-8 with BOM so Excel reads the Chinese; a
    submitter's name from the pack or the bureau's list is a cell like any other: made inert by
    ``core.spreadsheet`` when it begins like a formula)."""
    return csv_bytes(HEADER, [row_cells(r) for r in rows])


def blocks(jurisdiction: str, month: str, rows: list[TallyRow], as_of: dt.datetime) -> list[Block]:
    """The monthly summary of 信息简报 as blocks (the briefing renderers draw them)."""
    behind = [r for r in rows if r.behind]
    year, mon = month.split("-")
    out = [Block("title", f"{jurisdiction}信息简报报送情况（{year}年{int(mon)}月）"),
           Block("subtitle", f"数据截至：{to_local(as_of):%Y-%m-%d %H:%M}（北京时间）"),
           Block("p", f"本月应报送单位 {len(rows)} 个，共报送信息简报 {sum(r.submitted for r in rows)} 篇；"
                      f"{len(rows) - len(behind)} 个单位完成定额，{len(behind)} 个单位未完成"
                      + (f"：{'、'.join(r.submitter.name for r in behind)}。" if behind else "。")),
           Block("table", "报送情况", HEADER, [row_cells(r) for r in rows]),
           Block("p", "说明：街镇和局属单位每月不少于2篇，其他部门每月不少于1篇；"
                      "数字按系统中登记的报送时间（北京时间）统计。")]
    return out
