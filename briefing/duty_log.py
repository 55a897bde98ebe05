"""The duty log (值班日志) of a month: the shifts and who stood in them, then every page,
acknowledgement, hand-over and override in order, exported as DOCX or XLSX for the file.

Everything is read from the duty aggregate (:mod:`storage.rota`); the DOCX uses the briefing's
fonts and tables (:mod:`briefing.render_docx`), so the log looks like the bureau's other papers.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import dataclass, field
from typing import Any

from core.actors import SYSTEM
from core.duty import ACK_VIA_LABELS, LOG_LABELS, TIER_LABELS, Shift
from core.timeutil import SHANGHAI, to_local
from storage.sql import Tx

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
SHIFT_HEADER = ["日期", "班次", "时间", "值班员", "电话", "备班", "带班领导"]
ENTRY_HEADER = ["时间", "事项", "人员", "内容"]


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


@dataclass(slots=True)
class DutyLog:
    """A month's log as table rows."""

    month: str
    shifts: list[list[str]] = field(default_factory=list)
    entries: list[list[str]] = field(default_factory=list)

    @property
    def title(self) -> str:
        """The document's title."""
        year, month = self.month.split("-")
        return f"值班日志（{year}年{int(month)}月）"


def describe(kind: str, detail: dict[str, Any], incident_id: int | None) -> str:
    """One log line's content in words."""
    about = f"#{incident_id} " if incident_id is not None else ""
    tier = TIER_LABELS.get(detail.get("tier") or "", "")
    if kind == "import":
        return (f"导入 {detail.get('source')}：{detail.get('shifts')} 个班次（{detail.get('from')} 至 "
                f"{detail.get('to')}，替换 {detail.get('replaced')} 个）")
    if kind == "override":
        return (f"{detail.get('shift')} {tier}：{detail.get('from') or '（空）'} → {detail.get('to')}，"
                f"审批人 {detail.get('approved_by')} {detail.get('reason') or ''}").rstrip()
    if kind == "page":
        if not tier:
            return f"{about}无人值班，呼叫带班领导 {detail.get('person')}"
        return f"{about}呼叫{tier} {detail.get('person')}（{detail.get('addresses')} 个渠道）"
    if kind == "page_ack":
        via = ACK_VIA_LABELS.get(detail.get("via") or "", "")
        return f"{about}已确认（{via}，呼叫后 {detail.get('after_minutes')} 分钟，当时呼叫{tier}）"
    if kind == "handover":
        return (f"{detail.get('from') or '（无）'} → {detail.get('to') or '（无人值班）'}：待办 "
                f"{detail.get('open_items')} 件，未确认呼叫 {detail.get('unacked_pages')} 个")
    if kind == "gap":
        return "排班空缺：" + "；".join(f"{to_local(dt.datetime.fromisoformat(g['from'])):%m-%d %H:%M} 至 "
                                    f"{to_local(dt.datetime.fromisoformat(g['until'])):%m-%d %H:%M}"
                                    for g in detail.get("gaps", [])) + " 无人值班"
    if kind == "handover_ack":
        return f"已接班（交班后 {detail.get('after_minutes')} 分钟）"
    if kind == "handover_late":
        paged = TIER_LABELS.get(detail.get("paged") or "", "")
        return f"{detail.get('to') or '值班员'} 未按时接班，呼叫{paged} {detail.get('person') or ''}".rstrip()
    return str(detail)


def _shift_row(s: Shift) -> list[str]:
    return [s.duty_date.isoformat(), s.kind.label, f"{to_local(s.starts_at):%H:%M}-{to_local(s.ends_at):%H:%M}",
            s.primary.name if s.primary else "（空缺）", (s.primary.phone or "") if s.primary else "",
            s.backup.name if s.backup else "", s.leader.name if s.leader else ""]


def build_duty_log(tx: Tx, month: str, start: dt.datetime, end: dt.datetime) -> DutyLog:
    """The log of the month [start, end): shifts starting in it, every duty-log line in it."""
    log = DutyLog(month)
    log.shifts = [_shift_row(s) for s in tx.shifts_between(start, end) if s.starts_at >= start]
    for entry in tx.duty_log_between(start, end):
        log.entries.append([f"{to_local(entry['at']):%m-%d %H:%M}", LOG_LABELS.get(entry["kind"], entry["kind"]),
                            entry["actor"] if entry["actor"] != SYSTEM else "系统",
                            describe(entry["kind"], entry["detail"], entry["incident_id"])])
    return log


def render_duty_log(log: DutyLog, fmt: str) -> bytes:
    """The log as a DOCX or XLSX file's bytes."""
    if fmt == "xlsx":
        from openpyxl import Workbook

        book = Workbook()
        sheets = [book.active, book.create_sheet()]
        for sheet, name, header, rows in zip(sheets, ("排班", "日志"), (SHIFT_HEADER, ENTRY_HEADER),
                                             (log.shifts, log.entries), strict=True):
            assert sheet is not None
            sheet.title = name
            sheet.append(header)
            for row in rows:
                sheet.append(row)
        buf = io.BytesIO()
        book.save(buf)
        return buf.getvalue()
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm

    from briefing.render_docx import BODY_FONT, HEADING_FONT, TITLE_FONT, _font, _table

    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    _font(doc.styles["Normal"], BODY_FONT, 11)
    title = doc.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(title.add_run(log.title), TITLE_FONT, 20, True)
    for caption, header, rows in (("一、排班", SHIFT_HEADER, log.shifts), ("二、值班记录", ENTRY_HEADER, log.entries)):
        _font(doc.add_paragraph().add_run(caption), HEADING_FONT, 12, True)
        if rows:
            _table(doc, header, rows)
        else:
            doc.add_paragraph("（无）")
    buf = io.BytesIO()
    doc.core_properties.title = log.title
    doc.core_properties.author = "ecowatch"
    doc.save(buf)
    return buf.getvalue()
