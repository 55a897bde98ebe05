"""Write, keep and read special reports (舆情专报): the entry points the CLI and the API use.

A version is computed from one consistent read of the store, rendered, and kept (DOCX and HTML,
with its figures) in a write transaction that also checks no other version took its number
meanwhile, so two officers pressing the button at once get two numbered versions or a clear
error, never two "第 2 期".
"""

from __future__ import annotations

import datetime as dt

from alerts.acting import acting_user
from briefing.loader import load_incident, load_posts_by_id
from briefing.records import IncidentRecord
from briefing.special_report import (
    EarlierVersion,
    SpecialReport,
    SpecialReportError,
    check_reportable,
    compute,
    render,
    sent_label,
)
from core.errors import NotFoundError
from core.jurisdiction import Jurisdiction
from core.sharing import ReportKind, SendState
from core.timeutil import utcnow
from storage.reports import StoredReport
from storage.sql import SqlStore, Tx


def _earlier(tx: Tx, incident_id: int) -> list[EarlierVersion]:
    kept = tx.special_reports_of(incident_id)
    sent = tx.sendings(report_ids=[k.id for k in kept], status=SendState.SENT.value)
    out = []
    for k in kept:
        mine = [(*sent_label(s.recipient, s.channel), s.sent_at) for s in sent if s.report_id == k.id and s.sent_at]
        out.append(EarlierVersion(k.kind, k.seq, k.created_at, mine))
    return out


def next_kind(earlier: list[EarlierVersion]) -> ReportKind:
    """首报 when nothing was written yet, else 续报 (a 终报 is always asked for)."""
    return ReportKind.FOLLOWUP if earlier else ReportKind.FIRST


def build_special_report(store: SqlStore, jurisdiction: Jurisdiction, incident_id: int,
                         kind: ReportKind | None = None, now: dt.datetime | None = None) -> SpecialReport:
    """The next version's figures as of ``now`` (not kept): NotFoundError for an unknown incident,
    SpecialReportError for one that gets no special report or a 首报 written twice."""
    now = now or utcnow()
    with store.read() as tx:
        record = load_incident(tx, incident_id)
        if record is None:
            raise NotFoundError(f"事件 #{incident_id} 不存在")
        posts = load_posts_by_id(tx, record.post_ids)
        earlier = _earlier(tx, incident_id)
    chosen = kind or next_kind(earlier)
    if chosen is ReportKind.FIRST and earlier:
        raise SpecialReportError(f"事件 #{incident_id} 已有首报，请写续报或终报")
    if earlier and earlier[-1].kind == ReportKind.FINAL.value:
        raise SpecialReportError(f"事件 #{incident_id} 已报终报")
    return compute(record, posts, chosen, len(earlier) + 1, now, jurisdiction.name, earlier)


def keep_special_report(store: SqlStore, report: SpecialReport, by: str, *, version: int | None = None) -> StoredReport:
    """Render both formats and keep the version; SpecialReportError if its number was taken meanwhile
    or the incident was merged away since it was computed, ActorRefused when ``by`` may not write
    reports (any more). Both checked where it is kept, with the incident locked, so two officers
    keeping at once wait for each other and the second finds the number taken."""
    docx, html = render(report, "docx"), render(report, "html").decode("utf-8")
    with store.begin() as tx:
        acting_user(tx, by, "report", version=version)
        incident = tx.get_incident_for_update(report.incident_id)
        if incident is None:
            raise NotFoundError(f"事件 #{report.incident_id} 不存在")
        check_reportable(IncidentRecord(incident))
        if len(tx.special_reports_of(report.incident_id)) != report.seq - 1:
            raise SpecialReportError(f"事件 #{report.incident_id} 的第 {report.seq} 期刚由他人生成，请刷新后重试")
        return tx.add_special_report(incident_id=report.incident_id, kind=report.kind.value, seq=report.seq,
                                     title=report.document_title, at=report.as_of, by=by,
                                     figures=report.figures(), docx=docx, html=html)
