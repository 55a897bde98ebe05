"""Severe posts never missed (issue 12, round 9): a neighbour telling what they felt of a blast, a
worker missing, police and a crowd at a plant gate, a spill heading for the river, news of an
enterprise's accident with workers hurt — and, kept apart by what was learnt rather than by a word,
the same words in a lift, a kitchen, a building site, a road, a wage protest, fireworks, a quarry or
a thunderclap. The texts are written for these tests (none is in an evaluation set)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from alerts.config import alerts_config
from alerts.detection import process_pending
from alerts.grading import Reach, grade_incident
from core.jurisdiction import load_jurisdiction
from core.models import Grade, Polarity, RawPost
from core.timeutil import SHANGHAI
from storage.schema import incident_posts, incidents

PACK = load_jurisdiction("jiangbei")


@pytest.mark.parametrize("text", [
    "凌晨四点多被咣的一下震醒了，还以为是做梦，起来一看楼下好多人在张望",
    "那一下把我们阳台的玻璃震裂了两块，到底是哪里出事了",
    "从江边看过去那边腾起一团蘑菇云，过了好几秒才听到响",
])
def test_what_a_neighbour_felt_of_a_blast_is_a_severe_explosion(analyzer, text):
    a = analyzer.analyze(text)
    assert "explosion" in a.signals
    assert a.relevant and a.polarity is Polarity.NEG


@pytest.mark.parametrize(("text", "signal"), [
    ("车间里还有个师傅下落不明，消防还在里头找", "casualty"),
    ("说是有两个工友埋在里头了，大家都在帮忙刨", "casualty"),
    ("那辆罐车漏出来的东西要是流进长江就完了", "reaches_water"),
])
def test_a_worker_missing_or_a_spill_for_the_river_is_a_severe_signal(analyzer, text, signal):
    a = analyzer.analyze(text)
    assert signal in a.signals
    assert a.relevant and a.polarity is Polarity.NEG


def test_police_and_a_crowd_at_a_plant_gate_are_a_gathering(analyzer):
    """A signal (the grade and the incident it joins weigh it); whether a comment saying only this
    is about the environment is the thread's to say: a wage protest at a gate reads the same."""
    assert "gathering" in analyzer.analyze("厂门口现在围满了人，派出所都来了，家属哭得好伤心").signals


@pytest.mark.parametrize(("text", "unit"), [
    ("江北区五宝镇一化工企业发生闪爆事故，3名工人受伤被送往医院救治，事故原因正在调查。", "五宝镇"),
    ("郭家沱街道一船舶修造企业油舱作业时发生爆燃，2名工人烧伤送医。", "郭家沱街道"),
])
def test_news_of_an_enterprise_accident_with_workers_hurt_is_relevant_and_negative(analyzer, text, unit):
    a = analyzer.analyze(text)
    assert a.relevant and a.unit == unit and a.polarity is Polarity.NEG
    assert {"explosion", "casualty"} <= set(a.signals)


def test_a_tap_water_complaint_of_a_community_is_relevant(analyzer):
    a = analyzer.analyze("观音桥北城天街后面那几栋楼的自来水一股漂白水味道，烧开了都还有")
    assert a.relevant and "drinking_water" in a.signals and a.topics[0] == "water"


@pytest.mark.parametrize("text", [
    "石马河一在建工地发生高处坠落事故，1名工人受伤被送往医院救治。",
    "大石坝一小区电梯突然停运，4名居民被困半小时后获救。",
    "红石路上一辆面包车和货车相撞，司机受伤送医，警察来了把路封了。",
    "华新街一居民家中天然气泄漏引发爆燃，1人烧伤送医。",
    "五里店一家面馆后厨油锅起火，厨师手臂烧伤，火很快扑灭了。",
    "鱼嘴一个工地几十个工人堵在门口讨薪，派出所都来了。",
])
def test_the_same_words_in_a_non_environmental_setting_stay_irrelevant(analyzer, text):
    assert not analyzer.analyze(text).relevant


@pytest.mark.parametrize("text", [
    "江北嘴放烟花，砰的一声把娃儿震醒了",  # fireworks
    "采石场放炮，屋头的墙又震裂了一条缝",  # a quarry's blasting
    "昨晚打雷好凶，一个炸雷把我震醒了",  # a thunderclap
    "老厂房定向爆破，一声巨响烟囱就倒了",  # demolition
    "楼上装修电钻一响，整栋楼都震醒了",  # a drill
])
def test_a_blast_felt_beside_fireworks_a_quarry_or_thunder_is_no_explosion(analyzer, text):
    assert "explosion" not in analyzer.analyze(text).signals


