"""Response shapes of the API (separate from the stored models in ``core.models``)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field

from alerts.escalation import overdue_step_names
from core.duty import HandoverState, PageState, Person, Shift, Tier
from core.models import STEP_LABELS, Analysis, AuditEntry, Grade, Incident, PostRole, RawPost, State
from core.sharing import COPY_STATE_LABELS
from core.source_health import SourceHealth

if TYPE_CHECKING:
    from core.jurisdiction import Jurisdiction
    from dashboard_api.deps import Principal
    from storage.copies import Copy
    from storage.rows import User


class IncidentPublic(BaseModel):
    """An incident as listed."""

    id: int
    title: str
    unit: str | None = Field(description="responsible street/town (属地); null = duty-desk triage queue")
    unit_code: str | None
    department: str | None = Field(description="competent department (职能部门)")
    topic: str
    place: str | None
    grade: str = Field(description="blue|yellow|orange|red (一般/较大/重大/特别重大)")
    grade_label: str
    grade_reasons: list[str]
    state: str
    opened_at: dt.datetime
    updated_at: dt.datetime
    deadlines: dict[str, dt.datetime]
    post_count: int
    overdue: list[str] = Field(default=[], description="steps whose deadline passed undone (report, sign_off, "
                                                       "response, press, closure), earliest deadline first")
    public_reply_at: dt.datetime | None = Field(
        default=None, description="when the responsible side first answered in public (an official reply "
                                  "attached to the incident); null = no public answer yet")

    @classmethod
    def of(cls, incident: Incident, now: dt.datetime | None = None) -> IncidentPublic:
        """Build from the stored model (``overdue`` is computed at ``now`` when given)."""
        return cls.model_construct(**incident_fields(incident, now))


# An enum member's value and label, looked up (a member's ``.value`` is a descriptor call: three
# per incident were a third of building a listed incident's fields).
_GRADE_FIELDS = {g: (g.value, g.label) for g in Grade}
_STATE_VALUES = {s: s.value for s in State}


def incident_fields(incident: Incident, now: dt.datetime | None = None) -> dict[str, Any]:
    """An incident as :class:`IncidentPublic` has it, as a plain dict: what the incident list
    encodes straight to JSON (``dashboard_api.json_out``), with no model built per incident and
    validated again on the way out; ``IncidentPublic.of`` builds its model from the same dict."""
    assert incident.id is not None
    grade, grade_label = _GRADE_FIELDS[incident.grade]
    return {"id": incident.id, "title": incident.title, "unit": incident.unit, "unit_code": incident.unit_code,
            "department": incident.department, "topic": incident.topic, "place": incident.place,
            "grade": grade, "grade_label": grade_label,
            "grade_reasons": incident.grade_reasons, "state": _STATE_VALUES[incident.state],
            "opened_at": incident.opened_at, "updated_at": incident.updated_at, "deadlines": incident.deadlines,
            "post_count": incident.post_count, "overdue": overdue_step_names(incident, now) if now else [],
            "public_reply_at": incident.public_reply_at}


class PostPublic(BaseModel):
    """A post of an incident, with its analysis. ``title`` and ``text`` are untrusted crawled text."""

    id: int
    source: str
    url: str | None
    title: str
    text: str
    author: str | None
    published_at: dt.datetime | None
    fetched_at: dt.datetime | None
    engagement: dict[str, int]
    relevant: bool | None = None
    topics: list[str] = []
    polarity: str | None = None
    sentiment: float | None = None
    evidence: list[dict[str, Any]] = []
    signals: list[str] = []
    role: str = Field(default="report", description="report (反映) or a follow-up: official (官方回应), progress "
                                                     "(进展), praise / unresolved (群众反馈)")
    role_label: str = "反映"


def post_fields(post: RawPost, analysis: Analysis | None, role: PostRole = PostRole.REPORT) -> dict[str, Any]:
    """A post of an incident as :class:`PostPublic` has it, as a plain dict (see
    :func:`incident_fields`): the stored post, its analysis and its role in the incident."""
    assert post.id is not None
    out: dict[str, Any] = {"id": post.id, "source": post.source, "url": post.url, "title": post.title,
                           "text": post.text, "author": post.author, "published_at": post.published_at,
                           "fetched_at": post.fetched_at, "engagement": {k: int(v) for k, v in post.engagement.items()},
                           "relevant": None,
                           "topics": [], "polarity": None, "sentiment": None, "evidence": [], "signals": [],
                           "role": role.value, "role_label": role.label}
    if analysis is not None:
        out.update(relevant=analysis.relevant, topics=analysis.topics, polarity=analysis.polarity.value,
                   sentiment=analysis.sentiment, evidence=[e.to_dict() for e in analysis.evidence],
                   signals=analysis.signals)
    return out


class AuditPublic(BaseModel):
    """One audit-log entry."""

    at: dt.datetime
    actor: str
    action: str
    from_state: str | None
    to_state: str | None
    detail: dict[str, Any]


class TimelineItem(BaseModel):
    """One moment in an incident's life: a post, an action, a deadline."""

    at: dt.datetime
    kind: str = Field(description="post (a report) | response (a follow-up: official reply, progress, public "
                                  "feedback) | action | deadline")
    text: str = Field(description="plain text (may quote crawled titles: escape when shown)")


