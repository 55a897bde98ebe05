"""The demo month's information sharing (信息互通共享): the special reports (舆情专报) of its 重大
incident (kept and recorded as sent), an item handed down by the city bureau (上级交办) and the
units' 信息简报 — each made by the function the console's routes call, at its moment of the
simulated month.
"""

from __future__ import annotations

import datetime as dt

from alerts.config import AlertsConfig
from alerts.inbound import parse_request, receive
from alerts.reporting import request_sending
from briefing.briefs_service import submit_brief
from briefing.report_service import build_special_report, keep_special_report
from core.sharing import ReportKind
from storage.sql import SqlStore

DUTY = "duty"
UP_TO = "市生态环境局"  # where the 专报 go (sent by hand over the government intranet, recorded)
# The city bureau's item: handed down with a deadline two days after it arrives.
INBOUND = {"origin": "city_bureau", "reference": "渝环舆交〔2026〕演示01号", "unit": "观音桥街道", "topic": "air",
           "title": "关于核查观音桥商圈餐饮油烟扰民舆情的交办单",
           "text": "网民在微博反映观音桥商圈北城天街附近多家餐饮店油烟直排、夜间噪声扰民，转发评论较多。"
                   "请江北区生态环境局会同属地街道于2个工作日内核实处置，并反馈处理情况。"}
INBOUND_DAYS_AGO = 17.5
# 信息简报 (days ago, who, title, text): the units' own reports of their environmental work.
BRIEFS = [
    (26.0, "石马河街道", "石马河街道开展河长巡河暨石马河沿线排口排查",
     "本周街道河长办组织社区网格员对石马河沿线12个排口开展巡查，发现2处雨污混接点位，已交由施工单位限期整改。"),
    (19.0, "寸滩街道", "寸滩街道推进溉澜溪雨污管网修复",
     "针对网民反映的溉澜溪溉塘新村段污水直排问题，街道会同区水利局完成排口临时封堵，管网修复工程已进场施工。"),
    (12.0, "观音桥街道", "观音桥街道开展餐饮油烟专项整治",
     "街道联合区城市管理局对辖区餐饮店油烟净化设施开展专项检查，检查餐饮店46家，责令整改7家，整改完成5家。"),
    (5.0, "大石坝街道", "大石坝街道加强建筑垃圾偷倒巡查",
     "针对黑院墙社区绿化带建筑垃圾偷倒问题，街道在重点路段增设视频监控2处，夜间巡查频次由每周2次增至每日1次。"),
    (2.0, "鱼嘴镇", "鱼嘴镇开展长江禁渔联合巡查",
     "镇农业服务中心联合派出所开展长江鱼嘴段夜间联合巡查3次，劝离违规垂钓人员9人，查获电鱼工具1套。"),
]


def special_report(store: SqlStore, config: AlertsConfig, incident_id: int, at: dt.datetime,
                   final: bool = False) -> None:
    """Write and keep the incident's next 专报 (首报, then 续报; 终报 when ``final``) as of ``at``."""
    report = build_special_report(store, config.jurisdiction, incident_id, ReportKind.FINAL if final else None,
                                  now=at)
    kept = keep_special_report(store, report, DUTY)
    request_sending(store, config, kept.id, UP_TO, "manual", None, DUTY, "政务内网报送", now=at)


def hand_down(store: SqlStore, config: AlertsConfig, at: dt.datetime) -> int:
    """The city bureau's item, received by the duty desk at ``at``; its incident."""
    item = dict(INBOUND, deadline=(at + dt.timedelta(days=2)).isoformat())
    return receive(store, config, parse_request(item), DUTY, now=at).incident_id


def submit(store: SqlStore, config: AlertsConfig, unit: str, title: str, text: str, at: dt.datetime) -> None:
    """One unit's 信息简报, submitted by the unit's demo user."""
    submit_brief(store, config.jurisdiction, unit, title, text, unit, now=at)
