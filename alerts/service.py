"""Applies analysis and the incident rules to stored posts, one transaction per post."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from alerts.rules import MERGE_WINDOW, Decision, decide
from core.errors import StoreError
from core.models import AuditEntry, State
from core.timeutil import utcnow
from nlp.analyzer import Analyzer
from storage.sql import SqlStore, Tx

log = logging.getLogger(__name__)
SYSTEM = "system"


@dataclass(slots=True)
class ProcessReport:
    """What one processing pass did."""

    processed: int = 0
    relevant: int = 0
    opened: int = 0
    merged: int = 0
    failed: int = 0


def _apply(tx: Tx, post_id: int, decision: Decision, at: dt.datetime, report: ProcessReport) -> None:
    """Carry out a rule decision inside the post's transaction, with audit entries."""
    incident = decision.incident
    if decision.action == "open" and incident is not None:
        incident_id = tx.insert_incident(incident)
        tx.attach_post(incident_id, post_id, at)
        tx.add_audit(AuditEntry(incident_id, at, SYSTEM, "open", None, State.NEW.value,
                                {"post_id": post_id, "grade": incident.grade.value,
                                 "reasons": incident.grade_reasons + decision.reasons}))
        if incident.state is State.ASSIGNED:
            tx.add_assignment(incident_id, incident.unit_code, incident.unit, incident.department, SYSTEM, at)
            tx.add_audit(AuditEntry(incident_id, at, SYSTEM, "assign", State.NEW.value, State.ASSIGNED.value,
                                    {"unit": incident.unit, "unit_code": incident.unit_code,
                                     "department": incident.department}))
        report.opened += 1
    elif (decision.action == "merge" and incident is not None and incident.id is not None
          and tx.attach_post(incident.id, post_id, at)):
        tx.add_audit(AuditEntry(incident.id, at, SYSTEM, "add_post", incident.state.value,
                                incident.state.value, {"post_id": post_id}))
        report.merged += 1


def process_pending(store: SqlStore, analyzer: Analyzer, now: dt.datetime | None = None,
                    batch: int = 500) -> ProcessReport:
    """Analyse every stored, unprocessed post and open or feed incidents.

    Each post is analysed, stored and turned into incident changes in its own transaction, so a
    crash mid-batch leaves every post either fully processed or still pending: nothing is lost or
    doubled. A post whose analysis fails is marked with the error and skipped.
    """
    report = ProcessReport()
    while True:
        with store.read() as tx:
            pending = tx.unprocessed_posts(limit=batch)
        if not pending:
            return report
        for post in pending:
            at = now or utcnow()
            try:
                analysis = analyzer.analyze(post.full_text)
            except Exception as exc:  # one bad post must not stop the batch
                log.exception("analysis failed for post %s", post.id)
                with store.begin() as tx:
                    tx.claim_post(post.id, at, error=f"{type(exc).__name__}: {exc}")
                report.failed += 1
                continue
            try:
                with store.begin() as tx:
                    # Claim first: if another worker got here before us, this post is theirs.
                    if not tx.claim_post(post.id, at):
                        continue
                    tx.save_analysis(post.id, analysis, at)
                    candidates = tx.open_incidents_for(
                        analysis.unit_code, analysis.topic, at - MERGE_WINDOW) if analysis.relevant else []
                    decision = decide(post, analysis, candidates, analyzer.jurisdiction, at)
                    _apply(tx, post.id, decision, at, report)
            except StoreError:
                log.exception("storing the analysis of post %s failed; it stays pending", post.id)
                report.failed += 1
                return report  # the store is unwell: stop this pass, retry on the next
            report.processed += 1
            report.relevant += int(analysis.relevant)
