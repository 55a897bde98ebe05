"""The records that flow between stages: raw posts, analyses, incidents, audit entries.

Plain dataclasses: the stored shape. API response shapes live in ``dashboard_api.schemas``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit, urlunsplit


class Topic(StrEnum):
    """What a post or incident is about; ``label`` is the name the bureau's reports use."""

    WATER = "water"
    AIR = "air"
    NOISE = "noise"
    WASTE = "waste"
    SOIL = "soil"
    ECOLOGY = "ecology"
    OTHER = "other"

    @property
    def label(self) -> str:
        """The Chinese name (the weekly briefing's: 水环境, 大气环境, 固体废物, …)."""
        return TOPIC_LABELS[self.value]


# The labels, by code (plain strings: what stored rows and JSON hold). The only copy: the API
# serves them to the console (GET /api/vocabulary), the briefing and messages read them here.
TOPIC_LABELS: dict[str, str] = {"water": "水环境", "air": "大气环境", "noise": "噪声", "waste": "固体废物",
                                "soil": "土壤", "ecology": "生态", "other": "其他"}
TOPICS = tuple(t.value for t in Topic)


class Step(StrEnum):
    """A step of handling an incident, each with its own deadline (``Incident.deadlines``)."""

    REPORT = "report"  # 报告局领导 (red incidents)
    SIGN_OFF = "sign_off"  # 签收
    RESPONSE = "response"  # 回应
    PRESS = "press"  # 新闻发布会
    CLOSURE = "closure"  # 办结
    # Reporting up and handing back (core.sharing): done when the report or feedback is sent.
    FIRST_REPORT = "first_report"  # 首报: the first special report to the city bureau / 网信办
    FOLLOWUP_REPORT = "followup_report"  # 续报: due again after each one sent, until closed
    HANDBACK = "handback"  # 反馈: an item handed down (上级交办) answered by the upper level's deadline

    @property
    def label(self) -> str:
        """The Chinese name, as the escalation messages and the briefing say it."""
        return STEP_LABELS[self.value]


STEP_LABELS: dict[str, str] = {"report": "报告局领导", "sign_off": "签收", "response": "回应", "press": "新闻发布会",
                               "closure": "办结", "first_report": "报送首报", "followup_report": "报送续报",
                               "handback": "反馈上级交办"}


class Polarity(StrEnum):
    """Sentiment class of a post."""

    NEG = "neg"
    NEU = "neu"
    POS = "pos"


# The only copy: the exports and the special report read it here, the console from GET /api/vocabulary.
POLARITY_LABELS: dict[str, str] = {"neg": "负面", "neu": "中性", "pos": "正面"}
POLARITIES = tuple(p.value for p in Polarity)


class Grade(StrEnum):
    """Incident grade, lowest first: 一般/较大/重大/特别重大."""

    BLUE = "blue"
    YELLOW = "yellow"
    ORANGE = "orange"
    RED = "red"

    @property
    def label(self) -> str:
        """The Chinese name used in reports."""
        return _GRADE_LABELS[self]

    @property
    def rank(self) -> int:
        """0 for blue … 3 for red, for comparisons. Looked up, not searched for: the detection pass
        compares grades tens of thousands of times a pass (bench/pipeline.py)."""
        return _GRADE_RANKS[self]


_GRADE_LABELS: dict[str, str] = {"blue": "一般", "yellow": "较大", "orange": "重大", "red": "特别重大"}
_GRADE_RANKS: dict[str, int] = {grade: i for i, grade in enumerate(Grade)}  # a member is its value as a key


class State(StrEnum):
    """Workflow states of an incident (see alerts.workflow for the transitions)."""

    NEW = "new"  # in the duty desk's triage queue
    ASSIGNED = "assigned"  # 交办
    SIGNED = "signed"  # 签收
    RESPONDED = "responded"  # 回应
    RESOLVED = "resolved"  # 办结
    CLOSED = "closed"  # reviewed by the bureau
    RETURNED = "returned"  # 退单, waiting for the duty desk

    @property
    def label(self) -> str:
        """The Chinese name. ``closed`` is 已审核办结: the bureau's review (审核办结) closes an
        incident (a merged one, 并单, is closed too and says so in its audit log)."""
        return STATE_LABELS[self.value]


STATE_LABELS: dict[str, str] = {"new": "待分拣", "assigned": "已交办", "signed": "已签收", "responded": "已回应",
                                "resolved": "已办结", "closed": "已审核办结", "returned": "已退单"}


