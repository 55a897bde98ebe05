"""The briefing's section on the duty desk's corrections (人工更正与研判准确性): what the desk
corrected in the period and how, and where the analysis was weak, per unit and per topic
(computed by alerts.desk_accuracy, the same figures as the console's statistics page).

It reads its own records (the labels and the posts of the period's incidents) through the store's
label operations, so the rest of the briefing does not change for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from alerts.desk_accuracy import DeskAccuracy, desk_accuracy
from briefing.period import Period
from core.jurisdiction import Jurisdiction
from core.models import CORRECTION_LABELS, TOPIC_LABELS
from storage.incident_queries import IncidentFilters
from storage.sql import SqlStore

NO_UNIT = "未定属地"
FIELD_LABELS = {"relevant": "是否相关", "unit_code": "属地", "topic": "类别", "polarity": "情感"}


@dataclass(slots=True)
class Table:
    """One table of the section: caption, header, rows (as printed)."""

    caption: str
    header: list[str]
    rows: list[list[str]] = field(default_factory=list)


@dataclass(slots=True)
class DeskLearning:
    """The section, as data: the figures and the names to print them with."""

    accuracy: DeskAccuracy
    unit_names: dict[str | None, str]

    def summary(self) -> str:
        """The section's paragraph."""
        a = self.accuracy
        made = sum(a.corrections.values())
        if not made and not a.posts:
            return "本期无人工更正，也无新增事件帖子可供核对。"
        how = "、".join(f"{CORRECTION_LABELS[k]} {n} 次" for k, n in a.corrections.items() if n) or "无"
        rates = "，".join(f"{FIELD_LABELS[k]} {_pct(v)}" for k, v in a.field_accuracy().items())
        return (f"本期值班台及属地共作出人工更正 {made} 次，涉及事件 {a.corrected_incidents} 件（{how}）。"
                f"以人工更正为准，本期新增事件 {a.posts} 条帖子的系统研判准确率：{rates}。")

    def tables(self) -> list[Table]:
        """Corrections by kind, then the analysis' accuracy by unit and by topic."""
        a = self.accuracy
        out = [Table("人工更正方式", ["更正方式", "次数"],
                     [[CORRECTION_LABELS[k], str(n)] for k, n in a.corrections.items()])]
        topics: dict[str | None, str] = dict(TOPIC_LABELS.items())
        for caption, groups, names in (("研判准确率（按属地）", a.by_unit, self.unit_names),
                                       ("研判准确率（按类别）", a.by_topic, topics)):
            if groups:
                out.append(Table(caption, ["项目", "帖子", "被更正", "准确率"],
                                 [[names.get(g.key, g.key or "—"), str(g.posts), str(g.corrected), _pct(g.accuracy)]
                                  for g in groups]))
        return out


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def load_learning(store: SqlStore, jurisdiction: Jurisdiction, period: Period) -> DeskLearning:
    """The section of ``period``: corrections made in it, accuracy over its incidents' posts."""
    with store.read() as tx:
        items = tx.find_incidents(IncidentFilters(since=period.start, until=period.end), None)
        ids = [i.id for i in items if i.id is not None]
        period_labels = tx.live_labels(period.start, period.end)
        posts = tx.posts_of_incidents(ids)
        post_labels = tx.labels_of([p for _i, p, _a in posts])
    found = desk_accuracy(period_labels, posts, post_labels, {i.id: i.unit_code for i in items if i.id})
    names: dict[str | None, str] = {code: unit.name for code, unit in jurisdiction.units.items()}
    names[None] = NO_UNIT
    return DeskLearning(found, names)
