"""The demo month: thirty days of posts and casework before start-up, so ``serve --demo`` shows a
bureau at work (trends, on-time rates, overdue and escalated incidents, last week's briefing)
instead of one morning's worth of fresh incidents.

Nothing is written to the store directly. Posts go in through ``store.add_posts``, incidents
come out of ``alerts.detection.process_pending``, the casework is ``alerts.actions`` taken by
the demo users, and ``alerts.escalation_job.run_escalation`` runs every simulated hour — all
with past ``now`` values on one simulated clock, so every deadline, escalation, on-time rate and
audit line is what production would have produced. Times are relative to start-up, so the demo
never ages; a fixed random seed makes every build the same month (for a given weekday of start-up).

A district's month: the scripted cases below (every state and action, three bursts, the desk's
corrections) and, around them, the everyday traffic of ``voices`` — two or three fresh complaints
a day with their comments and now and then the street's public reply, chatter that names 江北 but
is no matter of ours, local news — some 10-30 posts a day, by day and night with the rhythm of
HOURS and WEEKDAYS. A complaint that production's grouping puts with a matter already being
handled is one more voice on it: only the post that opens (or reopens) an incident starts a script.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import heapq
import itertools
import logging
import random
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from alerts import actions
from alerts.config import AlertsConfig
from alerts.copies import copy_to, reply
from alerts.corrections import dismiss, edit_post
from alerts.detection import process_pending
from alerts.escalation_job import run_escalation
from core.errors import EcowatchError
from core.models import Incident, RawPost, State
from core.timeutil import SHANGHAI
from crawlers.feeds.reader import parse_feed
from crawlers.parsers.article import extract_article
from ecowatch.demo import voices
from ecowatch.demo.rota import import_demo_rota
from ecowatch.demo.server import SOURCES, render
from ecowatch.demo.sharing import BRIEFS, INBOUND_DAYS_AGO, hand_down, special_report, submit
from ecowatch.progress import progress
from nlp.analyzer import Analyzer
from storage.incident_queries import IncidentFilters
from storage.sql import SqlStore

log = logging.getLogger(__name__)

DAYS = 30
DUTY = "duty"  # the demo's duty-desk user (ecowatch.commands_users.seed_demo_users)
BUILT_MARKER = "demo-month.built"  # in the demo data folder: the month is there, start at once
# The feeds whose items the month replays, under the names sources.toml gives them: the live
# crawl then finds the same author and text already stored and adds nothing twice.
FEEDS = {"feeds/jiangbei_env.xml": "demo-rss-江北生活圈", "feeds/jiangbei_env_gbk.xml": "demo-rss-江北论坛"}
NEWS_SOURCE = "demo-news"  # the demo news site (sources.toml); its articles are dated within the last 3 days
COPIED_TO = "区水利局"  # the department the viral event is copied to (会办), and its demo user's name
COPY_REPLY = "经排查，溉塘新村段雨污混接2处，已纳入管网修复计划，本周完成临时封堵。"
VIRAL = "posts/06"  # the month's viral event: 溉澜溪 sewage, reposted dozens of times
MONTH_SOURCE = "demo-月度回放"  # posts written for the month only (reposts, replies, comments)

# Casework scripts: (action, hours, anchor). Each step runs ``hours`` after the previous step,
# or ``hours`` after (before, when negative) the incident's ``anchor`` deadline when it has one
# (so "late" means late whatever the grade and the working-day calendar make the deadline), never
# before the previous step.
Step = tuple[str, float, str | None]
ON_TIME: list[Step] = [("sign", 0.6, None), ("respond", 5, None), ("resolve", 40, None), ("close", 20, None)]
SCRIPTS: dict[str, list[Step]] = {
    "closed": ON_TIME,
    "closed_late": [("sign", 6, "sign_off"), ("respond", 10, "response"), ("resolve", 30, None),
                    ("close", 12, None)],
    "rejected": [("sign", 1, None), ("respond", 6, None), ("resolve", 30, None), ("reject", 4, None),
                 ("respond", 20, None), ("resolve", 6, None), ("close", 5, None)],
    "escalated": [("ack", 3, "sign_off"), ("sign", 1, None), ("respond", 4, None), ("resolve", 48, None),
                  ("close", 8, None)],
    "returned": [("return", 1.5, None), ("reassign", 0.7, None), ("sign", 0.8, None), ("respond", 7, None),
                 ("resolve", 50, None), ("close", 10, None)],
    "extended": [("sign", 1, None), ("respond", 6, None), ("extend", 60, None)],
    "responded_late": [("sign", 3, None), ("respond", 9, "response")],
    "responded": [("sign", 0.8, None), ("respond", 6, None)],
    "resolved": [("sign", 1.2, None), ("respond", 5, None), ("resolve", 50, None)],
    "signed": [("sign", 1.5, None)],
    "returned_waiting": [("return", 2, None)],
    "overdue": [],  # assigned and left alone: overdue, escalated up the ladder, not acknowledged
    "merge": [("merge", 2, None)],
    # Corrections by the duty desk (the statistics page's 更正 section): not ours, grade set by hand,
    # the analysis' topic put right.
    "dismissed": [("dismiss", 1.5, None)],
    "regraded": [("regrade", 0.5, None), ("sign", 1, None), ("respond", 5, None), ("resolve", 40, None),
                 ("close", 16, None)],
    "edited": [("edit", 0.4, None), ("sign", 1, None), ("respond", 6, None), ("resolve", 30, None),
               ("close", 12, None)],
    # The 重大 viral event: 首报 within the hour, 续报 the next day, 终报 once resolved.
    # The pipes are the water authority's: copied to it (会办), which answers the next day.
    "viral": [("sign", 0.6, None), ("respond", 4, None), ("report", -0.3, "first_report"), ("copy", 0.5, None),
              ("report", -1, "followup_report"), ("copy_reply", 20, None), ("resolve", 90, None),
              ("report_final", 2, None), ("close", 18, None)],
}


@dataclass(frozen=True)
class Case:
    """One complaint of the month: the post that opens it, when, and what the desk does with it."""

    key: str  # a feed item (its link's path, "posts/06") or a key of EXTRA_POSTS
    days_ago: float
    script: str
    comments: int = 2  # other residents chiming in over the next day or two
    target: str | None = None  # "merge": the case it is merged into; "reassign": the unit's name


# Replies and follow-ups are posts too: when, which case's incident they concern, what they say.
@dataclass(frozen=True)
class Extra:
    key: str
    author: str
    title: str
    text: str
    engagement: dict[str, int] = field(default_factory=dict)
    reply_to: str | None = None  # the feed item it answers (its thread)
    unit: str | None = None  # the street or town it names (a generated complaint's, for the reply)


EXTRA_POSTS = {
    "viral-reply": Extra("viral-reply", "江北区寸滩街道办事处", "关于网民反映溉澜溪溉塘新村段污水直排问题的情况通报",
                         "网友您好，您反映的溉澜溪溉塘新村段污水直排问题已收悉。经现场核查，系该段雨污管网破损、"
                         "雨水口混接所致。我街道已会同区生态环境局、区水利局立即安排施工单位临时封堵排口，"
                         "并对溉澜溪下游开展水质监测。下一步将对破损管网全面修复，预计一周内完成。感谢您对江北生态环境的关注！"),
    "viral-notfixed": Extra("viral-notfixed", "溉塘新村老街坊", "溉澜溪又在冒黑水了，说好的一周修好呢",
                            "溉塘新村这段溉澜溪还是老样子！上个月说是整改了、排口封堵了，昨天一下雨排口又在往外冒黑水，"
                            "臭得很，河边散步的人都绕道走。说好的一周修好管网，到现在还没人管，希望街道和环保局再来看一下。",
                            {"reposts": 86, "comments": 140, "likes": 420}, reply_to=VIRAL),
    "dump-again": Extra("dump-again", "黑院墙居民", "黑院墙社区绿化带又被倒了一堆装修垃圾",
                        "大石坝黑院墙社区那段绿化带，上次清理完才半个月，这几天又来了，晚上有车偷偷倒装修垃圾，"
                        "砖头、石膏板、油漆桶堆了一大堆，刮风灰尘满天飞。之前反映过一次，说是整改了，过了几天又来，希望装个监控。",
                        reply_to="posts/16"),
    "panxi-12345": Extra("panxi-12345", "12345市民热线转办", "玉带山社区盘溪河段漂浮垃圾多、有臭味",
                         "市民来电反映：石马河街道玉带山社区附近盘溪河段水面漂浮塑料袋、泡沫等垃圾较多，"
                         "靠近排口处有明显臭味，夏天蚊虫多，影响周边居民散步休息，请相关部门尽快清理并查明排口来源。"),
    "xinglan-12345": Extra("xinglan-12345", "12345市民热线转办", "五里店星澜社区旁工地夜间渣土车噪音扬尘",
                           "市民来电反映：五里店街道星澜社区旁边在建工地每晚十点后仍有渣土车进出，车辆未覆盖篷布，"
                           "道路泥泞、扬尘大，鸣笛声影响居民休息，请相关部门核实处理。"),
    "dongjiaxi": Extra("dongjiaxi", "董家溪老住户", "董家溪社区旁边的小河沟水面全是白泡泡",
                       "华新街董家溪社区旁边那条小河沟，这两天水面飘起一层白泡泡，水是灰黑色的，靠近了一股洗衣粉混着臭鸡蛋的味道，"
                       "怀疑上面哪家店把污水直接排下来了。"),
    "xiaoyuan": Extra("xiaoyuan", "小苑社区居民", "小苑社区门口洗车店污水流了一路",
                      "观音桥小苑社区门口那家洗车店，洗车水直接往人行道上流，地上一层油泥，老人走路滑倒过两次，"
                      "晚上还有泡沫流进雨水井，跟老板说了也不管。"),
    "zhengjie": Extra("zhengjie", "正街社区住户", "大石坝正街社区石材加工粉尘大",
                      "大石坝正街社区背后有个石材加工点，每天切石头粉尘漫天飞，楼下停的车一天就是一层白灰，"
                      "切割声音也大，家里娃娃咳嗽了好几天。"),
    "fuqiang": Extra("fuqiang", "富强社区街坊", "富强社区菜市场杀鸡摊污水臭",
                     "五里店富强社区菜市场里面几个杀鸡杀鱼的摊位，污水和鸡毛直接冲进下水道，堵了就漫到路上，"
                     "天一热臭得很，周围住户窗户都不敢开。"),
    "haiyu": Extra("haiyu", "海语江山业主", "海语江山对面码头半夜装卸吵得睡不着",
                   "寸滩海语江山对面江边码头，最近每天晚上十一点以后还在装卸集装箱，哐当哐当的，还有货车倒车的喇叭声，"
                   "临江的几栋楼根本睡不着，希望管一管夜间作业时间。"),
    "tieshan": Extra("tieshan", "铁山坪爬山的", "铁山社区农家乐污水往山沟里排",
                     "周末去铁山坪爬山，看到铁山社区那边一家农家乐后面接了根管子，洗碗水、厨房污水直接排到山沟里，"
                     "沟里一股馊味，下游还有村民在用这个水浇菜。"),
    "shimiao": Extra("shimiao", "石庙村村民", "石庙村砖厂烟囱又冒黑烟",
                     "复盛镇石庙村那个砖厂，这几天早上烟囱一直冒黑烟，村里到处是煤烟味，晾的衣服都是黑点点，"
                     "以前说要整改，看样子没得啥子效果。"),
    "mingzhu": Extra("mingzhu", "明珠社区业主", "明珠社区商铺空调外机噪音大",
                     "观音桥明珠社区楼下新开的商铺，一排空调外机正对着我们卧室窗户，从早上开到半夜，嗡嗡响，"
                     "热风也往楼上吹，跟物业反映了一个星期没人来。"),
    "xinglan": Extra("xinglan", "星澜社区居民", "星澜社区旁边工地渣土车夜里进出",
                     "五里店星澜社区旁边的工地，晚上十点以后渣土车一辆接一辆进出，车上没盖篷布，路上全是泥巴，"
                     "刹车声和喇叭声吵得人睡不着。"),
    "xiangguosi": Extra("xiangguosi", "香国寺散步的", "香国寺江边步道垃圾没人捡",
                        "华新街香国寺社区下面的嘉陵江边步道，周末钓鱼烧烤的人多，走了以后塑料袋、饮料瓶、烧烤签子丢得到处都是，"
                        "有的直接冲到江里了，希望增加垃圾桶和保洁。"),
    "deadfish": Extra("deadfish", "石门江边钓鱼的", "嘉陵江石门大桥下面漂了好多死鱼",
                      "大石坝石门社区这边，嘉陵江石门大桥下面的回水沱今天早上漂了一大片死鱼，白花花的一片，"
                      "有几十斤，水面还有一层油花，闻起来有股怪味。钓了十几年鱼没见过这种情况，怀疑上游有排口偷排。",
                      {"reposts": 120, "comments": 260, "likes": 800}),
    "yuzui-odor": Extra("yuzui-odor", "鱼城社区业主", "鱼嘴工业园半夜刺鼻气味，好几个邻居喉咙痛去医院",
                        "鱼嘴镇鱼城社区这几天半夜总闻到工业园那边飘过来的刺鼻气味，像油漆又像烧塑料，"
                        "昨晚楼上好几家人喉咙痛、头晕，有两个老人去医院看了。打了12345说会转给环保，到现在没人来测，"
                        "业主群里都炸锅了，大家都不敢开窗。"),
    "canteen": Extra("canteen", "丽苑社区居民", "寸滩丽苑社区新开的社区食堂味道咋样",
                     "听说寸滩丽苑社区开了社区食堂，老年人吃饭有优惠，中午一荤两素十二块，有没有去吃过的说说味道。"),
    "release": Extra("release", "晨练的江北人", "江北这边有人大量放生外来物种清道夫",
                     "今天早上在江边看到一群人开着小货车来放生，倒下去的全是清道夫鱼和巴西龟，这些都是外来物种，"
                     "会破坏生态，江北有没有人管？"),
}
REPOST_OPENINGS = ["转发：", "【转发】", "转：", "扩散一下 ", "//转发 ", "帮忙转 "]
REASONS = {"return": "经现场核实，该点位不在我街道辖区，请重新分派。", "reassign": "原属地退单，经核实改派",
           "reject": "现场复核仍有问题，处置反馈与实际不符，请继续整改。",
           "extend": "涉及河道清淤和截污管网改造，需待枯水期施工，申请延期十天。",
           "dismiss": "社区食堂的饭菜口味，与生态环境无关", "regrade": "周边有学校和幼儿园，居民反映集中，提级处置",
           "edit": "核实后类别修正"}
RESPONSES = "您好，您反映的问题已收悉，我单位已安排人员到现场核查，将依法依规处理并及时反馈结果。"
FEEDBACK = "已会同相关部门现场处置：责令整改到位，并纳入日常巡查，群众回访满意。"

CASES = [
    Case("posts/01", 28.6, "closed"), Case("posts/02", 27.3, "escalated", comments=3),
    Case("posts/03", 26.4, "rejected"), Case("posts/04", 25.5, "returned", target="江北城街道"),
    Case("posts/07", 24.2, "extended", comments=3), Case("posts/08", 23.4, "closed"),
    Case(VIRAL, 21.1, "viral", comments=0), Case("posts/10", 19.8, "escalated"),
    Case("posts/11", 18.7, "closed_late"), Case("posts/13", 16.4, "returned", target="复盛镇"),
    Case("posts/15", 14.5, "responded", comments=1), Case("posts/14", 13.6, "closed_late", comments=1),
    Case("posts/16", 11.4, "closed"), Case("panxi-12345", 7.9, "merge", comments=0, target="posts/15"),
    Case("xinglan-12345", 5.0, "merge", comments=0, target="xinglan"),
    Case("bbs/thread-02", 8.6, "responded_late"), Case("bbs/thread-03", 6.4, "resolved"),
    Case("bbs/thread-04", 4.6, "responded"), Case("bbs/thread-05", 3.8, "overdue"),
    Case("bbs/thread-06", 2.4, "signed"), Case("posts/09", 1.3, "returned_waiting"),
    Case("dongjiaxi", 29.3, "closed"), Case("xiaoyuan", 22.5, "closed_late", comments=1),
    Case("zhengjie", 20.6, "closed"), Case("fuqiang", 17.2, "closed", comments=1),
    Case("haiyu", 15.8, "closed_late"), Case("tieshan", 13.1, "closed", comments=1),
    Case("shimiao", 10.2, "closed"), Case("mingzhu", 7.1, "responded_late", comments=1),
    Case("xinglan", 5.3, "closed"), Case("xiangguosi", 1.8, "signed", comments=1),
    # "Still not fixed": they reopen a closed incident, or join an open one, as production's
    # grouping decides; the reopened viral incident is signed and answered again.
    Case("viral-notfixed", 9.6, "responded", comments=1), Case("dump-again", 3.1, "overdue", comments=0),
    # Bursts: dead fish in the 嘉陵江 (answered late), a night smell that sent neighbours to hospital
    # (escalated); and a post the analysis took for a complaint, dismissed by the desk as not ours.
    Case("deadfish", 12.3, "closed_late", comments=4), Case("yuzui-odor", 4.2, "escalated", comments=3),
    Case("canteen", 16.9, "dismissed", comments=0), Case("release", 0.2, "overdue", comments=1),
]
# The news site's complaints (articles dated within the last three days, ecowatch/demo/sources/README.md):
# what the desk and the units have done with them by start-up. The other articles (good news,
# notices, another 江北区) are replayed as they are.
NEWS_CASES = {"news/articles/006.html": "signed", "news/articles/010.html": "responded",
              "news/articles/007.html": "signed", "news/articles/012.html": "overdue",
              "news/articles/009.html": "responded", "news/articles/008.html": "responded_late",
              "news/articles/011.html": "resolved", "news/articles/013.html": "escalated"}
# Bursts: the case's key → (posts within a day and a half, top reach of one, the feeds' own reposts).
BURSTS: dict[str, tuple[int, int, tuple[str, ...]]] = {
    VIRAL: (36, 400, ("posts/05", "bbs/thread-01")), "deadfish": (16, 160, ()), "yuzui-odor": (20, 120, ())}
# Scripts in which the unit answers: a generated complaint under them may get the street's public reply.
REPLIED = frozenset({"closed", "closed_late", "resolved", "responded", "responded_late", "rejected", "regraded",
                     "edited", "escalated"})
# Posts that are no case of their own (days ago): an unrelated post, the official reply.
LATER_POSTS = [("posts/12", 15.2), ("viral-reply", 20.3)]
# Activity by hour of day (Asia/Shanghai) and weekday (Monday first): a morning and a lunch rise,
# the evening peak (home from work, the noise and fumes start), a quiet small hours; weekdays
# busier than weekends (the hotline and the boards are worked on weekdays).
HOURS = [2, 1, 0.6, 0.3, 0.3, 0.4, 1, 3, 5, 6, 6, 5, 6, 5, 4, 4, 4, 5, 6, 8, 9, 9, 7, 4]
WEEKDAYS = [1.15, 1.1, 1.05, 1.1, 1.15, 0.75, 0.7]
# The generated traffic, per day at weekday weight 1: fresh complaints (each with 0-4 comments
# and now and then the street's public answer), chatter that names 江北 but is no matter of ours,
# local news. With the cases, bursts and replies above: some 10-30 posts a day.
DAILY = {"complaints": 2.6, "chatter": 3.0, "news": 0.8}
# What the desk and the units have done with a generated complaint by now, by its age in days:
# (younger than, [(script, weight), ...]); the oldest are mostly closed, the newest still running.
BY_AGE: list[tuple[float, list[tuple[str, int]]]] = [
    (2, [("signed", 30), ("responded", 20), ("overdue", 40), ("returned_waiting", 5), ("edited", 5)]),
    (5, [("resolved", 15), ("responded", 30), ("responded_late", 10), ("signed", 15), ("overdue", 10),
         ("escalated", 10), ("returned_waiting", 5), ("regraded", 5)]),
    (12, [("closed", 30), ("resolved", 20), ("responded", 10), ("responded_late", 10), ("closed_late", 10),
          ("escalated", 5), ("returned", 5), ("edited", 5), ("extended", 5)]),
    (DAYS + 1, [("closed", 50), ("closed_late", 15), ("rejected", 6), ("returned", 6), ("escalated", 6),
                ("extended", 4), ("edited", 5), ("regraded", 4), ("resolved", 4)]),
]
REPLY_SHARE = 0.35  # of generated complaints the street answers in public


@dataclass(slots=True)
class MonthReport:
    """What the build did (the ``serve --demo`` line and the test read it)."""

    posts: int = 0
    incidents: int = 0
    actions: int = 0
    shifts: int = 0  # of the demo rota
    skipped: list[str] = field(default_factory=list)  # steps the month's own events made moot


def feed_posts(now: dt.datetime) -> dict[str, RawPost]:
    """The live feeds' items, read by the crawler's own parser, keyed by their link's path."""
    found: dict[str, RawPost] = {}
    for path, source in FEEDS.items():
        data = (SOURCES / path).read_bytes()
        gbk = b'encoding="gb2312"' in data[:100]
        text = render(data.decode("gb18030" if gbk else "utf-8"), "127.0.0.1", now, rfc822=True)
        for post in parse_feed(text.encode("gb18030" if gbk else "utf-8"), source).posts:
            assert post.url is not None
            found[post.url.split("127.0.0.1/", 1)[1]] = post
    return found