class CopyPublic(BaseModel):
    """A copy of an incident to a department (会办 / 抄送) and where it stands."""

    id: int
    incident_id: int
    department_code: str
    department: str
    state: str = Field(description="waiting | replied | withdrawn")
    state_label: str = Field(examples=["待会办"])
    copied_at: dt.datetime
    copied_by: str
    note: str | None = Field(description="what the duty desk asked of the department")
    replies: int = Field(description="how many 会办意见 it answered with (their text: the audit log)")
    replied_at: dt.datetime | None
    withdrawn_at: dt.datetime | None
    withdrawn_by: str | None
    incident: IncidentPublic | None = Field(default=None, description="the incident, in the inbox (GET /api/copies)")

    @classmethod
    def of(cls, copy: Copy, jurisdiction: Jurisdiction, incident: IncidentPublic | None = None) -> CopyPublic:
        """Build from the stored copy, naming its department from the pack."""
        department = jurisdiction.departments.get(copy.department_code)
        return cls(id=copy.id, incident_id=copy.incident_id, department_code=copy.department_code,
                   department=department.name if department else copy.department_code, state=copy.state,
                   state_label=COPY_STATE_LABELS[copy.state], copied_at=copy.copied_at, copied_by=copy.copied_by,
                   note=copy.note, replies=copy.replies, replied_at=copy.replied_at, withdrawn_at=copy.withdrawn_at,
                   withdrawn_by=copy.withdrawn_by, incident=incident)


class IncidentDetailPublic(IncidentPublic):
    """An incident with its posts (with evidence spans), timeline, audit log and copies to departments."""

    posts: list[PostPublic]
    audit: list[AuditPublic]
    timeline: list[TimelineItem] = []
    copies: list[CopyPublic] = Field(default=[], description="its copies to departments (会办), withdrawn ones "
                                                             "too; a department user: its own only")


def incident_detail_fields(incident: Incident, post_rows: list[tuple[RawPost, Analysis | None, PostRole]],
                           audit: list[AuditEntry], now: dt.datetime) -> dict[str, Any]:
    """An incident as :class:`IncidentDetailPublic` has it, as a plain dict (see
    :func:`incident_fields`): its posts, its audit log and a timeline of the posts, the actions
    and the deadlines, in time order."""
    posts = [post_fields(p, a, role) for p, a, role in post_rows]
    entries = [{"at": e.at, "actor": e.actor, "action": e.action, "from_state": e.from_state,
                "to_state": e.to_state, "detail": e.detail} for e in audit]
    timeline = [{"at": p["published_at"] or p["fetched_at"] or incident.opened_at,
                 "kind": "post" if p["role"] == "report" else "response",
                 "text": f"{p['role_label']} · {p['source']}：{p['title'] or p['text'][:40]}"} for p in posts]
    timeline += [{"at": e.at, "kind": "action", "text": f"{e.actor} {e.action}"
                  + (f" {e.from_state}→{e.to_state}" if e.from_state != e.to_state else "")} for e in audit]
    timeline += [{"at": due, "kind": "deadline", "text": f"{STEP_LABELS.get(step, step)}时限"}
                 for step, due in incident.deadlines.items()]
    timeline.sort(key=lambda t: t["at"])
    return {**incident_fields(incident, now), "posts": posts, "audit": entries, "timeline": timeline}