@pytest.mark.parametrize("text", [
    "观音桥一小区电梯故障，3名乘客被困，消防到场救出",  # a lift's passengers, not a missing worker
    "复盛一仓库起火，消防及时扑灭，无人员伤亡",  # nobody hurt
    # A hope that nobody is hurt tells no one hurt (bench/burst.py: an unplaced comment read as a
    # casualty opened an incident of its own, and its reposts followed it).
    "希望没人受伤，消防水会不会流到江里头哦？",
    "但愿没得人受伤哦，烟子好大",
])
def test_a_lift_or_nobody_hurt_is_no_casualty(analyzer, text):
    assert "casualty" not in analyzer.analyze(text).signals


def test_someone_hurt_is_still_a_casualty_beside_the_hope_words(analyzer):
    assert "casualty" in analyzer.analyze("厂里爆炸了，听说有人受伤，已经送医院了").signals


def test_a_calmly_told_explosion_is_bad_news_not_a_sightseers_post(analyzer):
    """snownlp's word counts read "远远看到一朵" as a pleasant sight; the cue rules said pos and the
    models followed, so the post was neither negative nor (with the rules' pos) environmental.
    (Whether this one is environmental is the model's: see docs/analysis.md, round 9's misses.)"""
    a = analyzer.analyze("寸滩港那边爆炸了，远远看到一朵好大的蘑菇云")
    assert a.polarity is Polarity.NEG
    calm = "果园港那边炸了，远远看到一朵蘑菇云"
    assert analyzer.sentiment.score(calm, analyzer.segmenter.cut(calm)).polarity is Polarity.NEG


def test_a_leak_heading_for_the_river_is_major_and_reaching_water_alone_lifts_nothing():
    leak = grade_incident(Reach(author_count=1, posts=1, signals=["leak", "reaches_water"]), 1.0, PACK.grading)[0]
    assert leak.rank >= Grade.ORANGE.rank
    alone = grade_incident(Reach(author_count=1, posts=1, signals=["reaches_water"]), 1.0, PACK.grading)[0]
    assert alone is Grade.BLUE  # a sewage complaint says "流到河里" too


def test_a_tanker_spill_running_for_the_river_opens_an_incident_graded_at_least_major(store, analyzer):
    """One resident's post: an overturned tanker, diesel running down the drain towards the river.
    It was 较大 (the leak alone); the spill heading for the river is the pack's 重大."""
    at = dt.datetime(2026, 12, 1, 7, 30, tzinfo=SHANGHAI)
    text = "郭家沱滨江路那个坡坡上一辆油罐车翻了，柴油顺着排水沟往江里流，味道冲得很"
    with store.begin() as tx:
        new = tx.add_posts([RawPost(source="微博", text=text, author="郭家沱居民", published_at=at, fetched_at=at,
                                    url="https://weibo.example/sev9-tanker")], now=at).new_ids
    process_pending(store, analyzer, now=at, config=alerts_config(analyzer.jurisdiction))
    with store.read() as tx:
        joined = incidents.join(incident_posts, incident_posts.c.incident_id == incidents.c.id)
        row = tx.conn.execute(select(incidents.c.grade).select_from(joined)
                              .where(incident_posts.c.post_id == new[0])).first()
    assert row is not None and Grade(row.grade).rank >= Grade.ORANGE.rank


@pytest.mark.parametrize("text", [
    "化工厂那个工人抢救无效，人没了，才四十出头",
    "江北区一企业发生闪爆事故，造成2人遇难",
    "污水井里头中毒的工人已经身亡",
    # A town named after a fish, a pig farm's pit: the look-alike guard is for animals' deaths only.
    "两江新区鱼嘴镇一企业车间凌晨发生爆燃，致2人死亡5人受伤",
    "养猪场化粪池清掏作业，2名工人中毒死亡",
])
def test_a_death_is_a_death_and_still_a_casualty(analyzer, text):
    """Round 10: 特别重大 needs its own signal; what reads "casualty" (the unplaced-accident rule,
    the follow-ups' accident signals) must still see a death."""
    assert {"death", "casualty"} <= set(analyzer.analyze(text).signals)


@pytest.mark.parametrize("text", [
    "河里头大量鱼类死亡，白花花的一片",  # fish, not people
    "河里的鱼大量死亡，水面发白",
    "鱼嘴这边河沟头的鱼成片死亡",  # fish, in a town named after one
    "鱼塘里的鱼全部死亡",
    "干坝村村民饲养的鸡鸭陆续死亡",
    "行道树大面积死亡，怀疑有人投毒",
    "一仓库起火，所幸无人员死亡",  # nobody dead
])
def test_dead_fish_or_nobody_dead_is_no_death(analyzer, text):
    assert "death" not in analyzer.analyze(text).signals