def news_posts(now: dt.datetime) -> dict[str, RawPost]:
    """The demo news site's articles, read by the site crawler's own extraction with the rules
    sources.toml gives it, keyed by their path ("news/articles/006.html"). Replayed in the month
    at the dates the site shows, so the crawl at start-up finds them stored (same title, text and
    author) and opens nothing: the live feed, not a pile of news, is what moves at start-up."""
    source = next(s for s in tomllib.loads((SOURCES.parent / "sources.toml").read_text(encoding="utf-8"))["source"]
                  if s["name"] == NEWS_SOURCE)
    found: dict[str, RawPost] = {}
    for path in sorted((SOURCES / "news" / "articles").glob("*.html")):
        key = path.relative_to(SOURCES).as_posix()
        html = render(path.read_text(encoding="utf-8"), "127.0.0.1", now, rfc822=False)
        article = extract_article(html, f"http://127.0.0.1/{key}", source["rules"])
        found[key] = RawPost(source=NEWS_SOURCE, title=article.title, text=article.text, author=article.author,
                             url=f"http://127.0.0.1/{key}", published_at=article.published_at)
    return found


def _weighted_time(rng: random.Random, start: dt.datetime, hours: float) -> dt.datetime:
    """A moment within ``hours`` after ``start``, drawn with the daily and weekly rhythm."""
    slots = [start + dt.timedelta(hours=h) for h in range(max(1, int(hours)))]
    weights = [HOURS[s.astimezone(SHANGHAI).hour] * WEEKDAYS[s.astimezone(SHANGHAI).weekday()] for s in slots]
    slot = rng.choices(slots, weights)[0]
    return slot + dt.timedelta(minutes=rng.randrange(60))