class SourceHealthPublic(BaseModel):
    """Health of one source, from its recent runs."""

    source: str
    last_run_at: dt.datetime | None
    last_success_at: dt.datetime | None
    last_error: str | None
    last_items: int
    runs: int
    blind: bool = Field(description="errors on the last run, or nothing seen for too long")
    group: str | None = Field(default=None, description="the configured source a keyword source belongs to")
    keyword: str | None = Field(default=None, description="search keyword, for keyword sources")
    blind_reason: str | None = Field(default=None, description="why the source is blind, in plain words")
    last_item_at: dt.datetime | None = None
    items_per_run: float = 0.0
    expected_every_hours: float = Field(default=24.0, description="at least one item expected per this many hours")

    @classmethod
    def of(cls, health: SourceHealth) -> SourceHealthPublic:
        """Build from the pure health reading."""
        return cls(source=health.source, last_run_at=health.last_run_at, last_success_at=health.last_success_at,
                   last_error=health.last_error, last_items=health.last_items, runs=health.runs,
                   blind=health.blind, group=health.group, keyword=health.keyword,
                   blind_reason=health.blind_reason, last_item_at=health.last_item_at,
                   items_per_run=health.items_per_run, expected_every_hours=health.expected_every_hours)


class HealthPublic(BaseModel):
    """Liveness and a few counts."""

    status: str
    posts: int
    database: str
    # Only when Elasticsearch serves search (left out of the answer otherwise):
    search_backend: Literal["elasticsearch"] | None = None
    es_lag_posts: int | None = Field(default=None, description="analysed posts not yet in the Elasticsearch copy")
    es_lag_seconds: float | None = Field(default=None, description="age of the oldest of them (0 when none)")


class UserPublic(BaseModel):
    """A console user (never the password hash)."""

    name: str
    role: str = Field(description="duty | unit | department | leader | admin")
    unit_code: str | None
    unit: str | None = None
    active: bool = True
    department_code: str | None = Field(default=None, description="a department user's department (会办)")
    department: str | None = None

    @classmethod
    def of(cls, user: User | Principal, jurisdiction: Jurisdiction, active: bool = True) -> UserPublic:
        """A stored user or a logged-in one, with its unit's and department's names."""
        unit = jurisdiction.unit(user.unit_code)
        department = jurisdiction.departments.get(user.department_code or "")
        return cls(name=user.name, role=user.role, unit_code=user.unit_code, unit=unit.name if unit else None,
                   active=active, department_code=user.department_code,
                   department=department.name if department else None)


class TokenPublic(BaseModel):
    """The answer to a successful login (OAuth2 password flow)."""

    access_token: str
    token_type: str = "bearer"
    expires_at: dt.datetime
    user: UserPublic

    model_config = {"json_schema_extra": {"examples": [{
        "access_token": "eyJhbGciOiJIUzI1NiIs...", "token_type": "bearer", "expires_at": "2026-03-02T10:00:00Z",
        "user": {"name": "shimahe", "role": "unit", "unit_code": "500105003000", "unit": "石马河街道",
                 "active": True}}]}}


class EventPublic(BaseModel):
    """One live-feed event."""

    id: int
    at: dt.datetime
    kind: str = Field(description="incident_new | grade_raised | overdue | incident_changed | notification")
    label: str
    incident_id: int | None
    unit_code: str | None
    payload: dict[str, Any]
    recipient: str | None = Field(default=None, description="the contact an in-app notification is for; "
                                                             "null on the console's lines")


