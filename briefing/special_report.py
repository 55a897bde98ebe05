"""The special report (舆情专报) of one incident: 基本情况, 舆情态势, 网民关注点, 处置情况, 下一步建议.

Every figure is computed here from the stored records handed in (pure: no store, no clock): the
incident, its posts and roles, its audit log and assignments, and the earlier versions with their
sendings. Quotes are the posts' own sentences (:func:`briefing.summary.summarise`), with the post's
address. 下一步建议 is left blank for the officer: ecowatch never writes advice.

The layout is a list of :class:`briefing.layout.Block`, so the briefing's renderers
(``render_blocks_docx``, ``render_blocks_html``, which escape crawled text) draw it unchanged.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from alerts.grading import Reach
from alerts.workflow import ACTION_LABELS
from briefing.figures import NO_UNIT, PostLink
from briefing.handling import DepartmentOpinion, department_opinions
from briefing.layout import Block, link_block, local_minute, opinions_block
from briefing.records import IncidentRecord, PostRecord
from briefing.summary import summarise
from core.errors import EcowatchError
from core.models import POLARITY_LABELS, TOPIC_LABELS, PostRole
from core.sharing import SEND_CHANNEL_LABELS, SPECIAL_REPORT_MIN_GRADE, UPPER_LABELS, ReportKind
from core.timeutil import to_local

TREND_DAYS = 14  # the trend table and chart show at most the last two weeks of the matter
MAX_QUOTES = 6
BLANK_LINES = 6
# The audit actions that tell how the matter was handled, in the words of 处置情况.
HANDLING_ACTIONS = ("assign", "reassign", "sign", "respond", "resolve", "return", "reject", "close", "extend",
                    "override_grade", "record_step", "set_complex", "reopen", "copy", "withdraw_copy")
_DETAIL_TEXT = ("response", "feedback", "reason", "note", "text")


class SpecialReportError(EcowatchError):
    """The incident cannot have a special report (grade below 较大, merged away, unknown)."""


@dataclass(slots=True, frozen=True)
class QuoteLink:
    """A sentence of a resident's post, verbatim, with where to read it."""

    text: str
    post_id: int
    source: str
    url: str | None


@dataclass(slots=True, frozen=True)
class HandlingLine:
    """One step of the handling, from the audit log."""

    at: dt.datetime
    actor: str
    action: str  # Chinese label
    text: str


@dataclass(slots=True, frozen=True)
class EarlierVersion:
    """A version reported before this one, and when it went to whom."""

    kind: str
    seq: int
    created_at: dt.datetime
    sent: list[tuple[str, str, dt.datetime]]  # (recipient label, channel label, sent at)


@dataclass(slots=True)
class SpecialReport:
    """The figures of one version of an incident's special report."""

    incident_id: int
    kind: ReportKind
    seq: int
    jurisdiction: str
    as_of: dt.datetime
    title: str
    unit: str
    department: str | None
    place: str | None
    topic: str
    grade: str
    state: str
    opened_at: dt.datetime
    first_published_at: dt.datetime | None
    grade_reasons: list[str]
    posts: int  # residents' reports (follow-ups apart)
    followups: int
    authors: int
    reposts: int
    comments: int
    likes: int
    negative: int
    polarity: dict[str, int]
    trend: list[tuple[str, int, int]]  # (day, posts, negative)
    sources: list[tuple[str, int]]
    quotes: list[QuoteLink]
    assignments: list[tuple[str, dt.datetime, str]]  # (unit, at, by)
    handling: list[HandlingLine]
    opinions: list[DepartmentOpinion]  # the departments' 会办意见, verbatim
    public_reply_at: dt.datetime | None
    public_replies: list[tuple[PostRole, PostLink]]
    earlier: list[EarlierVersion] = field(default_factory=list)

    @property
    def reach_total(self) -> int:
        """Reposts + comments + likes."""
        return self.reposts + self.comments + self.likes

    @property
    def document_title(self) -> str:
        """E.g. 重庆市江北区生态环境舆情专报（首报）."""
        return f"{self.jurisdiction}生态环境舆情专报（{self.kind.label}）"

    def figures(self) -> dict[str, Any]:
        """The printed figures, JSON-ready (kept with the version: what was told, exactly)."""
        data = asdict(self)
        keep = ("posts", "followups", "authors", "reposts", "comments", "likes", "negative", "polarity", "trend",
                "sources", "grade", "state", "unit")
        out: dict[str, Any] = {k: data[k] for k in keep}
        out["reach_total"] = self.reach_total
        out["quotes"] = [q.post_id for q in self.quotes]
        out["public_reply_at"] = self.public_reply_at.isoformat() if self.public_reply_at else None
        return out


def _day(post: PostRecord) -> str:
    return f"{to_local(post.published_at or post.fetched_at):%m-%d}"


