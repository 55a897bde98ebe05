"""Every figure of a briefing, computed from records handed in (pure: no store, no clock).

The result, :class:`Briefing`, is plain data; the renderers only lay it out, so what the DOCX and
HTML say is exactly what is computed (and tested) here.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from alerts.grading import Reach
from briefing.coverage import SourceCoverage, coverage
from briefing.handling import (
    DepartmentOpinion,
    OverdueItem,
    UnitHandling,
    department_opinions,
    handling_by_unit,
    state_at,
    total_row,
)
from briefing.learning import DeskLearning
from briefing.period import Period
from briefing.records import IncidentRecord, PostRecord, Records
from briefing.summary import Quote, summarise
from core.models import STATE_LABELS, STEP_LABELS, TOPIC_LABELS, Grade, PostRole, State
from core.timeutil import to_local

NO_UNIT = "未定属地"
TOP_N = 5


@dataclass(slots=True, frozen=True)
class Change:
    """A figure this period and the one before."""

    label: str
    current: int
    previous: int

    @property
    def delta(self) -> int:
        """Current minus previous."""
        return self.current - self.previous

    @property
    def change_text(self) -> str:
        """环比 in words: +3（+50.0%）, −2（−20.0%）, 持平, or 新增 when the previous was 0."""
        if self.delta == 0:
            return "持平"
        sign = "+" if self.delta > 0 else "−"
        if self.previous == 0:
            return f"{sign}{abs(self.delta)}（上期为0）"
        return f"{sign}{abs(self.delta)}（{sign}{abs(self.delta) / self.previous:.1%}）"


@dataclass(slots=True, frozen=True)
class PostLink:
    """Where to check a claim: the stored post, its original address and its snapshot."""

    post_id: int
    source: str
    title: str
    url: str | None
    snapshot: str | None


@dataclass(slots=True)
class TopIncident:
    """One of the period's main incidents."""

    id: int
    title: str
    unit: str
    grade: Grade
    state: State
    topic: str
    opened_at: dt.datetime
    reach_total: int
    reposts: int
    comments: int
    likes: int
    authors: int
    posts: int
    summary: list[Quote]
    links: list[PostLink]
    public_reply_at: dt.datetime | None = None  # the responsible side's first public answer
    responses: list[tuple[PostRole, PostLink]] = field(default_factory=list)  # replies, progress, feedback
    opinions: list[DepartmentOpinion] = field(default_factory=list)  # departments' 会办意见 (copies' replies)

    @property
    def state_label(self) -> str:
        """Workflow state in Chinese."""
        return STATE_LABELS[self.state]


@dataclass(slots=True, frozen=True)
class TrendPoint:
    """Volume and sentiment of one day (weekly) or hour (daily)."""

    label: str
    start: dt.datetime
    posts: int
    relevant: int
    neg: int
    neu: int
    pos: int

    @property
    def neg_share(self) -> float | None:
        """Negative share of the relevant posts (None when there were none)."""
        return self.neg / self.relevant if self.relevant else None


@dataclass(slots=True, frozen=True)
class AttentionItem:
    """An incident still open at the report time: next week's work."""

    id: int
    title: str
    unit: str
    grade: Grade
    state: State
    next_step: str | None
    next_deadline: dt.datetime | None
    overdue: bool

    @property
    def state_label(self) -> str:
        """Workflow state in Chinese."""
        return STATE_LABELS[self.state]


@dataclass(slots=True)
class Briefing:
    """A weekly briefing (舆情周报) or a daily duty report (值班日报), as data."""

    kind: str  # week | day
    period: Period
    previous: Period
    as_of: dt.datetime
    jurisdiction: str
    totals: list[Change]
    by_grade: list[Change]
    by_topic: list[Change]
    by_unit: list[Change]
    top: list[TopIncident]
    handling: list[UnitHandling]
    handling_total: UnitHandling
    overdue: list[OverdueItem]
    trend: list[TrendPoint]
    topic_mix: list[tuple[str, int]]  # (topic label, relevant posts)
    hot_units: list[tuple[str, int]]
    hot_places: list[tuple[str, int]]
    coverage: list[SourceCoverage]
    attention: list[AttentionItem]
    notes: list[str] = field(default_factory=list)
    late_posts: int = 0  # counted in this period (published in it) but imported after it ended
    learning: DeskLearning | None = None  # the desk's corrections (briefing.learning); weekly only
    # Stretches of the days ahead with nobody on the rota (briefing.service.rota_gaps); daily only
    rota_gaps: list[tuple[dt.datetime, dt.datetime]] = field(default_factory=list)

    @property
    def title(self) -> str:
        """The document title."""
        if self.kind == "week":
            year, week = self.period.key.split("-W")
            return f"{self.jurisdiction}生态环境舆情周报（{year}年第{int(week)}周）"
        return f"{self.jurisdiction}生态环境舆情值班日报（{self.period.key}）"

    @property
    def blind_sources(self) -> list[SourceCoverage]:
        """Sources blind for part of the period."""
        return [c for c in self.coverage if c.blind]