class SearchHitPublic(BaseModel):
    """A matching post. ``title``/``snippet`` are untrusted crawled text: escape when shown;
    ``highlights`` are [start, end) character offsets into ``snippet`` (and ``title_highlights``
    into ``title``) of the query words."""

    post_id: int
    incident_id: int | None
    source: str
    url: str | None
    title: str
    title_highlights: list[tuple[int, int]]
    snippet: str
    highlights: list[tuple[int, int]]
    published_at: dt.datetime | None
    unit_code: str | None
    topic: str | None
    polarity: str | None


class SearchPublic(BaseModel):
    """A page of search results with facet counts over every match."""

    query: str
    tokens: list[str]
    total: int
    unindexed: int = Field(description="posts stored but not yet in the index (0 when up to date)")
    hits: list[SearchHitPublic]
    facets: dict[str, dict[str, int]] = Field(description="unit_code, topic, source, polarity, day → value → count")
    backend: Literal["elasticsearch", "sqlite"] = Field(description="which search backend served this answer")
    ranking: Literal["relevance", "relevance_of_newest", "newest"] = Field(
        description="how hits are ordered: relevance (every match ranked by score), relevance_of_newest (the newest "
                    "`ranked` matches by storage ranked by score and paged; older matches are in no page, but total "
                    "and facets count every match), newest (by time)")
    ranked: int = Field(description="how many matches the order ranked (the total, except for relevance_of_newest)")


class CountPublic(BaseModel):
    """A value and how many incidents have it."""

    key: str
    label: str
    count: int


class UnitStatsPublic(BaseModel):
    """One unit's incidents and timeliness."""

    unit_code: str | None
    unit: str
    total: int
    open: int
    overdue: int
    sign_off_on_time_rate: float | None = Field(description="share of due or met sign-off deadlines met in time")
    response_on_time_rate: float | None = Field(description="share of due or met response deadlines met in time")


class AccuracyPublic(BaseModel):
    """The analysis against the duty desk's corrections, for the posts of one unit or topic."""

    key: str | None
    label: str
    posts: int
    corrected: int = Field(description="posts where the desk said otherwise on relevance, unit, topic or polarity")
    accuracy: float | None = Field(description="share of posts the desk let stand; null without posts")


class StatsPublic(BaseModel):
    """Counts and trends of incidents opened in [since, until)."""

    since: dt.datetime
    until: dt.datetime
    total: int
    by_unit: list[UnitStatsPublic]
    by_topic: list[CountPublic]
    by_grade: list[CountPublic]
    by_state: list[CountPublic]
    by_day: list[CountPublic] = Field(description="days in Asia/Shanghai, oldest first")
    # Learning from the desk (alerts.desk_accuracy): corrections made in [since, until), and the
    # analysis' accuracy against them over the posts of the incidents above.
    corrections: list[CountPublic] = Field(default=[], description="corrections made in the period, by kind "
                                                                   "(wrong_unit, not_relevant, merged, split, ...)")
    corrected_incidents: int = 0
    accuracy: dict[str, float | None] = Field(default={}, description="relevant, unit_code, topic, polarity: share "
                                                                      "of posts the desk let stand")
    accuracy_by_unit: list[AccuracyPublic] = []
    accuracy_by_topic: list[AccuracyPublic] = []


class UnitPublic(BaseModel):
    """A street or town of the jurisdiction."""

    code: str
    name: str


class DepartmentPublic(BaseModel):
    """A competent department."""

    code: str
    name: str


class JurisdictionPublic(BaseModel):
    """The jurisdiction the service watches."""

    code: str
    name: str
    units: list[UnitPublic]
    departments: list[DepartmentPublic]


class ErrorPublic(BaseModel):
    """Every error: a human-readable ``detail`` (a list of field problems for invalid input)."""

    detail: Any


# --- the duty rota (值班排班), pages and hand-overs (dashboard_api.routes.rota) -----------------------

class PersonPublic(BaseModel):
    """Someone on the rota."""

    name: str
    phone: str | None