def _detail(detail: dict[str, Any]) -> str:
    parts = [str(detail[k]) for k in _DETAIL_TEXT if detail.get(k)]
    if detail.get("unit") and not parts:
        parts.append(f"至{detail['unit']}")
    if detail.get("department_code"):  # 抄送/撤回: which department
        parts.insert(0, str(detail.get("department") or detail["department_code"]))
    if detail.get("to_grade"):
        parts.append(f"调整为{detail['to_grade']}")
    if detail.get("step"):
        parts.append(str(detail["step"]))
    return "；".join(parts)


def check_reportable(record: IncidentRecord) -> None:
    """SpecialReportError unless the incident is 较大 or above and not merged into another."""
    inc = record.incident
    if inc.merged_into is not None:
        raise SpecialReportError(f"事件 #{inc.id} 已并入事件 #{inc.merged_into}，请为该事件撰写专报")
    if inc.grade.rank < SPECIAL_REPORT_MIN_GRADE.rank:
        raise SpecialReportError(f"事件 #{inc.id} 为{inc.grade.label}事件，"
                                 f"{SPECIAL_REPORT_MIN_GRADE.label}及以上才编写专报")


def compute(record: IncidentRecord, posts: Iterable[PostRecord], kind: ReportKind, seq: int, as_of: dt.datetime,
            jurisdiction: str, earlier: Sequence[EarlierVersion] = ()) -> SpecialReport:
    """The figures of version ``seq`` (of ``kind``) of the incident's special report as of ``as_of``."""
    check_reportable(record)
    inc = record.incident
    assert inc.id is not None
    own = sorted((p for p in posts if p.id in set(record.post_ids)), key=lambda p: p.id)
    reports = [p for p in own if p.id not in record.roles]
    followups = [p for p in own if p.id in record.roles]
    reach = Reach.from_dict(inc.reach)
    days = sorted({_day(p) for p in reports}, key=lambda d: min(p.published_at or p.fetched_at
                                                                for p in reports if _day(p) == d))
    trend = [(d, sum(_day(p) == d for p in reports), sum(_day(p) == d and p.polarity == "neg" for p in reports))
             for d in days[-TREND_DAYS:]]
    by_id = {p.id: p for p in own}
    quotes = [QuoteLink(q.text, q.post_id, by_id[q.post_id].source, by_id[q.post_id].url)
              for q in summarise(reports, inc.keywords, max_quotes=MAX_QUOTES, max_chars=160)]
    handling = [HandlingLine(e.at, e.actor, ACTION_LABELS.get(e.action, e.action), _detail(e.detail))
                for e in record.audit if e.action in HANDLING_ACTIONS and e.at <= as_of]
    published = [p.published_at for p in reports if p.published_at is not None]
    return SpecialReport(
        incident_id=inc.id, kind=kind, seq=seq, jurisdiction=jurisdiction, as_of=as_of, title=inc.title,
        unit=inc.unit or NO_UNIT, department=inc.department, place=inc.place,
        topic=TOPIC_LABELS.get(inc.topic, inc.topic), grade=inc.grade.label, state=inc.state.label,
        opened_at=inc.opened_at, first_published_at=min(published) if published else None,
        grade_reasons=list(inc.grade_reasons), posts=len(reports), followups=len(followups),
        authors=reach.author_count, reposts=reach.reposts, comments=reach.comments, likes=reach.likes,
        negative=sum(p.polarity == "neg" for p in reports),
        polarity=dict(Counter(p.polarity or "neu" for p in reports)),
        trend=trend, sources=sorted(Counter(p.source for p in reports).items(), key=lambda x: (-x[1], x[0])),
        quotes=quotes, assignments=[(a.unit or NO_UNIT, a.at, a.by) for a in record.assignments if a.at <= as_of],
        handling=handling, opinions=department_opinions(record, as_of), public_reply_at=inc.public_reply_at,
        public_replies=[(record.roles[p.id], PostLink(p.id, p.source, p.title or p.text[:30], p.url, p.snapshot))
                        for p in followups],
        earlier=list(earlier))