class Correction(StrEnum):
    """How the duty desk corrected what the machine concluded (从值班台学习): each correction of a
    post becomes a label (storage.labels) that the statistics, the briefing and retraining read."""

    WRONG_UNIT = "wrong_unit"  # 改派, or 退单「不属于本街道」then 交办 elsewhere
    NOT_RELEVANT = "not_relevant"  # 误报/不相关: not about the environment, or not ours
    MERGED = "merged"  # 并单: the same matter as another incident
    SPLIT = "split"  # 拆分: posts about another matter taken out of an incident
    MOVED = "moved"  # 移帖: a post put into the incident it belongs to
    REGRADED = "regraded"  # 调整等级
    EDITED = "edited"  # 修正: a post's unit, topic or polarity set by hand

    @property
    def label(self) -> str:
        """The Chinese name, as the statistics page and the briefing say it."""
        return CORRECTION_LABELS[self.value]


CORRECTION_LABELS: dict[str, str] = {"wrong_unit": "属地错误", "not_relevant": "误报/不相关", "merged": "并单",
                                     "split": "拆分", "moved": "移帖", "regraded": "调整等级", "edited": "修正分析"}
# Why a post or an incident is not ours to handle (误报): not about the environment, or elsewhere.
DISMISS_SCOPES: dict[str, str] = {"environment": "与生态环境无关", "jurisdiction": "不在本辖区"}


class PostRole(StrEnum):
    """What a post is to the incident it belongs to.

    A report tells of the matter (a complaint, a news report, a repost); the others are its
    public-response timeline: what the responsible side said, what changed, what residents said
    after. Only a report may open an incident.
    """

    REPORT = "report"
    OFFICIAL = "official"  # 官方回应: a unit's or bureau's 通报/回复
    PROGRESS = "progress"  # 进展: inspectors came, work started
    PRAISE = "praise"  # 群众反馈: fixed, thanks
    UNRESOLVED = "unresolved"  # 群众反馈: still not fixed after a reply or a resolution

    @property
    def label(self) -> str:
        """The Chinese name shown on the incident page and in briefings."""
        return {"report": "反映", "official": "官方回应", "progress": "进展", "praise": "群众反馈·好评",
                "unresolved": "群众反馈·仍未解决"}[self.value]

    @property
    def is_followup(self) -> bool:
        """True for the public-response timeline (everything but a report)."""
        return self is not PostRole.REPORT


_WS = re.compile(r"\s+")


def normalise_url(url: str) -> str:
    """Canonical form of a URL for de-duplication: lower-case host, no trailing slash, and no fragment
    unless it holds a number. A page's anchors (``#top``, ``#comments``) name the same post; a numbered
    one (``#comment-556829``, ``#pid123``) is the permalink of one comment or floor of a thread, and
    dropping it would make every comment a copy of its thread, lost on import."""
    parts = urlsplit(url.strip())
    path = parts.path.rstrip("/") or "/"
    fragment = parts.fragment if any(c.isdigit() for c in parts.fragment) else ""
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, parts.query, fragment))


def url_fingerprint(url: str) -> str:
    """A post's identity when it has a URL (``RawPost.fingerprint``): what a thread's ``reply_to``
    is looked up by."""
    return "url:" + normalise_url(url)


def content_fingerprint(title: str, text: str) -> str:
    """SHA-1 of the whitespace-folded title and text: the same post from two URLs is one post."""
    folded = _WS.sub(" ", f"{title}\n{text}").strip()
    return hashlib.sha1(folded.encode("utf-8")).hexdigest()


@dataclass(slots=True)
class RawPost:
    """A post as collected, before analysis."""

    source: str
    text: str
    title: str = ""
    url: str | None = None
    author: str | None = None
    published_at: dt.datetime | None = None
    fetched_at: dt.datetime | None = None
    engagement: dict[str, int] = field(default_factory=dict)  # reposts, comments, likes, followers
    raw: str | None = None  # original HTML/XML of the item, kept as a snapshot
    id: int | None = None
    # The post this one answers, comments on or reposts (its URL), when the collector knows the
    # thread: a comment that names nothing ("娃娃才好小啊") belongs where its thread belongs.
    reply_to: str | None = None

    @property
    def fingerprint(self) -> str:
        """Identity for de-duplication: the normalised URL when there is one, else the content."""
        if self.url:
            return url_fingerprint(self.url)
        return "sha1:" + content_fingerprint(self.title, self.text)

    @property
    def full_text(self) -> str:
        """Title and body as one string, the input of analysis."""
        if self.title and not self.text.startswith(self.title):
            return f"{self.title}\n{self.text}"
        return self.text


