"""Per-post relevance and polarity on real register (issue 12, round 7): comments that name no
place, official replies, dialect, and the same words in a non-environmental setting."""

from __future__ import annotations

import datetime as dt

import pytest

from alerts.rules import decide
from core.jurisdiction import load_jurisdiction
from core.models import Polarity, PostRole, RawPost
from core.timeutil import SHANGHAI
from nlp.analyzer import relevant_unplaced

PACK = load_jurisdiction("jiangbei")


@pytest.mark.parametrize("text", [
    "楼底下又在烤了，整栋楼都是烟子，窗子关起都呛",
    "说好的整改呢？停了三天今晚又开始了，十二点了还在打桩",
    "您好，您反映的河沟水体发黑发臭问题，经排查系上游一处排口私接生活污水，已封堵该排口并清淤。",
])
def test_an_environmental_comment_naming_no_place_is_relevant_unplaced(analyzer, text):
    """Found where the district's residents talk (under a thread, a reply to a complaint): ours,
    with no unit for the machine to guess."""
    a = analyzer.analyze(text)
    assert a.relevant and a.unit_code is None and a.topics
    assert relevant_unplaced(a)


@pytest.mark.parametrize("text", [
    "南岸弹子石的烧烤摊油烟好大，麻烦南岸区城管来看一哈",  # names another district
    "这家火锅味道是真的巴适，牛油锅底香得很",  # not environmental
    "一户人家天然气管子漏气，邻居闻到臭鸡蛋味报的警，燃气公司来把阀门关了",  # a home's gas leak
])
def test_a_comment_naming_no_place_of_ours_stays_out_when_elsewhere_or_not_environmental(analyzer, text):
    assert not analyzer.analyze(text).relevant


def test_a_long_letter_naming_no_place_we_know_is_not_ours(analyzer):
    """A letter names its place; a long one naming none we know is somebody else's."""
    text = ("尊敬的领导您好！我是汀兰家园的住户，小区附近一直排毒气，每次经过路口都有一股难闻的味道，"
            "这两天一吹西风整个小区都是难闻的味道，家里老人孩子都咳嗽，严重影响居民健康。" * 3)
    assert len(text) > 140 and not analyzer.analyze(text).relevant


def test_an_unplaced_comment_joins_but_never_opens_an_incident(analyzer):
    """Nobody could say where to send it: with no incident to join it is kept, not opened."""
    now = dt.datetime(2026, 11, 30, 9, tzinfo=SHANGHAI)
    a = analyzer.analyze("楼底下又在烤了，整栋楼都是烟子，窗子关起都呛")
    post = RawPost(source="weibo", text="楼底下又在烤了，整栋楼都是烟子，窗子关起都呛", author="a", id=1)
    decision = decide(post, a, [], PACK, now, ["烟子"], lambda w: 5.0, PostRole.REPORT)
    assert a.relevant and decision.action == "ignore"


@pytest.mark.parametrize("text", [
    "关于网友反映观音桥嘉陵公园广场舞噪声扰民问题的回复：我街道已与相关舞队负责人沟通，约定每晚21:00前结束活动，并控制音量。",
    "关于网民反映寸滩头塘垃圾中转站异味问题的回复：经现场核查，该中转站除臭设备故障，渗滤液收集池满溢。"
    "我街道已督促运营单位更换除臭设备、清掏渗滤液池，并增加每日冲洗频次。",
    "【情况通报】10月8日上午，鱼嘴镇人民政府接到群众反映辖区部分小区自来水存在异味，有居民出现腹泻到卫生院就诊。"
    "接报后，镇政府会同供水企业及卫生健康部门立即赶赴现场处置，暂停相关区域供水，启用应急送水车6台保障居民生活用水。"
    "经初步排查，系一处加压泵站管道维修后消毒不到位所致，目前管道已冲洗消毒，经区疾控中心检测水质达标，已恢复供水。"
    "后续将持续开展水质监测，并对受影响居民逐户回访。",
])
def test_an_official_reply_is_not_a_complaint(analyzer, text):
    """A street's or bureau's reply restates the complaint it answers, long or short; it is a
    follow-up and must not read negative (a negative one is taken for a report of the matter)."""
    a = analyzer.analyze(text)
    assert a.relevant and a.polarity is not Polarity.NEG


@pytest.mark.parametrize("text", [
    "石马河那家小面味道巴适得很，臊子香，就是排队久",  # 味道 is taste
    "郭家沱江边吃河鲜，鱼的味道鲜美，推荐",  # a river bank, a fish, a taste
    "嘉陵路口那家面馆的味道巴适，就是位置少",  # a street named after a river
    "北滨路今天早上两辆车追尾，一人受伤送医，交巡警已到场",  # a traffic accident
    "寸滩某楼盘业主拉横幅维权，说开发商逾期交房一年多",  # a property-delivery protest
])
def test_words_of_harm_in_a_non_environmental_setting_stay_irrelevant(analyzer, text):
    assert not analyzer.analyze(text).relevant