def blocks(r: SpecialReport) -> list[Block]:
    """The special report in reading order (the briefing renderers draw these)."""
    out = [Block("title", r.document_title),
           Block("subtitle", f"事件 #{r.incident_id}　第 {r.seq} 期（{r.kind.label}）　"
                             f"数据截至：{to_local(r.as_of):%Y-%m-%d %H:%M}（北京时间）")]
    out.append(Block("h1", "一、基本情况"))
    where = f"{r.unit}" + (f"（{r.place}）" if r.place else "")
    first = f"，最早一条发布于 {local_minute(r.first_published_at)}" if r.first_published_at else ""
    out.append(Block("p", f"{local_minute(r.opened_at)}，系统监测到{where}{r.topic}舆情：{r.title}{first}。"
                          f"事件等级：{r.grade}；责任单位：{r.unit}" + (f"（{r.department}）" if r.department else "")
                          + f"；当前状态：{r.state}。"))
    out.append(Block("table", "基本情况", ["项目", "内容"],
                     [["事件", f"#{r.incident_id} {r.title}"], ["属地", where], ["类别", r.topic], ["等级", r.grade],
                      ["定级依据", "；".join(r.grade_reasons) or "—"], ["状态", r.state],
                      ["发现时间", local_minute(r.opened_at)]]))

    out.append(Block("h1", "二、舆情态势"))
    out.append(Block("p", f"截至目前，共监测到相关帖文 {r.posts} 条（另有后续回应及反馈 {r.followups} 条），"
                          f"涉及作者 {r.authors} 位，传播量 {r.reach_total}（转发 {r.reposts}、评论 {r.comments}、"
                          f"点赞 {r.likes}），其中负面帖文 {r.negative} 条。"))
    out.append(Block("table", "传播数据", ["指标", "数值"],
                     [["相关帖文", str(r.posts)], ["后续回应及反馈", str(r.followups)], ["作者", str(r.authors)],
                      ["转发", str(r.reposts)], ["评论", str(r.comments)], ["点赞", str(r.likes)],
                      ["传播量合计", str(r.reach_total)], ["负面帖文", str(r.negative)]]
                     + [[f"情感：{POLARITY_LABELS.get(k, k)}", str(v)] for k, v in sorted(r.polarity.items())]))
    if r.trend:
        out.append(Block("table", "分日走势", ["日期", "帖文", "负面"],
                         [[d, str(n), str(neg)] for d, n, neg in r.trend]))
        out.append(Block("chart", "分日走势", chart="trend"))
    if r.sources:
        out.append(Block("table", "信息来源", ["来源", "帖文"], [[s, str(n)] for s, n in r.sources]))

    out.append(Block("h1", "三、网民关注点"))
    if not r.quotes:
        out.append(Block("p", "暂无可摘录的网民原文。"))
    for q in r.quotes:
        out.append(Block("quote", q.text, ref=f"帖 #{q.post_id}"))
        out.append(Block("link", f"{q.source}", url=q.url, ref=f"帖 #{q.post_id}"))

    out.append(Block("h1", "四、处置情况"))
    if r.assignments:
        out.append(Block("table", "交办情况", ["责任单位", "交办时间", "交办人"],
                         [[u, local_minute(at), by] for u, at, by in r.assignments]))
    else:
        out.append(Block("p", "尚未交办责任单位。"))
    if r.handling:
        out.append(Block("table", "办理过程", ["时间", "操作", "办理人", "内容"],
                         [[local_minute(h.at), h.action, h.actor, h.text or "—"] for h in r.handling]))
    if r.opinions:
        out.append(Block("p", f"相关部门会办：共收到 {len({o.department for o in r.opinions})} 个部门的会办意见 "
                              f"{len(r.opinions)} 条（原文如下）。"))
        out.append(opinions_block(r.opinions))
    out.append(Block("p", f"属地公开回应：{local_minute(r.public_reply_at)} 首次公开回应。" if r.public_reply_at
                     else "属地公开回应：截至目前，未见责任单位公开回应。"))
    for role, link in r.public_replies:
        out.append(link_block(link, f"{role.label}｜"))
    if r.earlier:
        out.append(Block("table", "此前报送", ["期次", "类别", "生成时间", "报送"],
                         [[str(e.seq), ReportKind(e.kind).label, local_minute(e.created_at),
                           "；".join(f"{who}（{how}）{local_minute(at)}" for who, how, at in e.sent) or "未报送"]
                          for e in r.earlier]))

    out.append(Block("h1", "五、下一步建议"))
    out.append(Block("p", "（由值班人员填写）"))
    out.append(Block("blank", lines=BLANK_LINES))
    out.append(Block("p", "说明：本专报所有数字由系统根据已存储的帖文、事件及操作日志统计；网民关注点均为原帖原文摘录，"
                          "可按帖文编号在系统中核对原文及快照。"))
    return out


def sent_label(recipient: str, channel: str) -> tuple[str, str]:
    """The recipient's and the channel's names as the documents print them."""
    return UPPER_LABELS.get(recipient, recipient), SEND_CHANNEL_LABELS.get(channel, channel)


def render(r: SpecialReport, fmt: str) -> bytes:
    """The report as DOCX or HTML bytes (the trend chart drawn here)."""
    from briefing.charts import counts_chart
    from briefing.render_docx import render_blocks_docx
    from briefing.render_html import render_blocks_html

    charts: dict[str, bytes] = {}
    if r.trend:
        charts["trend"] = counts_chart("相关帖文分日走势（条）", [d for d, _, _ in r.trend],
                                       [("帖文", [n for _, n, _ in r.trend], "#2f6da3"),
                                        ("负面", [neg for _, _, neg in r.trend], "#c0392b")])
    if fmt == "docx":
        return render_blocks_docx(r.document_title, blocks(r), charts)
    if fmt == "html":
        return render_blocks_html(r.document_title, blocks(r), charts).encode("utf-8")
    raise SpecialReportError(f"unknown format {fmt!r}; one of docx, html")