def _at_rhythm(rng: random.Random, now: dt.datetime, days_ago: float) -> dt.datetime:
    """The day ``days_ago`` before ``now``, at an hour drawn with the rhythm (never after now)."""
    day = (now - dt.timedelta(days=days_ago)).astimezone(SHANGHAI).replace(hour=0, minute=0, second=0, microsecond=0)
    return min(_weighted_time(rng, day.astimezone(dt.UTC), 24), now - dt.timedelta(minutes=30))


class _Month:
    """The simulated clock: a queue of timed events (posts, casework steps, escalation passes)."""

    def __init__(self, store: SqlStore, analyzer: Analyzer, config: AlertsConfig, now: dt.datetime) -> None:
        self.store, self.analyzer, self.config, self.now = store, analyzer, config, now
        self.report = MonthReport()
        self.queue: list[tuple[dt.datetime, int, Callable[[dt.datetime], None]]] = []
        self.order = itertools.count()
        self.incidents: dict[str, int] = {}  # case key → its incident
        self.running: set[int] = set()  # incidents whose script is under way
        self.units = {u.name: u.code for u in config.jurisdiction.units.values()}
        self.extras = dict(EXTRA_POSTS)  # and the generated complaints, by key
        self.feeds: dict[str, RawPost] = {}

    def at(self, when: dt.datetime, event: Callable[[dt.datetime], None]) -> None:
        if when <= self.now:
            heapq.heappush(self.queue, (when, next(self.order), event))

    def run(self, tick: Callable[[int], None]) -> None:
        start = self.now - dt.timedelta(days=DAYS)
        hour = start
        while hour <= self.now:  # production's escalation pass, once a simulated hour
            self.at(hour, self.escalate)
            hour += dt.timedelta(hours=1)
        while self.queue:
            when, _n, event = heapq.heappop(self.queue)
            event(when)
            if event == self.escalate:
                tick(1)

    def escalate(self, when: dt.datetime) -> None:
        run_escalation(self.store, self.config, now=when)

    def hand_down(self, when: dt.datetime) -> None:
        """The city bureau's item arrives; the desk and the unit handle it on time."""
        case = Case("上级交办", 0, "closed", comments=0)
        self._next(case, hand_down(self.store, self.config, when), 0, when)

    def post(self, post: RawPost, case: Case | None = None) -> None:
        """Publish ``post``; it is collected and processed a few minutes later."""
        assert post.published_at is not None
        self.at(post.published_at + dt.timedelta(minutes=4), lambda when: self._collect(post, case, when))

    def _collect(self, post: RawPost, case: Case | None, when: dt.datetime) -> None:
        with self.store.begin() as tx:
            self.report.posts += tx.add_posts([dataclasses.replace(post, fetched_at=when)], now=when).new
        process_pending(self.store, self.analyzer, now=when, config=self.config)
        if case is None:
            return
        assert post.url is not None
        with self.store.read() as tx:
            incident = tx.thread_incident(post.url)
        if incident is None or incident.id is None:
            self.report.skipped.append(f"{case.key}: no incident opened")
            return
        if case.key not in self.incidents:
            self.incidents[case.key] = incident.id
        if case.script != "merge" and (incident.id in self.running
                                       or incident.state not in (State.NEW, State.ASSIGNED)):
            return  # one more voice on a matter already being handled: its script goes on
        self.running.add(incident.id)
        self._next(case, incident.id, 0, when)

    def _next(self, case: Case, incident_id: int, index: int, after: dt.datetime) -> None:
        steps = SCRIPTS[case.script]
        if index >= len(steps):
            if steps:  # an incident left alone ("overdue") stays claimed: nobody else picks it up
                self.running.discard(incident_id)
            return
        _action, hours, anchor = steps[index]
        at = after + dt.timedelta(hours=hours)
        if anchor is not None:
            with self.store.read() as tx:
                incident = tx.get_incident(incident_id)
            deadline = incident.deadlines.get(anchor) if incident else None
            at = deadline + dt.timedelta(hours=hours) if deadline else at
        self.at(max(at, after), lambda when: self._step(case, incident_id, index, when))

    def _step(self, case: Case, incident_id: int, index: int, when: dt.datetime) -> None:
        action = SCRIPTS[case.script][index][0]
        with self.store.read() as tx:
            incident = tx.get_incident(incident_id)
        assert incident is not None
        try:
            if incident.state is State.NEW and action != "merge":
                self._assign(incident, when)  # the duty desk triages what detection could not place
                incident = self._reload(incident_id)
            self._act(action, case, incident, when)
            self.report.actions += 1
        except EcowatchError as exc:  # the month's own posts moved the incident on: note, carry on
            self.report.skipped.append(f"{case.key} #{incident_id} {action}: {exc}")
        self._next(case, incident_id, index + 1, when)

    def _reload(self, incident_id: int) -> Incident:
        with self.store.read() as tx:
            incident = tx.get_incident(incident_id)
        assert incident is not None
        return incident

    def _assign(self, incident: Incident, when: dt.datetime) -> None:
        assert incident.id is not None
        code = incident.unit_code or self.units["石马河街道"]
        actions.assign(self.store, self.config, incident.id, code, DUTY, now=when - dt.timedelta(minutes=20))

    def _act(self, action: str, case: Case, incident: Incident, when: dt.datetime) -> None:
        assert incident.id is not None
        iid, cfg, store = incident.id, self.config, self.store
        unit = incident.unit or DUTY  # the unit's demo user is named after the unit
        if action == "sign":
            actions.sign(store, cfg, iid, unit, now=when)
        elif action == "respond":
            actions.respond(store, cfg, iid, unit, RESPONSES, now=when)
        elif action == "resolve":
            actions.resolve(store, cfg, iid, unit, FEEDBACK, now=when)
        elif action == "close":
            actions.close(store, cfg, iid, DUTY, "核查属实，处置到位", now=when)
        elif action in ("reject", "return"):
            actor = DUTY if action == "reject" else unit
            (actions.reject if action == "reject" else actions.return_incident)(
                store, cfg, iid, actor, REASONS[action], now=when)
        elif action == "reassign":
            actions.assign(store, cfg, iid, self.units[case.target or "石马河街道"], DUTY,
                           reason=REASONS["reassign"], now=when)
        elif action == "extend":
            deadline = incident.deadlines["closure"]
            actions.extend(store, cfg, iid, "closure", deadline + dt.timedelta(days=10), DUTY, REASONS["extend"],
                           now=when)
        elif action == "dismiss":
            dismiss(store, cfg, iid, DUTY, "environment", REASONS["dismiss"], now=when)
        elif action == "regrade":
            actions.override_grade(store, cfg, iid, "yellow", DUTY, REASONS["regrade"], now=when)
        elif action == "edit":
            topic = "noise" if incident.topic != "noise" else "air"
            with store.read() as tx:
                first = tx.incident_post_rows(iid)[0][0].id
            edit_post(store, cfg, iid, first, DUTY, topic=topic, reason=REASONS["edit"], now=when)
        elif action == "ack":
            actions.acknowledge(store, cfg, iid, DUTY, now=when)
        elif action in ("report", "report_final"):
            special_report(store, cfg, iid, when, final=action == "report_final")
        elif action == "copy":
            copy_to(store, cfg, iid, COPIED_TO, DUTY, "请协助核查溉澜溪沿线雨污管网", now=when)
        elif action == "copy_reply":  # the department's demo user is named after the department
            reply(store, cfg, iid, COPIED_TO, COPY_REPLY, now=when)
        elif action == "merge":
            target = self.incidents.get(case.target or "")
            if target is None or target == iid:
                raise EcowatchError("already grouped with its target by detection")
            actions.merge(store, cfg, iid, target, DUTY, "同一河段同一问题，并单办理", now=when)