@dataclass(slots=True, frozen=True)
class Evidence:
    """A span of the post's text that supports a conclusion (a place, a topic word, a signal)."""

    kind: str  # "place", "topic", "signal", "foreign"
    text: str
    start: int
    end: int
    detail: str = ""  # e.g. the unit the place maps to

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"kind": self.kind, "text": self.text, "start": self.start, "end": self.end,
                "detail": self.detail}


@dataclass(slots=True)
class Analysis:
    """What nlp concluded about one post."""

    relevant: bool
    unit: str | None
    unit_code: str | None
    confidence: float
    topics: list[str]
    polarity: Polarity
    sentiment: float  # probability of positive, 0..1
    evidence: list[Evidence] = field(default_factory=list)
    signals: list[str] = field(default_factory=list)  # sensitive signals: casualty, leak, petition...
    place: str | None = None  # the most specific place named (community, landmark)
    # The text points outside the jurisdiction (another district, another 江北). A text that names
    # no place at all is neither inside nor elsewhere: a comment or a reply under a thread may
    # still follow up one of our incidents (alerts.rules), though it never opens one.
    elsewhere: bool = False
    # Which trained models made it (nlp.classifiers.Classifiers.version; "rules" without models),
    # so an analysis, its audit entry and a label can say which models were right or wrong.
    model: str | None = None

    @property
    def topic(self) -> str:
        """The main topic (first of ``topics``), "other" when none."""
        return self.topics[0] if self.topics else "other"

    def to_contract(self, post_id: Any) -> dict[str, Any]:
        """The ``ecowatch analyze`` output line (a stable contract: extend, never rename)."""
        return {
            "id": post_id,
            "relevant": self.relevant,
            "unit": self.unit,
            "unit_code": self.unit_code,
            "topics": self.topics,
            "polarity": self.polarity.value,
            "sentiment": round(self.sentiment, 4),
            "evidence": [e.to_dict() for e in self.evidence],
            "confidence": round(self.confidence, 3),
            "place": self.place,
            "signals": self.signals,
            "model": self.model,
        }


@dataclass(slots=True)
class Incident:
    """A group of posts about one matter, with an owner and a clock."""

    title: str
    unit: str | None
    unit_code: str | None
    topic: str
    grade: Grade
    state: State
    opened_at: dt.datetime
    updated_at: dt.datetime
    department: str | None = None
    place: str | None = None
    deadlines: dict[str, dt.datetime] = field(default_factory=dict)  # sign_off, response, closure
    grade_reasons: list[str] = field(default_factory=list)
    post_count: int = 0
    id: int | None = None
    # Aggregated reach of every merged post (并单 keeps it): reposts, comments, likes, followers,
    # authors (distinct count), neg_sum/n (negativity), tiers seen, signals seen.
    reach: dict[str, Any] = field(default_factory=dict)
    keywords: list[str] = field(default_factory=list)  # tokens for the similarity check
    milestones: dict[str, dt.datetime] = field(default_factory=dict)  # step → when it was done
    returns: int = 0  # how many times a unit returned it (退单)
    complex: bool = False  # complex case: longer closure deadline
    grade_override: dict[str, Any] | None = None  # {"grade", "reason", "by", "at"} set by an officer
    merged_into: int | None = None  # set when merged into another incident
    parent_id: int | None = None  # the closed incident this one follows up
    last_post_at: dt.datetime | None = None
    reopened: int = 0
    public_reply_at: dt.datetime | None = None  # first official follow-up attached (官方回应)


@dataclass(slots=True)
class AuditEntry:
    """One recorded action: who, when, what, from which state to which."""

    incident_id: int
    at: dt.datetime
    actor: str
    action: str
    from_state: str | None
    to_state: str | None
    detail: dict[str, Any] = field(default_factory=dict)
    id: int | None = None


@dataclass(slots=True)
class Label:
    """What the duty desk asserted about one post by one correction (storage.labels): ``fields``
    by their ``ecowatch eval`` names (relevant, unit, unit_code, topic, topics, polarity, event,
    grade); ``kind`` a :class:`Correction`; ``audit_id`` the correction's audit entry."""

    post_id: int
    incident_id: int | None
    kind: str
    fields: dict[str, Any]
    actor: str
    at: dt.datetime
    audit_id: int | None = None
    id: int | None = None
