"""The briefing laid out as a list of blocks (headings, paragraphs, tables, charts, quotes, links).

Both renderers (DOCX and HTML) walk the same blocks, so the two formats say the same thing and
the tests read the tables back against the figures once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from briefing.figures import Briefing, Change, PostLink
from briefing.handling import DepartmentOpinion, UnitHandling
from core.models import STEP_LABELS
from core.timeutil import to_local


@dataclass(slots=True)
class Block:
    """One element of the document."""

    kind: str  # title | subtitle | h1 | h2 | p | note | table | chart | quote | link | blank
    text: str = ""
    header: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    chart: str | None = None  # name of a chart in briefing.charts.charts()
    url: str | None = None  # for links: the original address (rendered only if http/https)
    ref: str | None = None  # for quotes and links: the stored post, e.g. "帖 #12"
    lines: int = 0  # for blank: how many empty lines to leave


def _rate(due: int, on_time: int) -> str:
    return f"{on_time}/{due}" if due else "—"


def pct(value: float | None) -> str:
    """A rate as 87.5%, or — when there was nothing to judge."""
    return "—" if value is None else f"{value:.1%}"


def local_minute(at: dt.datetime | None) -> str:
    """A stored time as the documents print it: 12-03 09:30 (Asia/Shanghai), or —."""
    return f"{to_local(at):%m-%d %H:%M}" if at is not None else "—"


def _change_rows(items: list[Change]) -> list[list[str]]:
    return [[c.label, str(c.current), str(c.previous), c.change_text] for c in items]


HANDLING_HEADER = ["属地", "交办", "按时签收", "按时回应", "按时办结", "超期", "退单", "及时率"]


def handling_row(row: UnitHandling) -> list[str]:
    """One row of the accountability table as printed."""
    return [row.unit, str(row.assigned), _rate(row.sign_due, row.sign_on_time),
            _rate(row.response_due, row.response_on_time), _rate(row.closure_due, row.closure_on_time),
            str(row.overdue), str(row.returned), pct(row.rate)]


def opinions_block(opinions: list[DepartmentOpinion]) -> Block:
    """The departments' 会办意见 as one table (the special report's 处置情况 and the weekly's incidents)."""
    return Block("table", "部门会办意见", ["时间", "部门", "回复人", "会办意见"],
                 [[local_minute(o.at), o.department, o.actor, o.text] for o in opinions])


def link_block(link: PostLink, prefix: str = "") -> Block:
    """A post to check a claim against: source, title, snapshot and its original address."""
    # The snapshot's place under data_dir/snapshots (month/digest) is enough to find it.
    snapshot = f"；快照：{'/'.join(Path(link.snapshot).parts[-2:])}" if link.snapshot else ""
    return Block("link", f"{prefix}{link.source}：{link.title}{snapshot}", url=link.url, ref=f"帖 #{link.post_id}")