def _extra(e: Extra, when: dt.datetime, feeds: dict[str, RawPost]) -> RawPost:
    return RawPost(source=MONTH_SOURCE, title=e.title, text=e.text, author=e.author,
                   url=f"https://demo.invalid/month/{e.key}", published_at=when, engagement=dict(e.engagement),
                   reply_to=feeds[e.reply_to].url if e.reply_to else None)


def _plan(month: _Month, feeds: dict[str, RawPost], rng: random.Random) -> None:
    """Queue every post of the month: the cases, their comments, the bursts, the rest."""
    now = month.now

    def item(key: str, when: dt.datetime) -> RawPost:
        if key in month.extras:
            return _extra(month.extras[key], when, feeds)
        return dataclasses.replace(feeds[key], published_at=when)

    for case in CASES + _generated(month, rng):
        opened = _at_rhythm(rng, now, case.days_ago)
        post = item(case.key, opened)
        month.post(post, case)
        assert post.url is not None
        for n in range(case.comments):
            when = _weighted_time(rng, opened + dt.timedelta(minutes=20), 40)
            text = rng.choice(voices.COMMENTS)
            month.post(RawPost(source=MONTH_SOURCE, title="", text=text, author=f"街坊{rng.randrange(1000, 9999)}",
                               url=f"https://demo.invalid/month/{case.key}/comment-{n}", published_at=when,
                               reply_to=post.url))
        if case.key in BURSTS:
            _burst(month, case.key, post, opened, rng, *BURSTS[case.key])
        if case.key.startswith("gen-") and case.script in REPLIED and rng.random() < REPLY_SHARE:
            _official_reply(month, case, post, opened, rng)
    for key, days_ago in LATER_POSTS:
        month.post(item(key, _at_rhythm(rng, now, days_ago)))
    for key, post in news_posts(now).items():  # at the dates the site shows
        month.post(post, Case(key, 0, NEWS_CASES[key], comments=0) if key in NEWS_CASES else None)
    for n, (kind, days_ago) in enumerate(_daily(rng, now, ("chatter", "news"))):
        said = voices.chatter(rng) if kind == "chatter" else voices.news(rng)
        month.post(RawPost(source=MONTH_SOURCE, title=said.title, text=said.text, author=said.author,
                           url=f"https://demo.invalid/month/{kind}-{n}", published_at=_at_rhythm(rng, now, days_ago)))
    month.at(_at_rhythm(rng, now, INBOUND_DAYS_AGO), month.hand_down)
    for days_ago, unit, title, text in BRIEFS:
        month.at(_at_rhythm(rng, now, days_ago),
                 partial(_submit, month, unit, title, text))


