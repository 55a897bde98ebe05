"""Response shapes of the API (separate from the stored models in ``core.models``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, Field

from core.models import Analysis, Incident, RawPost
from core.source_health import SourceHealth


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

    @classmethod
    def of(cls, incident: Incident) -> IncidentPublic:
        """Build from the stored model."""
        assert incident.id is not None
        return cls(id=incident.id, title=incident.title, unit=incident.unit, unit_code=incident.unit_code,
                   department=incident.department, topic=incident.topic, place=incident.place,
                   grade=incident.grade.value, grade_label=incident.grade.label,
                   grade_reasons=incident.grade_reasons, state=incident.state.value,
                   opened_at=incident.opened_at, updated_at=incident.updated_at, deadlines=incident.deadlines,
                   post_count=incident.post_count)


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

    @classmethod
    def of(cls, post: RawPost, analysis: Analysis | None) -> PostPublic:
        """Build from the stored post and analysis."""
        assert post.id is not None
        extra: dict[str, Any] = {}
        if analysis is not None:
            extra = dict(relevant=analysis.relevant, topics=analysis.topics, polarity=analysis.polarity.value,
                         sentiment=analysis.sentiment, evidence=[e.to_dict() for e in analysis.evidence],
                         signals=analysis.signals)
        return cls(id=post.id, source=post.source, url=post.url, title=post.title, text=post.text,
                   author=post.author, published_at=post.published_at, fetched_at=post.fetched_at,
                   engagement=post.engagement, **extra)


class AuditPublic(BaseModel):
    """One audit-log entry."""

    at: dt.datetime
    actor: str
    action: str
    from_state: str | None
    to_state: str | None
    detail: dict[str, Any]


class IncidentDetailPublic(IncidentPublic):
    """An incident with its posts and audit log."""

    posts: list[PostPublic]
    audit: list[AuditPublic]


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