def blocks(b: Briefing) -> list[Block]:
    """The whole document, in reading order."""
    prev = "上周" if b.kind == "week" else "前24小时"
    out = [Block("title", b.title),
           Block("subtitle", f"统计时段：{b.period.label}（北京时间）　数据截至：{to_local(b.as_of):%Y-%m-%d %H:%M}")]
    for note in b.notes:
        out.append(Block("note", note))

    out.append(Block("h1", "一、总体情况"))
    t = {c.label: c for c in b.totals}
    out.append(Block("p", f"本期共采集信息 {t['采集信息'].current} 条，"
                          f"其中涉生态环境信息 {t['涉生态环境信息'].current} 条"
                          f"（负面 {t['其中负面'].current} 条），新增舆情事件 {t['新增舆情事件'].current} 起；"
                          f"与{prev}相比，采集信息{t['采集信息'].change_text}，新增事件{t['新增舆情事件'].change_text}。"))
    out.append(Block("table", "总体数据", ["指标", "本期", prev, "环比"], _change_rows(b.totals)))
    for caption, items in (("事件等级分布", b.by_grade), ("事件类别分布", b.by_topic), ("事件属地分布", b.by_unit)):
        if items:
            out.append(Block("table", caption, ["项目", "本期", prev, "环比"], _change_rows(items)))
    out.append(Block("chart", "信息量与负面占比走势", chart="trend"))

    out.append(Block("h1", "二、重点舆情事件"))
    if not b.top:
        out.append(Block("p", "本期无重点舆情事件。"))
    for n, inc in enumerate(b.top, 1):
        out.append(Block("h2", f"{n}. {inc.title}（事件 #{inc.id}）"))
        out.append(Block("p", f"属地：{inc.unit}；等级：{inc.grade.label}；类别：{inc.topic}；状态：{inc.state_label}；"
                              f"首发：{local_minute(inc.opened_at)}；相关帖文 {inc.posts} 条，{inc.authors} 位作者；"
                              f"传播量 {inc.reach_total}"
                              f"（转发 {inc.reposts}、评论 {inc.comments}、点赞 {inc.likes}）。"))
        out.append(Block("p", f"属地公开回应：{local_minute(inc.public_reply_at)} 首次公开回应。" if inc.public_reply_at
                         else "属地公开回应：截至统计时点，未见责任单位公开回应。"))
        for quote in inc.summary:
            out.append(Block("quote", quote.text, ref=f"帖 #{quote.post_id}"))
        for link in inc.links:
            out.append(link_block(link))
        for role, link in inc.responses:
            out.append(link_block(link, f"{role.label}｜"))
        if inc.opinions:
            out.append(opinions_block(inc.opinions))

    out.append(Block("h1", "三、属地办理情况"))
    out.append(Block("p", "交办：本期交办（含改派、重新打开）次数；"
                          "按时签收/回应/办结：按期完成数/已到期数（未到期的不计）；"
                          "超期：本期交办中有环节超期的次数；退单：本期退单次数；及时率：按期完成环节数/已到期环节数。"))
    if b.handling:
        out.append(Block("table", "属地办理情况", HANDLING_HEADER,
                         [handling_row(r) for r in b.handling] + [handling_row(b.handling_total)]))
    else:
        out.append(Block("p", "本期无交办事件。"))
    out.append(Block("h2", "超期未办结清单"))
    if b.overdue:
        out.append(Block("table", "超期清单", ["事件", "标题", "属地", "环节", "期限", "已超期（小时）"],
                         [[f"#{o.incident_id}", o.title, o.unit, STEP_LABELS.get(o.step, o.step),
                           local_minute(o.deadline), f"{o.hours_over:g}"] for o in b.overdue]))
    else:
        out.append(Block("p", "截至统计时点，无超期未办环节。"))

    out.append(Block("h1", "四、舆情走势与分布"))
    out.append(Block("table", "分日走势" if b.kind == "week" else "分时走势",
                     ["时间", "采集信息", "涉生态环境", "负面", "中性", "正面"],
                     [[p.label, str(p.posts), str(p.relevant), str(p.neg), str(p.neu), str(p.pos)] for p in b.trend]))
    if b.topic_mix:
        out.append(Block("table", "类别构成", ["类别", "涉生态环境信息"], [[k, str(v)] for k, v in b.topic_mix]))
        out.append(Block("chart", "类别构成", chart="topics"))
    if b.hot_units:
        out.append(Block("table", "热点属地", ["属地", "涉生态环境信息"], [[k, str(v)] for k, v in b.hot_units]))
        out.append(Block("chart", "属地分布", chart="places"))
    if b.hot_places:
        out.append(Block("table", "热点地点", ["社区/地标", "涉生态环境信息"], [[k, str(v)] for k, v in b.hot_places]))
    if not b.topic_mix:
        out.append(Block("p", "本期无涉生态环境信息。"))

    out.append(Block("h1", "五、采集覆盖情况"))
    if b.coverage:
        blind = b.blind_sources
        out.append(Block("p", f"共 {len(b.coverage)} 个采集来源，其中 {len(blind)} 个在本期存在失明时段"
                              + ("（见下表），失明期间的舆情未被采集。" if blind else "，全时段覆盖。")))
        header = ["来源", "运行", "失败", "条目", "新增", "失明（小时）", "失明时段", "说明"]
        out.append(Block("table", "采集来源", header,
                         [[c.source, str(c.runs), str(c.failed_runs), str(c.items), str(c.new_items),
                           f"{c.blind_hours:g}",
                           "；".join(f"{local_minute(a)}—{local_minute(z)}" for a, z in c.blind_spans) or "—",
                           c.note + (f"：{c.last_error}" if c.last_error else "")] for c in b.coverage]))
    else:
        out.append(Block("p", "本期没有任何采集来源的运行记录，无法判断是否漏采。"))

    out.append(Block("h1", "六、下期关注事项" if b.kind == "week" else "六、交班关注事项"))
    if b.attention:
        out.append(Block("table", "未办结事件", ["事件", "标题", "属地", "等级", "状态", "下一环节", "期限", "超期"],
                         [[f"#{a.id}", a.title, a.unit, a.grade.label, a.state_label, a.next_step or "—",
                           local_minute(a.next_deadline), "是" if a.overdue else "否"] for a in b.attention]))
    else:
        out.append(Block("p", "截至统计时点，无未办结事件。"))
    if b.rota_gaps:  # the desk would be empty: said at the hand-over, days ahead, until the rota is filled
        out.append(Block("note", f"值班表空档：以下 {len(b.rota_gaps)} 个时段无人值班，请尽快排班。"))
        out.append(Block("table", "值班表空档", ["起", "止", "时长（小时）"],
                         [[local_minute(a), local_minute(z), f"{(z - a).total_seconds() / 3600:g}"]
                          for a, z in b.rota_gaps]))
    if b.learning is not None:
        out.append(Block("h1", "七、人工更正与研判准确性"))
        out.append(Block("p", b.learning.summary()))
        out += [Block("table", t.caption, t.header, t.rows) for t in b.learning.tables()]
    out.append(Block("p", "说明：本报告所有数字由系统根据已存储的帖文、事件及操作日志自动统计；"
                          "事件摘要均为原帖原文摘录，"
                          "可按帖文编号在系统中核对原文及快照。"))
    return out
