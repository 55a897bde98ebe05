"""Incidents and posts as tables for people (CSV/XLSX opened in Excel or WPS): the columns, their
Chinese headers and stable machine keys, and one row per record.

The headers are Chinese (what the bureau reads); each column's machine key is in
:data:`INCIDENT_COLUMNS` / :data:`POST_COLUMNS` and documented in docs/exports.md (a test holds
the two equal), so a program reading an export maps columns by key, not by wording. Times are
Asia/Shanghai; codes (grade, state, topic, polarity) are written as their Chinese labels, the
codes themselves are in the JSON feeds. The files are written by :mod:`core.spreadsheet`, which
makes crawled text inert (no formula ever runs from an export).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from alerts.escalation import overdue_step_names
from core.models import POLARITY_LABELS, STEP_LABELS, TOPIC_LABELS, Incident
from core.spreadsheet import Cell, csv_bytes, xlsx_bytes
from core.timeutil import to_local
from storage.search import SearchHit

ExportFormat = Literal["csv", "xlsx"]
MEDIA_TYPES: dict[str, str] = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
EXPORT_SCHEMA = "ecowatch.export.v1"  # the column lists below; a change of meaning is a new version


@dataclass(frozen=True, slots=True)
class Column:
    """One exported column: its stable machine key and its Chinese header."""

    key: str
    header: str


INCIDENT_COLUMNS = (
    Column("id", "事件编号"), Column("title", "标题"), Column("grade", "等级"), Column("state", "状态"),
    Column("topic", "类别"), Column("unit", "属地"), Column("unit_code", "属地代码"), Column("department", "职能部门"),
    Column("place", "地点"), Column("opened_at", "发现时间"), Column("updated_at", "最后更新"),
    Column("post_count", "信息条数"), Column("overdue", "超期环节"), Column("deadlines", "各环节时限"),
    Column("public_reply_at", "公开回应时间"), Column("grade_reasons", "定级依据"))
POST_COLUMNS = (
    Column("post_id", "信息编号"), Column("incident_id", "所属事件"), Column("source", "来源"),
    Column("title", "标题"), Column("text", "正文"), Column("url", "链接"), Column("published_at", "发布时间"),
    Column("unit_code", "属地代码"), Column("topic", "类别"), Column("polarity", "情感倾向"))
SHEETS = {"incidents": "舆情事件", "posts": "舆情信息"}


def _moment(value: dt.datetime) -> str:
    return f"{to_local(value):%Y-%m-%d %H:%M}"


def incident_row(incident: Incident, now: dt.datetime) -> list[Cell]:
    """One incident in the order of :data:`INCIDENT_COLUMNS` (overdue as of ``now``)."""
    return [incident.id, incident.title, incident.grade.label, incident.state.label,
            TOPIC_LABELS.get(incident.topic, incident.topic), incident.unit, incident.unit_code, incident.department,
            incident.place, incident.opened_at, incident.updated_at, incident.post_count,
            "、".join(STEP_LABELS.get(s, s) for s in overdue_step_names(incident, now)),
            "；".join(f"{STEP_LABELS.get(s, s)} {_moment(due)}" for s, due in sorted(incident.deadlines.items(),
                                                                                     key=lambda kv: kv[1])),
            incident.public_reply_at, "；".join(incident.grade_reasons)]


def post_row(hit: SearchHit) -> list[Cell]:
    """One post found by a search, in the order of :data:`POST_COLUMNS`."""
    return [hit.post_id, hit.incident_id, hit.source, hit.title, hit.text, hit.url, hit.published_at,
            hit.unit_code, TOPIC_LABELS.get(hit.topic, hit.topic) if hit.topic else None,
            POLARITY_LABELS.get(hit.polarity, hit.polarity) if hit.polarity else None]


def render(kind: Literal["incidents", "posts"], fmt: ExportFormat, rows: Iterable[Sequence[Cell]]) -> bytes:
    """The file: Chinese headers, then the rows (CSV with a BOM, or one XLSX sheet)."""
    columns = INCIDENT_COLUMNS if kind == "incidents" else POST_COLUMNS
    header = [c.header for c in columns]
    if fmt == "csv":
        return csv_bytes(header, rows)
    return xlsx_bytes(header, rows, SHEETS[kind])


def too_many(total: int, cap: int, kind: str) -> str:
    """Why an export of ``total`` rows is refused, in Chinese first (the console shows it as it is
    to the officer who pressed 导出), then in English."""
    what = {"incidents": "事件", "posts": "信息"}[kind]
    return (f"符合条件的{what}共 {total} 条，一次最多导出 {cap} 条：请缩小筛选范围（时间段、属地、状态等）分批导出。"
            f"{total} {kind} match; an export holds at most {cap}: narrow the filters (a shorter since/until, "
            f"a unit, a state) and export in parts")


def file_name(kind: str, fmt: str, now: dt.datetime) -> str:
    """The download's name: ``incidents-20261204-2130.csv`` (local time; ASCII, so every browser keeps it)."""
    return f"{kind}-{to_local(now):%Y%m%d-%H%M}.{fmt}"