def _daily(rng: random.Random, now: dt.datetime, kinds: tuple[str, ...]) -> list[tuple[str, float]]:
    """(kind, days ago) of the generated posts of ``kinds``: each day's number drawn around its
    DAILY rate times the weekday's weight (the hour is drawn later, with the daily rhythm)."""
    out = []
    for day in range(DAYS):
        weekday = (now - dt.timedelta(days=day)).astimezone(SHANGHAI).weekday()
        for kind in kinds:
            rate = DAILY[kind] * WEEKDAYS[weekday]
            count = sum(rng.random() < rate / 8 for _ in range(8))  # binomial, mean ``rate``
            out += [(kind, day + rng.random() * 0.98) for _ in range(count)]
    return out


def _generated(month: _Month, rng: random.Random) -> list[Case]:
    """The month's everyday complaints: words from ``voices``, a script by their age."""
    cases = []
    units = sorted(month.units)
    for n, (_kind, days_ago) in enumerate(_daily(rng, month.now, ("complaints",))):
        said = voices.complaint(rng)
        key = f"gen-{n:03d}"
        month.extras[key] = Extra(key, said.author, said.title, said.text, unit=said.unit)
        choices = next(table for younger, table in BY_AGE if days_ago < younger)
        script = rng.choices([s for s, _w in choices], [w for _s, w in choices])[0]
        target = rng.choice([u for u in units if u != said.unit]) if script == "returned" else None
        cases.append(Case(key, days_ago, script, comments=rng.choice((0, 1, 1, 2, 2, 3, 4)), target=target))
    return cases