@pytest.mark.parametrize(("text", "evacuated"), [
    ("罐车漏了，网格员挨家挨户喊我们撤离", True),
    ("周边300余名居民已紧急疏散", True),
    ("商场开展消防疏散演练，上千人有序撤离", False),  # a drill
    ("楼下那个施工队终于撤离了", False),  # a crew leaving is good news
    ("楼道里的疏散通道被杂物堵死了", False),  # a fire escape
])
def test_people_moved_out_of_harms_way_is_an_evacuation_but_a_drill_is_not(analyzer, text, evacuated):
    assert ("evacuation" in analyzer.analyze(text).signals) is evacuated


def test_children_taken_to_hospital_told_by_a_parent_are_a_casualty_at_a_school(analyzer):
    """"送到儿童医院" was no casualty, "好几个娃儿" no school and "吐了" no illness: the 重大 of ill
    children (school + illness) never fired."""
    signals = set(analyzer.analyze("三年级好几个娃儿都送到儿童医院了，说是上课时闻到怪味就吐了").signals)
    assert {"casualty", "school", "illness"} <= signals


# Round 11 (sev11). Texts written for these tests (none is in an evaluation set).
@pytest.mark.parametrize("text", [
    "江北区应急管理局通报：11月5日9时许，五宝镇某企业储罐区发生爆燃，造成1人死亡、2人受伤，伤者已送医救治，事故原因正在调查。",
    "记者从郭家沱街道获悉，辖区一船厂油舱清洗作业时发生闪爆，造成2名工人烧伤，现场已处置完毕。",
])
def test_accident_news_in_an_official_tone_with_people_hurt_is_negative(analyzer, text):
    """The notice frame (通报, 记者从…获悉, 事故原因正在调查) read these neutral: no severe telling."""
    a = analyzer.analyze(text)
    assert a.relevant and a.polarity is Polarity.NEG and "casualty" in a.signals


@pytest.mark.parametrize("text", [
    "铁山坪街道开展危化品企业安全生产检查，检查企业9家，督促整改隐患12处。",
    "复盛镇召开秋冬季大气污染防治工作推进会，部署餐饮油烟和露天焚烧整治。",
    "经现场核查，涉事企业已停产，送医的两名工人已出院，周边空气监测未见异常。",
])
def test_a_routine_notice_or_an_official_reply_stays_neutral(analyzer, text):
    assert analyzer.analyze(text).polarity is Polarity.NEU


@pytest.mark.parametrize(("text", "signal"), [
    ("愿逝者安息，家里人保重", "death"),
    ("听工友说抬出来就不行了，才四十出头", "death"),
    ("看仓库的老师傅脚背都烫起泡了，还在帮忙搬东西", "casualty"),
    ("消防车一台接一台往港城那边开", "responders"),
])
def test_condolences_hearsay_a_burned_foot_and_fire_engines_are_severe_signals_and_bad_news(analyzer, text, signal):
    a = analyzer.analyze(text)
    assert signal in a.signals and a.polarity is Polarity.NEG


@pytest.mark.parametrize("text", [
    "清明节倡导文明祭扫，用鲜花寄托对逝者的哀思，不烧纸钱",
    "区消防救援支队开放日，小朋友们登上消防车参观体验",
])
def test_a_grave_or_a_fire_brigade_open_day_is_no_accident(analyzer, text):
    assert not {"death", "responders"} & set(analyzer.analyze(text).signals)


@pytest.mark.parametrize("text", [
    "楼下麻将馆天天搓到半夜，吵得我脑壳都要炸了",
    "我们小区的化粪池又爆了，臭得出门要捂鼻子",
    "垃圾桶满到爆了三天没人收",
    "隔壁工地半夜卸钢管，哐的一声巨响把我吵醒",
    "楼上那家的音响开得跟炸了一样",
])
def test_a_nuisance_told_with_a_bang_is_no_explosion_and_stays_general(analyzer, text):
    """An `explosion` signal on these made a 一般 matter 重大 (over by two)."""
    a = analyzer.analyze(text)
    assert "explosion" not in a.signals
    reach = Reach(author_count=1, posts=1, reporter_count=1, reports=1, signals=list(a.signals))
    assert grade_incident(reach, 1.0, PACK.grading)[0] is Grade.BLUE


@pytest.mark.parametrize("text", [
    "观音桥这家串串店门口的人行道上全是油污，滑得很",
    "菜市场门口的垃圾桶里全是死鱼，臭得很",
])
def test_oil_on_a_pavement_or_dead_fish_in_a_bin_is_no_river_pollution(analyzer, text):
    assert "visible_pollution" not in analyzer.analyze(text).signals


@pytest.mark.parametrize("text", [
    "五里店转盘一辆面包车撞上护栏，司机受伤送医，消防车也来了",
    "鱼嘴某楼盘业主在售楼部门口拉横幅，要求开发商按期交房",
    "家里燃气灶漏气，我妈闻了头晕，120拉去医院了",
])
def test_severe_words_in_a_traffic_accident_a_property_protest_or_a_home_stay_irrelevant(analyzer, text):
    assert not analyzer.analyze(text).relevant