def _in(at: dt.datetime | None, start: dt.datetime, end: dt.datetime) -> bool:
    return at is not None and start <= at < end


def counted(records: Iterable[IncidentRecord], start: dt.datetime, end: dt.datetime) -> list[IncidentRecord]:
    """Incidents opened in [start, end), not counting those merged into another (并单: one matter)."""
    return [r for r in records if _in(r.incident.opened_at, start, end) and r.incident.merged_into is None]


def _changes(current: Counter[str], previous: Counter[str], order: Sequence[str], labels: Mapping[str, str]
             ) -> list[Change]:
    keys = [k for k in order if current[k] or previous[k]]
    keys += sorted(k for k in set(current) | set(previous) if k not in order and (current[k] or previous[k]))
    return [Change(labels.get(k, k), current[k], previous[k]) for k in keys]


def _links(posts: Sequence[PostRecord], limit: int = 5) -> list[PostLink]:
    return [PostLink(p.id, p.source, p.title or p.text[:30], p.url, p.snapshot) for p in posts[:limit]]


def top_incidents(records: Iterable[IncidentRecord], posts: Mapping[int, PostRecord], period: Period,
                  as_of: dt.datetime, n: int = TOP_N) -> list[TopIncident]:
    """The period's main incidents: opened or fed with posts in the period, highest grade first,
    then widest reach, then most posts. Merged-away incidents are left out (their posts moved)."""
    chosen = []
    for record in records:
        inc = record.incident
        if inc.merged_into is not None or inc.id is None or inc.opened_at >= as_of:
            continue
        if not (_in(inc.opened_at, period.start, period.end) or _in(inc.last_post_at, period.start, period.end)):
            continue
        reach = Reach.from_dict(inc.reach)
        chosen.append((inc.grade.rank, reach.total, inc.post_count, -inc.id, record, reach))
    chosen.sort(key=lambda t: t[:4], reverse=True)
    out = []
    for *_, record, reach in chosen[:n]:
        inc = record.incident
        assert inc.id is not None
        own = [posts[i] for i in record.post_ids if i in posts]
        # What residents said is the reports; the replies and feedback are listed apart.
        reports = [p for p in own if p.id not in record.roles]
        followups = [p for p in own if p.id in record.roles]
        out.append(TopIncident(
            id=inc.id, title=inc.title, unit=inc.unit or NO_UNIT, grade=inc.grade,
            state=state_at(record, as_of) or inc.state, topic=TOPIC_LABELS.get(inc.topic, inc.topic),
            opened_at=inc.opened_at, reach_total=reach.total, reposts=reach.reposts, comments=reach.comments,
            likes=reach.likes, authors=reach.author_count, posts=len(own) or inc.post_count,
            summary=summarise(reports, inc.keywords), links=_links(reports),
            public_reply_at=inc.public_reply_at,
            responses=[(record.roles[link.post_id], link) for link in _links(followups)],
            opinions=department_opinions(record, as_of)))
    return out


def trend(posts: Iterable[PostRecord], period: Period) -> list[TrendPoint]:
    """Per day (or hour): posts counted there (collected, or published for a backfill), relevant
    ones, and their polarity."""
    buckets = period.buckets()
    rows = [[0, 0, 0, 0, 0] for _ in buckets]
    for post in posts:
        for i, (_label, start, end) in enumerate(buckets):
            if start <= post.counts_at < end:
                rows[i][0] += 1
                if post.relevant:
                    rows[i][1] += 1
                    rows[i][2 + ("neg", "neu", "pos").index(post.polarity or "neu")] += 1
                break
    return [TrendPoint(b[0], b[1], *r) for b, r in zip(buckets, rows, strict=True)]


def attention(records: Iterable[IncidentRecord], as_of: dt.datetime) -> list[AttentionItem]:
    """Incidents open at ``as_of``: overdue first, then by grade and next deadline."""
    out = []
    for record in records:
        inc = record.incident
        if inc.id is None or inc.opened_at > as_of or inc.merged_into is not None:
            continue
        state = state_at(record, as_of)
        if state is None or state is State.CLOSED:
            continue
        pending = sorted((due, step) for step, due in inc.deadlines.items()
                         if step not in inc.milestones or inc.milestones[step] > as_of)
        due, step = pending[0] if pending else (None, None)
        label = STEP_LABELS.get(step, step) if step else None
        if state in (State.RETURNED, State.NEW):  # the duty desk's move, not the unit's
            label = "待值班室改派" if state is State.RETURNED else "待值班室交办"
        out.append(AttentionItem(inc.id, inc.title, inc.unit or NO_UNIT, inc.grade, state, label, due,
                                 bool(due is not None and due <= as_of)))
    out.sort(key=lambda a: (not a.overdue, -a.grade.rank, a.next_deadline or as_of + dt.timedelta(days=3650), a.id))
    return out


