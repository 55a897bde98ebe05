"""Applies analysis and the incident rules to stored posts, a group of posts per transaction."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields

from alerts.config import AlertsConfig, alerts_config
from alerts.deadlines import compute_deadlines, raise_deadlines
from alerts.followups import ACCIDENT_SIGNALS, author_unit, post_role, speaks_to_the_thread, writes_back
from alerts.grading import Reach, add_post, effective_grade, grade_incident, source_tier
from alerts.grouping import (
    GENERIC_TOPIC,
    MAX_KEYWORDS,
    Accidents,
    Weight,
    acted_by_people,
    candidate_topic,
    consolidable,
    fold_into,
    is_followup,
    lookback,
    merge_keywords,
    opened_twice,
    probes,
    words_grams,
)
from alerts.notify import notify
from alerts.rules import Decision, decide, matched_against_incidents, placed_by_incident
from core.actors import SYSTEM
from core.errors import StoreError
from core.models import Analysis, AuditEntry, Incident, PostRole, RawPost, State, url_fingerprint
from core.timeutil import utcnow
from nlp.analyzer import Analyzer
from storage.candidates import CandidatePool
from storage.sql import SqlStore, Tx

log = logging.getLogger(__name__)
# Steps a reopened incident must do again; report and press conference stay done.
REDO_ON_REOPEN = ("sign_off", "response", "closure", "closed")
THREAD_DEPTH = 12  # posts looked at up a thread for one in an incident (a comment on a comment on …)


@dataclass(slots=True)
class ProcessReport:
    """What one processing pass did."""

    processed: int = 0
    relevant: int = 0
    opened: int = 0
    merged: int = 0
    failed: int = 0
    reopened: int = 0
    raised: int = 0
    followups: int = 0  # official replies, progress and feedback attached to their incident
    absorbed: int = 0  # posts like an incident dismissed as 误报: recorded with it, nothing reopened

    def add(self, other: ProcessReport) -> None:
        """Add ``other``'s counts to this report's."""
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))


def regrade(tx: Tx, config: AlertsConfig, incident: Incident, at: dt.datetime, actor: str = SYSTEM, *,
            velocity: int | None = None, audit: Callable[[AuditEntry], None] | None = None) -> bool:
    """Recompute the grade from the incident's stored reach and velocity; raise it (never lower it
    automatically) with an audit entry, stricter deadlines and a notification. True if raised.
    ``velocity``: its posts of the last hour, when the caller knows them (the detection pass
    counts its own links, not written yet); ``audit``: where the entry goes (default: written now)."""
    assert incident.id is not None
    if velocity is None:
        velocity = tx.incident_post_count_between(incident.id, at - dt.timedelta(hours=1), at)
    computed, reasons = grade_incident(Reach.from_dict(incident.reach), float(velocity), config.grading)
    new = effective_grade(computed, incident.grade_override)
    if new.rank <= incident.grade.rank:
        if computed.rank >= incident.grade.rank and incident.grade_override is None:
            incident.grade_reasons = reasons  # same grade, fresher reasons (figures grow)
        return False
    old = incident.grade
    incident.grade, incident.grade_reasons = new, reasons
    incident.deadlines = raise_deadlines(incident.deadlines, config.jurisdiction.deadlines, new, at,
                                         incident.milestones, incident.complex)
    (audit or tx.add_audit)(AuditEntry(incident.id, at, actor, "grade_raised", incident.state.value,
                                       incident.state.value, {"from_grade": old.value, "to_grade": new.value,
                                                              "reasons": reasons}))
    notify(tx, config, incident, "grade_raised", f"等级由{old.label}升为{new.label}: {'; '.join(reasons[1:])}", at)
    return True


class _Group:
    """One transaction's incident work for a group of posts, written when the group is done.

    Each incident the group touches is read once (locked on PostgreSQL until the commit, so a
    concurrent action waits rather than being overwritten) and kept here as it changes; the
    group's links, audit entries and incident rows are written together at the end (a handful of
    statements a group instead of about eight a post: bench/pipeline.py). What it writes late it
    answers from memory meanwhile: the candidates (``pool``, told of every change), an incident's
    velocity (its stored posts of the last hour plus the group's own) and a reply's thread.
    """

    def __init__(self, tx: Tx, at: dt.datetime, pool: CandidatePool, claimed: Sequence[int]) -> None:
        self.tx, self.at, self.pool = tx, at, pool
        self.taken = tx.posts_in_incidents(claimed)  # already in an incident: not linked again
        self.incidents: dict[int, Incident] = {}
        self.changed: dict[int, Incident] = {}
        self.links: list[tuple[int, int, dt.datetime, PostRole]] = []
        self.folds: list[tuple[int, int]] = []  # (merged, into): posts moved once the links are written
        self.audits: list[AuditEntry] = []
        self._linked_by_fp: dict[str, int] = {}  # a linked post's fingerprint -> its incident
        self._linked_by_author: dict[tuple[str, str], tuple[dt.datetime, int]] = {}  # writer -> latest link
        # Linked posts not yet keyed in _linked_by_fp: keyed only when a reply asks (a URL's
        # normalisation for every post linked was a per cent of a pass, bench/pipeline.py).
        self._unkeyed: list[tuple[RawPost, int]] = []
        self._stored_recent: dict[int, int] = {}  # incident -> its stored posts of the last hour
        self._linked_recent: dict[int, int] = {}  # incident -> the group's links of the last hour
        self._since = at - dt.timedelta(hours=1)
        self._acted: dict[int, bool] = {}  # incident -> acted on by a person (its audit log)

    def attach(self, incident_id: int, post: RawPost, role: PostRole) -> bool:
        """Link a post to an incident (``Tx.attach_post``); False if it already belongs to one."""
        assert post.id is not None
        if post.id in self.taken:
            return False
        self.taken.add(post.id)
        self.links.append((incident_id, post.id, self.at, role))
        self._unkeyed.append((post, incident_id))
        when = post.published_at or post.fetched_at
        if post.author and when is not None:
            mine = self._linked_by_author.get((post.source, post.author))
            if mine is None or when >= mine[0]:
                self._linked_by_author[(post.source, post.author)] = (when, incident_id)
        if when is not None and self._since <= when <= self.at:
            self._linked_recent[incident_id] = self._linked_recent.get(incident_id, 0) + 1
        return True

    def opened(self, incident: Incident) -> None:
        """An incident the group opened (inserted already: it has an id)."""
        assert incident.id is not None
        self.incidents[incident.id] = incident
        self._stored_recent[incident.id] = 0
        self.pool.put(incident)

    def incident(self, incident_id: int) -> Incident:
        """The whole incident as the group has it (read and locked on first use)."""
        found = self.incidents.get(incident_id)
        if found is None:
            found = self.tx.get_incident_for_update(incident_id)
            if found is None:
                raise StoreError(f"incident {incident_id} vanished while the detection pass was using it")
            self.incidents[incident_id] = found
        return found

    def changed_incident(self, incident: Incident) -> None:
        """An incident the group changed: written at the end, seen as it is now by later posts."""
        assert incident.id is not None
        self.changed[incident.id] = incident
        self.pool.put(incident)

    def _acted_on(self, incident_id: int) -> bool:
        """Whether a person has acted on the incident (``alerts.grouping.acted_by_people``), read
        once: asked only of an incident the pass would merge by itself."""
        if incident_id not in self._acted:
            self._acted[incident_id] = acted_by_people(self.tx.audit_for(incident_id))
        return self._acted[incident_id]

    def consolidable(self, joined: Incident, other: Incident) -> bool:
        """``alerts.grouping.consolidable`` with the audit logs of both read (once) for whether a
        person has acted on either."""
        return consolidable(joined, other, {i for i in (joined.id, other.id) if i is not None and self._acted_on(i)})

    def velocity(self, incident_id: int) -> int:
        """The incident's posts published in the last hour (``Tx.incident_post_count_between``):
        those stored, counted once, plus the group's own links."""
        if incident_id not in self._stored_recent:
            self._stored_recent[incident_id] = self.tx.incident_post_count_between(incident_id, self._since, self.at)
        return self._stored_recent[incident_id] + self._linked_recent.get(incident_id, 0)

    def thread(self, reply_to: str) -> Incident | None:
        """The incident of the nearest post up the thread from ``reply_to`` that is in one
        (``Tx.thread_incident``, then ``Tx.thread_parent``), as the group has it, posts linked by
        this group included. Why up the thread: a comment answering a comment that joined nothing
        ("楼主这盘二手房啥价格？" — "天天臭成这样，哪个敢买") is still under the complaint."""
        seen: set[str] = set()
        url: str | None = reply_to
        while url is not None and len(seen) < THREAD_DEPTH and url not in seen:
            seen.add(url)
            found = self._thread_incident(url)
            if found is not None:
                return found
            url = self.tx.thread_parent(url)
        return None

    def author_incident(self, post: RawPost, since: dt.datetime) -> Incident | None:
        """The incident of the latest post by ``post``'s writer since ``since``, posts linked by
        this group included (``Tx.author_incident``)."""
        assert post.author is not None
        mine = self._linked_by_author.get((post.source, post.author))
        if mine is not None and mine[0] >= since and self.incident(mine[1]).merged_into is None:
            return self.incident(mine[1])
        found = self.tx.author_incident(post.source, post.author, since)
        return None if found is None or found.id is None else self.incidents.get(found.id, found)

    def _thread_incident(self, url: str) -> Incident | None:
        for post, incident_id in self._unkeyed:  # in link order: a later link of one fingerprint wins
            self._linked_by_fp[post.fingerprint] = incident_id
        self._unkeyed.clear()
        linked = self._linked_by_fp.get(url_fingerprint(url))
        if linked is not None and self.incident(linked).merged_into is None:
            return self.incident(linked)
        found = self.tx.thread_incident(url)
        if found is None or found.id is None:
            return found
        found = self.incidents.get(found.id, found)
        if found.merged_into is not None and found.merged_into in self.incidents:
            return self.incidents[found.merged_into]  # merged by this group (consolidate): its posts move at the end
        return found

    def write(self) -> None:
        """Write what the group did: audit entries in order, the changed incidents (in id
        order), then the links, whose insert recounts each incident's posts."""
        self.tx.add_audits(self.audits)
        self.tx.update_incidents([self.changed[i] for i in sorted(self.changed)])
        self.tx.attach_posts(self.links)
        for source, target in self.folds:
            self.tx.move_posts(source, target)


def _open(group: _Group, config: AlertsConfig, post: RawPost, decision: Decision, model: str | None,
          weight: Weight) -> None:
    tx, at, incident = group.tx, group.at, decision.incident
    assert incident is not None and post.id is not None
    incident_id = tx.insert_incident(incident)
    group.opened(incident)
    group.attach(incident_id, post, decision.role)
    group.audits.append(AuditEntry(incident_id, at, SYSTEM, "open", None, State.NEW.value,
                                   {"post_id": post.id, "grade": incident.grade.value,
                                    "reasons": incident.grade_reasons + decision.reasons, "model": model}))
    if incident.state is State.ASSIGNED:
        tx.add_assignment(incident_id, incident.unit_code, incident.unit, incident.department, SYSTEM, at)
        group.audits.append(AuditEntry(incident_id, at, SYSTEM, "assign", State.NEW.value, State.ASSIGNED.value,
                                       {"unit": incident.unit, "unit_code": incident.unit_code,
                                        "department": incident.department}))
        notify(tx, config, incident, "opened", f"新事件交办{incident.unit}（{incident.department or '未定部门'}）", at)
    else:
        notify(tx, config, incident, "triage", f"新事件待分拣: {decision.reasons[0]}", at)
    target = _twins(group, config, incident, post, weight)
    if target is not incident:
        assert target.id is not None
        regrade(tx, config, target, at, velocity=group.velocity(target.id), audit=group.audits.append)
        group.changed_incident(target)


def _join(group: _Group, config: AlertsConfig, post: RawPost, analysis: Analysis, decision: Decision,
          words: list[str], report: ProcessReport, weight: Weight) -> None:
    tx, at = group.tx, group.at
    assert decision.incident is not None and decision.incident.id is not None and post.id is not None
    if not group.attach(decision.incident.id, post, decision.role):
        return
    # The whole record: the decision's incident may be only the summary the grouping rule read
    # (Tx.candidate_pool).
    incident = group.incident(decision.incident.id)
    assert incident.id is not None
    if decision.action == "attach":
        _follow_up(group, incident, post, decision)
        report.followups += 1
        return
    incident.reach = add_post(Reach.from_dict(incident.reach), post, analysis, decision.tier).to_dict()
    incident.keywords = merge_keywords(incident.keywords, words)
    incident.last_post_at = at
    incident.updated_at = at
    if decision.action == "reopen":
        before = incident.state
        incident.state = State.ASSIGNED if incident.unit_code else State.NEW
        incident.reopened += 1
        for step in REDO_ON_REOPEN:
            incident.milestones.pop(step, None)
        redone = compute_deadlines(config.jurisdiction.deadlines, incident.grade, at, incident.complex)
        incident.deadlines.update({k: v for k, v in redone.items() if k in REDO_ON_REOPEN})
        group.audits.append(AuditEntry(incident.id, at, SYSTEM, "reopen", before.value, incident.state.value,
                                       {"post_id": post.id, "reason": decision.reasons[0]}))
        if incident.unit_code:
            tx.add_assignment(incident.id, incident.unit_code, incident.unit, incident.department, SYSTEM, at)
        notify(tx, config, incident, "reopened", "已办结事件出现新帖，重新打开", at)
        report.reopened += 1
    else:
        group.audits.append(AuditEntry(incident.id, at, SYSTEM, "add_post", incident.state.value,
                                       incident.state.value, {"post_id": post.id, "reason": decision.reasons[0],
                                                              "role": decision.role.value, "model": analysis.model}))
        if decision.role is PostRole.UNRESOLVED and incident.state is State.RESOLVED:
            # The unit says it is done; the public says it is not. The duty desk decides (审核退回).
            notify(tx, config, incident, "reopened", "已办结事件有群众反映仍未解决，请审核", at)
        report.merged += 1
    incident = _consolidate(group, incident, decision, post)
    if decision.role is PostRole.REPORT:
        incident = _twins(group, config, incident, post, weight)
    assert incident.id is not None
    if regrade(tx, config, incident, at, velocity=group.velocity(incident.id), audit=group.audits.append):
        report.raised += 1
        # Written now, not with the group: each raise is its own feed line (Tx.update_incident).
        tx.update_incident(incident)
    group.changed_incident(incident)


def _consolidate(group: _Group, incident: Incident, decision: Decision, post: RawPost) -> Incident:
    """并单 by the detection pass: the open incidents of its unit the post fits as well as the one
    it joined (``Decision.also``) that are one event by ``alerts.grouping.consolidable`` are merged
    into the oldest of them, audited as a person's merge is ("merge"/"merge_in", actor system,
    the post that bridged them and why); the others stay proposed in the reason (请核对并单).
    The incident the post now belongs to."""
    for other_id in decision.also:
        other = group.incident(other_id)
        if group.consolidable(incident, other):
            incident = _fold(group, incident, other, post, f"帖子 #{post.id} 同时高度符合两事件，系同一事件，自动并单")
    return incident


def _twins(group: _Group, config: AlertsConfig, incident: Incident, post: RawPost, weight: Weight) -> Incident:
    """并单 by the detection pass without a bridging post: the other open incidents of the unit and
    topic that ``alerts.grouping.opened_twice`` finds to be this event opened twice, and that
    nobody has acted on (``consolidable``), merged as :func:`_consolidate` merges. The incident
    the post now belongs to."""
    hours = dt.timedelta(hours=float(config.grouping.get("twice_hours", 0.0)))
    # Only while the incident is young: the twins are told by their first reports (and looking
    # through a unit's incidents for every report that joins an old one cost 8 % of the pass).
    if incident.unit_code is None or incident.id is None or not hours or group.at - incident.opened_at > hours:
        return incident
    for other in group.pool.candidates(incident.unit_code, incident.topic, incident.opened_at - hours,
                                       group.at):
        if (other.id == incident.id or other.id is None or other.merged_into is not None
                or abs(other.opened_at - incident.opened_at) > hours):
            continue
        why = opened_twice(other, incident, weight, config.grouping)
        if why is None:
            continue
        whole = group.incident(other.id)
        if group.consolidable(incident, whole):
            incident = _fold(group, incident, whole, post, why)
    return incident


def _fold(group: _Group, incident: Incident, other: Incident, post: RawPost, why: str) -> Incident:
    """Merge the younger of two incidents into the older (``alerts.grouping.fold_into``): audited
    "merge"/"merge_in" by system with the post that brought it about and why, the source's
    escalations ended, its posts moved when the group is written. The older, which remains."""
    at = group.at
    source, target = (incident, other) if (other.opened_at, other.id or 0) < (incident.opened_at, incident.id or 0) \
        else (other, incident)
    assert source.id is not None and target.id is not None
    before = source.state
    fold_into(source, target, at)
    group.folds.append((source.id, target.id))
    group.audits.append(AuditEntry(source.id, at, SYSTEM, "merge", before.value, source.state.value,
                                   {"into": target.id, "post_id": post.id, "reason": why}))
    group.audits.append(AuditEntry(target.id, at, SYSTEM, "merge_in", target.state.value, target.state.value,
                                   {"from": source.id, "post_id": post.id, "reason": why}))
    group.tx.end_escalations(source.id, at)
    group.changed_incident(source)
    group.changed_incident(target)
    return target


def _follow_up(group: _Group, incident: Incident, post: RawPost, decision: Decision) -> None:
    """A follow-up joins the incident's public-response timeline: no reach, no regrade, no new
    keywords (the centroid stays the reports'), no reopening; an official reply marks when the
    responsible side first answered in public."""
    assert incident.id is not None
    if decision.role is PostRole.OFFICIAL and incident.public_reply_at is None:
        incident.public_reply_at = post.published_at or group.at
    incident.updated_at = group.at
    group.audits.append(AuditEntry(incident.id, group.at, SYSTEM, "add_followup", incident.state.value,
                                   incident.state.value, {"post_id": post.id, "role": decision.role.value,
                                                          "reason": decision.reasons[0]}))
    group.changed_incident(incident)


def _absorb(group: _Group, post: RawPost, decision: Decision) -> int:
    """Record a post with the incident dismissed as 误报 it is like (alerts.grouping.dismissed):
    attached and audited, and its last post time moved on so the non-matter stays within reach
    while it is posted about; its state, grade, deadlines and reach are untouched, and nobody is
    notified. 1 if recorded, 0 if the post was already there."""
    assert decision.incident is not None and decision.incident.id is not None and post.id is not None
    if not group.attach(decision.incident.id, post, decision.role):
        return 0
    incident = group.incident(decision.incident.id)
    incident.last_post_at = incident.updated_at = group.at
    why = f"与已判误报的事件相同，仅记录：{decision.reasons[0]}"
    group.audits.append(AuditEntry(decision.incident.id, group.at, SYSTEM, "add_post", incident.state.value,
                                   incident.state.value, {"post_id": post.id, "reason": why,
                                                          "role": decision.role.value, "dismissed": True}))
    group.changed_incident(incident)
    return 1


def _analyse(analyzer: Analyzer, post: RawPost) -> tuple[Analysis, list[str]] | Exception:
    """A post's analysis and event words, or the exception its analysis raised (one bad post
    must not stop the batch). Every post's words: one the analysis finds not relevant may still
    have a follow-up's form (``alerts.rules.matched_against_incidents``), known only once its
    role is."""
    try:
        analysis, tokens = analyzer.analyze_with_tokens(post.full_text)
        words = analyzer.salience.event_words(tokens, MAX_KEYWORDS, analysis.signals)
    except Exception as exc:
        log.exception("analysis failed for post %s", post.id)
        return exc
    return analysis, words


def _apply(group: _Group, config: AlertsConfig, analyzer: Analyzer, post: RawPost, analysis: Analysis,
           words: list[str], role: PostRole, tier: str, counted: ProcessReport) -> Analysis:
    """Turn one claimed, analysed post into incident changes, inside its group's transaction;
    the analysis to store (placed by the incident it joined). ``tier``: its source's
    (``alerts.grading.source_tier``), worked out once for its role and its decision."""
    assert post.id is not None
    at, pool = group.at, group.pool
    candidates = []
    stored, analysis = analysis, _speaker_placed(config, post, analysis, role)  # placed for grouping only
    matched = matched_against_incidents(post, analysis, role, config.jurisdiction.followups)
    if not matched:
        words = []  # a post joining only by its thread adds no words to the incident's centroid
    else:
        unit = analysis.unit_code if analysis.confidence >= config.min_unit_confidence else None
        window, reopen = lookback(config.grouping, role)
        accidents = Accidents.from_policy(config.grouping)
        topic, since, closed_since = candidate_topic(
            analysis.topic, role, analysis.signals, accidents), at - window, at - reopen
        post_probes = probes(words_grams(words, analyzer.salience.weight))
        if unit is not None:
            # A placed post: the incidents of its unit and topic family sharing a word, a kind of
            # source or its place; when none of its unit does, every incident of its unit and
            # topic family with a post in the last unit_window_hours (alerts.grouping.pair_features:
            # unit_only, the matter of this medium the unit has on its desk now). Looked at only
            # then: comparing with them for every post cost a third of the detection speed.
            candidates = pool.candidates(unit, topic, since, closed_since, probes=post_probes, place=analysis.place)
            # (A follow-up's own medium counts: it looks at every topic by its words first.)
            if not any(c.unit_code == unit and (c.topic == analysis.topic or not is_followup(role))
                       for c in candidates):
                recent = at - min(window, _unit_window(config))
                if is_followup(role):
                    # A reply naming only its unit looks as far back as follow-ups do, at its own
                    # medium's incidents: the complaint it answers is days old
                    # (alerts.grouping.unit_reply_match).
                    recent, topic = since, analysis.topic
                candidates = [*candidates, *pool.candidates(unit, topic, recent, closed_since)]
            if not is_followup(role) and topic == analysis.topic and topic in accidents.topics:
                # A report not looking at every topic already: the other medium's incident of its
                # unit may be the one telling the accident (alerts.grouping.Accidents.links: either
                # side): the fire's smoke is open as air, and its firefighting water running black
                # into the ditch tells no accident of its own (bench/burst.py's event ended as two
                # incidents, air and water).
                candidates = [*candidates, *(c for c in pool.candidates(unit, GENERIC_TOPIC, since, closed_since,
                                                                        probes=post_probes, place=analysis.place)
                                             if c.unit_code == unit and c.topic != topic
                                             and accidents.told(c.topic, c.keywords))]
        else:
            # An unplaced one: those of every unit sharing one of its words; a comment naming no
            # place that tells of an accident: every incident of the topic family (accident_comment).
            accident = analysis.place is None and not ACCIDENT_SIGNALS.isdisjoint(analysis.signals)
            candidates = pool.candidates(None, topic, since, closed_since, probes=() if accident else post_probes,
                                     place=analysis.place)
    thread = group.thread(post.reply_to) if post.reply_to else None
    if thread is not None and not speaks_to_the_thread(post, analysis, role, lambda: _environmental(analyzer, post),
                                                       config.jurisdiction.followups):
        # Chatter or an advert under a thread whose matter is an incident: it joins nothing, and
        # it opens nothing either (its words are the thread's when it reposts it).
        decision = Decision("ignore", reasons=[f"跟帖于 #{thread.id} 所在话题，但与事件无关（闲聊或广告）"])
    else:
        # A resident's follow-up: the matter its writer posted about (asked only of a post that
        # concerns incidents: a query per post otherwise).
        own = (group.author_incident(post, at - lookback(config.grouping, role)[0])
               if thread is None and matched and writes_back(post, role, tier, config.jurisdiction.followups)
               else None)
        decision = decide(post, analysis, candidates, analyzer.jurisdiction, at, words,
                          analyzer.salience.weight, role, thread, own, tier=tier, matched=matched)
    analysis = placed_by_incident(stored, decision)
    if decision.action == "open":
        _open(group, config, post, decision, analysis.model, analyzer.salience.weight)
        counted.opened += 1
    elif decision.action in ("merge", "reopen", "attach"):
        _join(group, config, post, analysis, decision, words, counted, analyzer.salience.weight)
    elif decision.action == "absorb":
        counted.absorbed += _absorb(group, post, decision)
    counted.processed += 1
    counted.relevant += int(analysis.relevant)
    return analysis


def _speaker_placed(config: AlertsConfig, post: RawPost, analysis: Analysis, role: PostRole) -> Analysis:
    """An official reply that names no unit of its own, placed at the unit its account speaks
    for (``alerts.followups.author_unit``: "鱼嘴镇人民政府" — "我镇已与港口运营方沟通……"), so it
    meets its unit's incidents; any other post as analysed."""
    if role is not PostRole.OFFICIAL or (analysis.unit_code and analysis.confidence >= config.min_unit_confidence):
        return analysis
    unit = author_unit(post.author, config.jurisdiction.units.values())
    if unit is None:
        return analysis
    return dataclasses.replace(analysis, unit=unit.name, unit_code=unit.code, confidence=1.0)


def _environmental(analyzer: Analyzer, post: RawPost) -> float:
    """The relevance model's probability that a post is about the environment (1.0 without
    models: the rules alone then decide); asked only of a comment under an incident's
    thread whose tone decides (alerts.followups.speaks_to_the_thread)."""
    models = analyzer.classifiers
    if models is None:
        return 1.0
    model = models.environmental
    return model.probabilities(analyzer.features(post.full_text))[model.classes[-1]]


def _unit_window(config: AlertsConfig) -> dt.timedelta:
    return dt.timedelta(hours=float(config.grouping.get("unit_window_hours", 24)))


def _role(config: AlertsConfig, post: RawPost, analysis: Analysis) -> tuple[PostRole, str]:
    """A post's role and its source's tier (worked out once: the decision reads it too)."""
    tier = source_tier(post, config.jurisdiction.grading)
    return post_role(post, analysis, config.jurisdiction.followups, tier), tier


def process_pending(store: SqlStore, analyzer: Analyzer, now: dt.datetime | None = None,
                    batch: int = 1000, config: AlertsConfig | None = None, per_tx: int = 500) -> ProcessReport:
    """Analyse every stored, unprocessed post and open, feed or reopen incidents.

    Posts go ``per_tx`` to a transaction: each is analysed first (outside it, so no write lock is
    held while analysing), then claimed, stored and turned into incident changes in the one
    transaction, in order, each seeing what the ones before it did (:class:`_Group` keeps the
    group's incidents, candidates and links in memory and writes them at the end). A crash or a
    failed commit rolls the whole group back, leaving its posts pending: nothing is lost or
    doubled, and a post another worker claimed meanwhile is left to it. One commit and a handful
    of statements per group instead of per post is most of what the whole way in costs beyond
    analysis (bench/pipeline.py). A post whose analysis fails is marked with the error and skipped.
    """
    config = config or alerts_config(analyzer.jurisdiction)
    report = ProcessReport()
    pool = CandidatePool()  # the pass's candidates, refreshed by each transaction
    while True:
        with store.read() as tx:
            pending = tx.unprocessed_posts(limit=batch)
        if not pending:
            return report
        for start in range(0, len(pending), per_tx):
            group = pending[start:start + per_tx]
            analysed = [_analyse(analyzer, post) for post in group]
            roles = [None if isinstance(r, Exception) else _role(config, p, r[0])
                     for p, r in zip(group, analysed, strict=True)]
            # The widest window any of the group's posts looks back (a follow-up's is weeks).
            window = max((lookback(config.grouping, r[0])[0] for r in roles if r is not None),
                         default=dt.timedelta(0))
            reopen = lookback(config.grouping, PostRole.REPORT)[1]
            # The group's counts join the pass's only once its transaction has committed: a rolled
            # back post opened, fed or reopened nothing, and the report must not say it did.
            counted = ProcessReport()
            try:
                with store.begin() as tx:
                    at = now or utcnow()
                    # Claim first, the whole group in one statement: a post another worker got to
                    # meanwhile is theirs, and nothing is written for it here.
                    claimed = tx.claim_posts([p.id for p, r in zip(group, analysed, strict=True)
                                              if p.id is not None and not isinstance(r, Exception)], at)
                    work = _Group(tx, at, tx.candidate_pool(at - window, at - reopen, pool), sorted(claimed))
                    stored: list[tuple[int, Analysis]] = []
                    for post, result, role in zip(group, analysed, roles, strict=True):
                        assert post.id is not None
                        if isinstance(result, Exception):
                            tx.claim_post(post.id, at, error=f"{type(result).__name__}: {result}")
                            counted.failed += 1
                        elif post.id in claimed:
                            assert role is not None
                            stored.append((post.id, _apply(work, config, analyzer, post, *result, *role, counted)))
                    work.write()
                    # Nothing in the incident rules reads a stored analysis: the group's are written
                    # together, two statements instead of two per post.
                    tx.save_analyses(stored, at)
            except StoreError:
                log.exception("storing the analyses of posts %s-%s failed; they stay pending",
                              group[0].id, group[-1].id)
                report.failed += 1
                return report  # the store is unwell: stop this pass, retry on the next
            report.add(counted)