def _submit(month: _Month, unit: str, title: str, text: str, when: dt.datetime) -> None:
    submit(month.store, month.config, unit, title, text, when)


def _official_reply(month: _Month, case: Case, post: RawPost, opened: dt.datetime, rng: random.Random) -> None:
    """The street's or town's public answer in the complaint's thread, half a day to a day on."""
    unit = month.extras[case.key].unit or DUTY
    text = rng.choice(voices.REPLIES)
    if unit.endswith("镇"):
        text = text.replace("我街道", "我镇")
    month.post(RawPost(source=MONTH_SOURCE, title="", text=text, author=voices.reply_author(unit),
                       url=f"https://demo.invalid/month/{case.key}/reply", reply_to=post.url,
                       published_at=opened + dt.timedelta(hours=rng.uniform(10, 26))))


def _burst(month: _Month, key: str, original: RawPost, opened: dt.datetime, rng: random.Random, count: int,
           reach: int, reposts: tuple[str, ...] = ()) -> None:
    """A burst: the feeds' own reposts (``reposts``) and ``count`` more within a day and a half,
    each with its own reach (up to ``reach`` reposts), so the incident's grade rises as
    production grades it."""
    for i, key in enumerate(reposts):
        month.post(dataclasses.replace(month.feeds[key], published_at=opened + dt.timedelta(hours=2 + 3 * i)))
    for n in range(count):
        when = opened + dt.timedelta(minutes=30 + int(rng.expovariate(1 / 400)))
        engagement = {"reposts": rng.randrange(reach // 20, reach), "comments": rng.randrange(reach // 40, reach),
                      "likes": rng.randrange(reach // 8, reach * 2)}
        month.post(RawPost(source=MONTH_SOURCE, title="", text=rng.choice(REPOST_OPENINGS) + original.text,
                           author=f"江北网友{rng.randrange(10000, 99999)}", published_at=when, engagement=engagement,
                           url=f"https://demo.invalid/month/{key}/repost-{n}",
                           reply_to=original.url))


def build_month(store: SqlStore, analyzer: Analyzer, config: AlertsConfig, data_dir: Path, now: dt.datetime,
                tick: Callable[[int], None] = lambda _n: None) -> MonthReport:
    """Play the month before ``now`` into ``store`` (which must hold the demo users), the duty
    rota first (its file is kept in ``data_dir``). ``tick`` is
    called once per simulated hour (``DAYS * 24`` in all), for a progress bar."""
    month = _Month(store, analyzer, config, now)
    month.report.shifts = import_demo_rota(store, config.rota, data_dir, now - dt.timedelta(days=DAYS), now)
    month.feeds = feed_posts(now)
    _plan(month, month.feeds, random.Random(19))
    month.run(tick)
    with store.read() as tx:
        month.report.incidents = len(tx.find_incidents(IncidentFilters(), None))
    for line in month.report.skipped:
        log.info("demo month: %s", line)
    return month.report


def build_demo_month(store: SqlStore, analyzer: Callable[[], Analyzer], config: AlertsConfig, data_dir: Path,
                     now: dt.datetime, say: Callable[[str], None] = lambda _line: None) -> MonthReport | None:
    """Build the month once per demo folder, with a progress bar on a terminal; None when the
    folder has it already (an existing demo starts at once, without even loading ``analyzer``).
    The marker is written last, so an interrupted build is played again; posts already stored
    are not stored twice."""
    marker = data_dir / BUILT_MARKER
    if marker.exists():
        return None
    say(f"demo: playing the last {DAYS} days (posts, casework, escalation) into {data_dir} ...")
    with progress(DAYS * 24 + 1, "building the demo month", unit="hours") as tick:
        report = build_month(store, analyzer(), config, data_dir, now, tick)
    marker.write_text(f"{now.isoformat()}: {report.posts} posts, {report.incidents} incidents\n", encoding="utf-8")
    return report