def compute(records: Records, period: Period, as_of: dt.datetime,
            policy: Mapping[str, Mapping[str, float]]) -> Briefing:
    """The briefing of ``period`` as of ``as_of`` (the period's end, or earlier for a period in
    progress). ``policy`` is the jurisdiction's deadline policy (to judge earlier assignments)."""
    as_of = min(as_of, period.end)
    previous = period.previous()
    now_posts = [p for p in records.posts if _in(p.counts_at, period.start, as_of)]
    before_posts = [p for p in records.posts if _in(p.counts_at, previous.start, previous.end)]
    now_inc = counted(records.incidents, period.start, as_of)
    before_inc = counted(records.incidents, previous.start, previous.end)

    def relevant(posts: Iterable[PostRecord]) -> list[PostRecord]:
        return [p for p in posts if p.relevant]

    totals = [
        Change("采集信息", len(now_posts), len(before_posts)),
        Change("涉生态环境信息", len(relevant(now_posts)), len(relevant(before_posts))),
        Change("其中负面", sum(p.polarity == "neg" for p in relevant(now_posts)),
               sum(p.polarity == "neg" for p in relevant(before_posts))),
        Change("新增舆情事件", len(now_inc), len(before_inc)),
    ]

    def by(items: Iterable[IncidentRecord], key: str) -> Counter[str]:
        return Counter(str(getattr(r.incident, key) or NO_UNIT) if key == "unit"
                       else str(getattr(r.incident, key).value if key == "grade" else getattr(r.incident, key))
                       for r in items)

    grade_order = [g.value for g in reversed(Grade)]
    by_grade = _changes(by(now_inc, "grade"), by(before_inc, "grade"), grade_order, {g.value: g.label for g in Grade})
    by_topic = _changes(by(now_inc, "topic"), by(before_inc, "topic"), list(TOPIC_LABELS), TOPIC_LABELS)
    by_unit = _changes(by(now_inc, "unit"), by(before_inc, "unit"), [*records.units, NO_UNIT], {})
    handling, overdue = handling_by_unit(records.incidents, period.start, period.end, as_of, policy, records.units)
    rel = relevant(now_posts)
    topic_counts = Counter(p.topic or "other" for p in rel)
    topic_mix = [(TOPIC_LABELS.get(t, t), c) for t, c in sorted(topic_counts.items(), key=lambda x: (-x[1], x[0]))]
    hot_units = Counter(p.unit for p in rel if p.unit).most_common(10)
    hot_places = Counter(p.place for p in rel if p.place).most_common(10)
    sources = coverage(records.runs, period.start, as_of, records.expected_hours)
    briefing = Briefing(
        kind=period.kind, period=period, previous=previous, as_of=as_of, jurisdiction=records.jurisdiction,
        totals=totals, by_grade=by_grade, by_topic=by_topic, by_unit=by_unit,
        top=top_incidents(records.incidents, records.posts_by_id, period, as_of), handling=handling,
        handling_total=total_row(handling), overdue=overdue, trend=trend(now_posts, period),
        topic_mix=topic_mix, hot_units=sorted(hot_units, key=lambda x: (-x[1], x[0])),
        hot_places=sorted(hot_places, key=lambda x: (-x[1], x[0])), coverage=sources,
        attention=attention(records.incidents, as_of),
        late_posts=sum(1 for p in now_posts if p.fetched_at >= period.end))
    briefing.notes = notes(briefing)
    return briefing


def notes(b: Briefing) -> list[str]:
    """Plain statements a reader must not miss: blind sources, an empty period, a partial period."""
    out = []
    if b.as_of < b.period.end:
        out.append(f"本期尚未结束，数据截至 {to_local(b.as_of):%Y-%m-%d %H:%M}（北京时间）。")
    blind = b.blind_sources
    if not b.coverage:
        out.append("本期没有任何采集来源的运行记录，无法判断是否漏采；以下数字不代表本期无舆情。")
    elif blind:
        parts = "；".join(f"{c.source} 失明 {c.blind_hours:g} 小时（{c.note}）" for c in blind)
        out.append(f"采集覆盖不完整：{parts}。失明期间的舆情未被采集，数字可能偏低，不代表无舆情。")
    if b.late_posts:
        out.append(f"本期有 {b.late_posts} 条信息在本期结束后才补录（导入），已按发布时间计入本期。")
    if b.totals[0].current == 0:
        out.append("本期未采集到任何信息。" + ("" if blind or not b.coverage else "各来源运行正常。"))
    elif b.totals[3].current == 0:
        out.append("本期无新增舆情事件。")
    return out