class ShiftPublic(BaseModel):
    """One shift of the rota; times are aware (shown in Asia/Shanghai)."""

    id: int
    date: dt.date = Field(description="the day the shift starts (a night shift belongs to its evening)")
    shift: str = Field(description="day | night | full (白班/夜班/全天)")
    shift_label: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    primary: PersonPublic | None = Field(description="值班员; null = nobody on the rota")
    backup: PersonPublic | None = Field(description="备班")
    leader: PersonPublic | None = Field(description="带班领导")
    note: str

    @classmethod
    def of(cls, shift: Shift) -> ShiftPublic:
        """Build from the stored shift."""
        assert shift.id is not None

        def who(person: Person | None) -> PersonPublic | None:
            return PersonPublic(name=person.name, phone=person.phone) if person else None

        return cls(id=shift.id, date=shift.duty_date, shift=shift.kind.value, shift_label=shift.kind.label,
                   starts_at=shift.starts_at, ends_at=shift.ends_at, primary=who(shift.primary),
                   backup=who(shift.backup), leader=who(shift.leader), note=shift.note)


class GapPublic(BaseModel):
    """A stretch with nobody on the rota."""

    starts_at: dt.datetime
    ends_at: dt.datetime


class PagePublic(BaseModel):
    """A page (呼叫) of an incident and where it stands."""

    id: int
    incident_id: int
    title: str | None = Field(description="the incident's title (crawled text: escape when shown)")
    grade: str
    grade_label: str
    state: str = Field(description="paging | acknowledged (呼叫中/已确认)")
    state_label: str
    tier: str | None = Field(description="primary | backup | leader paged last; null = nobody on the rota, "
                                         "the pack's leaders were told")
    tier_label: str | None
    person: str | None
    opened_at: dt.datetime
    paged_at: dt.datetime
    acked_at: dt.datetime | None
    acked_by: str | None

    @classmethod
    def of(cls, page: dict[str, Any], title: str | None) -> PagePublic:
        """Build from a stored page row."""
        tier = Tier(page["tier"]) if page["tier"] else None
        state = PageState(page["state"])
        return cls(id=page["id"], incident_id=page["incident_id"], title=title, grade=page["grade"],
                   grade_label=Grade(page["grade"]).label, state=state.value, state_label=state.label,
                   tier=tier.value if tier else None, tier_label=tier.label if tier else None, person=page["person"],
                   opened_at=page["opened_at"], paged_at=page["paged_at"], acked_at=page["acked_at"],
                   acked_by=page["acked_by"])


class HandoverPublic(BaseModel):
    """A hand-over (交接班) note."""

    id: int
    state: str = Field(description="pending | accepted (待接班/已接班)")
    state_label: str
    from_name: str | None
    to_name: str | None
    created_at: dt.datetime
    content: dict[str, Any] = Field(description="report (daily report key and URL), open_items, open_count, "
                                                "opened_in_shift, unacked_pages, gaps")
    remarks: str
    accepted_at: dt.datetime | None
    accepted_by: str | None
    late_paged_at: dt.datetime | None = Field(description="when the backup was paged because nobody took it")

    @classmethod
    def of(cls, row: dict[str, Any]) -> HandoverPublic:
        """Build from a stored hand-over row."""
        state = HandoverState(row["state"])
        return cls(id=row["id"], state=state.value, state_label=state.label, from_name=row["from_name"],
                   to_name=row["to_name"], created_at=row["created_at"], content=row["content"],
                   remarks=row["remarks"], accepted_at=row["accepted_at"], accepted_by=row["accepted_by"],
                   late_paged_at=row["late_paged_at"])


class DutyNowPublic(BaseModel):
    """Who is on duty now, what waits for them, and where the rota ahead is empty."""

    at: dt.datetime
    on_duty: ShiftPublic | None = Field(description="the shift running now; null = nobody (pages go to the leaders)")
    next: ShiftPublic | None
    gaps: list[GapPublic] = Field(description="stretches of the coming days with nobody on the rota")
    pages: list[PagePublic] = Field(description="pages nobody has acknowledged yet, oldest first")
    handover: HandoverPublic | None = Field(description="the hand-over into the shift on duty, if written")
