"""Pure alert rules with an explicit ``now``: grouping, grading, workflow, deadlines, escalation,
notification routing and quiet hours (including the 2026 Spring Festival and a make-up Sunday)."""

from __future__ import annotations

import datetime as dt

import pytest

from alerts.deadlines import compute_deadlines, raise_deadlines
from alerts.escalation import EscalationPolicy, EscalationState, acknowledge, evaluate, overdue_steps
from alerts.grading import Reach, add_post, combine, effective_grade, grade_incident, source_tier
from alerts.grouping import PostFacts, find_match, grams, merge_keywords, overlap, same_place
from alerts.notify_rules import backoff, quiet_until, recipients
from alerts.rules import decide
from alerts.workflow import check_extension, check_return, target_state
from core.errors import WorkflowError
from core.jurisdiction import load_jurisdiction
from core.models import Analysis, Grade, Incident, Polarity, PostRole, RawPost, State
from core.timeutil import SHANGHAI

PACK = load_jurisdiction("jiangbei")
GRADING = PACK.grading
# The grouping mechanics with fixed numbers (the pack's model is fitted on data and may move).
GROUPING = {"window_hours": 72, "followup_window_days": 30, "reopen_days": 30, "min_probability": 0.5,
            "model": {"intercept": -2.0, "overlap": 4.0, "log_shared": 0.5, "same_place": 1.0, "other_place": -2.0,
                      "unplaced": -0.5, "log_hours": -0.3}}


def facts(unit_code, topic, place, words, role=PostRole.REPORT):
    return PostFacts(unit_code, topic, place, words, role)


def weight(word: str) -> float:
    """Plain weights for the pure grouping tests: every word of two characters or more weighs 5."""
    return 5.0 if len(word) >= 2 else 0.0
POLICY = EscalationPolicy.from_pack(PACK.escalation)


def local(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SHANGHAI)


def analysis(unit_code="500105006000", topic="noise", place="建新北路", signals=(), sentiment=0.1, confidence=1.0):
    return Analysis(relevant=True, unit="观音桥街道", unit_code=unit_code, confidence=confidence, topics=[topic],
                    polarity=Polarity.NEG, sentiment=sentiment, signals=list(signals), place=place)


def post(text="工地夜间施工噪音扰民", author="a", source="weibo", url=None, **engagement):
    return RawPost(source=source, text=text, author=author, url=url, engagement=engagement, id=1)


def incident(state=State.ASSIGNED, opened=local(2026, 11, 30, 9), **kw):
    base = dict(title="t", unit="观音桥街道", unit_code="500105006000", topic="noise", grade=Grade.BLUE, state=state,
                opened_at=opened, updated_at=opened, place="建新北路", id=7,
                keywords=["工地", "夜间", "施工", "噪音", "扰民"])
    base.update(kw)
    return Incident(**base)


# -- grading -----------------------------------------------------------------------------------

def test_reach_thresholds_from_the_pack_with_reasons():
    reach = add_post(Reach(), post(reposts=800, comments=300), analysis(), "individual")
    grade, reasons = grade_incident(reach, 1, GRADING)
    assert grade is Grade.YELLOW and any("传播量 1100" in r for r in reasons)
    add_post(reach, post(author="b", reposts=9000), analysis(), "individual")
    grade, _ = grade_incident(reach, 1, GRADING)
    assert grade is Grade.ORANGE  # 10100 ≥ 10000: merged posts keep (add up) their reach


def test_source_tier_lifts_grade():
    central = post(source="人民日报", url="https://www.people.com.cn/a")
    assert source_tier(central, GRADING) == "central"
    assert source_tier(post(url="https://www.cqnews.net/x"), GRADING) == "provincial"
    assert source_tier(post(author="江北区生态环境局"), GRADING) == "official"
    assert source_tier(post(), GRADING) == "individual"
    grade, reasons = grade_incident(add_post(Reach(), central, analysis(), "central"), 1, GRADING)
    assert grade is Grade.ORANGE and any("中央媒体" in r for r in reasons)


def test_signals_velocity_authors_and_negativity():
    grade, reasons = grade_incident(add_post(Reach(), post(), analysis(signals=["leak"]), "individual"), 1, GRADING)
    assert grade is Grade.YELLOW and "敏感信号: leak → 较大" in reasons
    # A leak near a school: a harm combination of the pack.
    both = add_post(Reach(), post(), analysis(signals=["leak", "school"]), "individual")
    assert grade_incident(both, 1, GRADING)[0] is Grade.ORANGE
    # A night-time noise complaint near a school, told to 12345 and a reporter: sensitive but
    # harmless signals do not add up; one low-reach complaint stays at most 较大.
    noisy = add_post(Reach(), post(), analysis(signals=["school", "petition", "media", "gathering"]), "individual")
    grade, reasons = grade_incident(noisy, 1, GRADING)
    assert grade is Grade.YELLOW and not any("叠加" in r for r in reasons)
    # A fire with people hurt: severe signals add up.
    fire = add_post(Reach(), post(), analysis(signals=["explosion", "casualty"]), "individual")
    assert grade_incident(fire, 1, GRADING)[0] is Grade.ORANGE
    # Tap water across several communities, and ill children: at least 重大.
    water = add_post(Reach(), post(), analysis(signals=["drinking_water", "widespread"]), "individual")
    assert grade_incident(water, 1, GRADING)[0] is Grade.ORANGE
    kids = add_post(Reach(), post(), analysis(signals=["school", "illness"]), "individual")
    assert grade_incident(kids, 1, GRADING)[0] is Grade.ORANGE
    assert grade_incident(Reach(), 25, GRADING)[0] is Grade.ORANGE  # 25 posts/hour
    many = Reach()
    for i in range(20):
        add_post(many, post(author=f"u{i}"), analysis(sentiment=0.5), "individual")
    grade, reasons = grade_incident(many, 1, GRADING)
    assert many.author_count == 20 and grade is Grade.ORANGE
    assert not any("负面程度" in r for r in reasons)  # mean negativity 0.5 < 0.85
    angry = Reach()
    for i in range(5):  # the pack's min_posts: three angry neighbours are still 一般
        add_post(angry, post(author=f"v{i}"), analysis(sentiment=0.05), "individual")
    assert any("负面程度 0.95" in r for r in grade_incident(angry, 1, GRADING)[1])


def test_same_author_counted_once_and_combine_keeps_reach():
    a = add_post(Reach(), post(author="x", reposts=10), analysis(), "individual")
    add_post(a, post(author="x", reposts=5), analysis(), "individual")
    b = add_post(Reach(), post(author="y", comments=7, followers=100), analysis(), "local")
    both = combine(a, b)
    assert (a.author_count, both.author_count, both.reposts, both.comments, both.followers) == (1, 2, 15, 7, 100)
    assert both.posts == 3 and set(both.tiers) == {"individual", "local"}


def test_override_holds_until_facts_exceed_it():
    override = {"grade": "orange", "reason": "领导批示"}
    assert effective_grade(Grade.BLUE, override) is Grade.ORANGE
    assert effective_grade(Grade.RED, override) is Grade.RED
    assert effective_grade(Grade.YELLOW, None) is Grade.YELLOW


# -- grouping ----------------------------------------------------------------------------------

def test_keywords_and_overlap():
    assert merge_keywords(["工地", "夜间"], ["夜间", "施工"]) == ["工地", "夜间", "施工"]
    shared, ratio = overlap(grams(["工地", "夜间", "打桩"], weight), grams(["工地", "夜间", "施工", "噪音"], weight))
    assert shared == 10 and ratio == pytest.approx(10 / 15)  # over the smaller side
    assert overlap({}, grams(["工地"], weight)) == (0.0, 0.0)
    # Words meet by their character pairs: one spot written long and short, one machine two ways.
    assert set(grams(["溉澜溪体育公园"], weight)) >= set(grams(["溉澜溪"], weight))
    assert overlap(grams(["打桩"], weight), grams(["打桩机"], weight))[1] == 1.0
    assert same_place("鲜花港", "鲜花港社区") and not same_place("建新北路", "北城天街")


def test_shared_words_decide_place_and_unit_weigh_in():
    now = local(2026, 11, 30, 12)
    inc = incident()
    piling = facts("500105006000", "noise", "建新北路", ["工地", "夜间", "打桩"])
    match = find_match(piling, [inc], now, GROUPING, weight)
    assert match is not None and match.action == "merge"
    # The same place with nothing salient in common is not the same event any more.
    other = facts("500105006000", "noise", "建新北路", ["完全", "不同"])
    assert find_match(other, [inc], now, GROUPING, weight) is None
    # Another unit never; another named place only with much more in common.
    assert find_match(facts("500105003000", "noise", "建新北路", ["工地", "夜间", "施工"]), [inc], now, GROUPING,
                      weight) is None
    assert find_match(facts("500105006000", "noise", "北城天街", ["工地", "夜间", "广场", "舞蹈", "音响"]), [inc],
                      now, GROUPING, weight) is None
    # One topic family: another topic never joins, "other" (a fire told without a medium) may.
    assert find_match(facts("500105006000", "air", "建新北路", ["工地", "夜间", "施工"]), [inc], now, GROUPING,
                      weight) is None
    assert find_match(facts("500105006000", "other", "建新北路", ["工地", "夜间", "施工"]), [inc], now, GROUPING,
                      weight) is not None


def test_text_similarity_decides_without_place_and_window_applies():
    inc = incident(place=None)
    now = local(2026, 11, 30, 12)
    similar = ["工地", "夜间", "施工", "噪音", "凌晨"]
    report = facts("500105006000", "noise", None, similar)
    assert find_match(report, [inc], now, GROUPING, weight).action == "merge"
    assert find_match(facts("500105006000", "noise", None, ["广场舞", "音响"]), [inc], now, GROUPING, weight) is None
    late = local(2026, 12, 3, 9, 1)  # 72 h after the last post
    assert find_match(report, [inc], late, GROUPING, weight) is None
    # ... but an official reply that late still finds its incident (follow-up window).
    reply = find_match(facts("500105006000", "noise", None, similar, PostRole.OFFICIAL), [inc], late, GROUPING, weight)
    assert reply is not None and reply.action == "attach"
    inc.last_post_at = local(2026, 12, 2, 9)  # a recent post keeps the window open
    assert find_match(report, [inc], late, GROUPING, weight) is not None


def test_recently_closed_incident_is_reopened_old_one_is_not():
    closed = incident(state=State.CLOSED, milestones={"closed": local(2026, 12, 1, 9)})
    soon, later = local(2026, 12, 10, 9), local(2027, 1, 5, 9)
    report = facts("500105006000", "noise", "建新北路", ["工地", "夜间", "施工"])
    match = find_match(report, [closed], soon, GROUPING, weight)
    assert match is not None and match.action == "reopen"
    assert find_match(report, [closed], later, GROUPING, weight) is None
    # Praise after the clean-up attaches to the closed incident and does not reopen it.
    thanks = facts("500105006000", "noise", "建新北路", ["工地", "夜间", "施工"], PostRole.PRAISE)
    praise = find_match(thanks, [closed], soon, GROUPING, weight)
    assert praise is not None and praise.action == "attach"
    # An open candidate wins over a closed one.
    open_one = incident(id=8, last_post_at=local(2026, 12, 9, 9))
    both = find_match(report, [closed, open_one], soon, GROUPING, weight)
    assert both.incident.id == 8


def test_low_confidence_goes_to_triage():
    now = local(2026, 11, 30, 9)
    decision = decide(post(), analysis(confidence=0.3), [], PACK, now, ["工地"], weight, PostRole.REPORT)
    assert decision.action == "open" and decision.incident.state is State.NEW
    assert decision.incident.unit_code is None and "置信度低" in decision.reasons[0]
    sure = decide(post(), analysis(), [], PACK, now, ["工地"], weight, PostRole.REPORT)
    assert sure.incident.state is State.ASSIGNED and sure.incident.department == "区住房城乡建委"


# -- workflow ----------------------------------------------------------------------------------

def test_transitions_and_clear_errors():
    assert target_state("sign", incident()) is State.SIGNED
    with pytest.raises(WorkflowError, match="不能审核办结"):
        target_state("close", incident(state=State.SIGNED))
    with pytest.raises(WorkflowError, match="不能签收"):
        target_state("sign", incident(state=State.NEW))
    assert target_state("reopen", incident(state=State.CLOSED)) is State.ASSIGNED
    assert target_state("reopen", incident(state=State.CLOSED, unit_code=None)) is State.NEW
    with pytest.raises(WorkflowError, match="未知操作"):
        target_state("teleport", incident())


def test_return_needs_reason_and_has_a_limit():
    with pytest.raises(WorkflowError, match="退单理由不能为空"):
        check_return(incident(), "  ", PACK.workflow)
    assert check_return(incident(returns=1), "不属于本街道", PACK.workflow) == "不属于本街道"
    with pytest.raises(WorkflowError, match="上限 2"):
        check_return(incident(returns=2), "还是不归我们", PACK.workflow)


def test_extension_only_before_the_deadline():
    inc = incident(deadlines={"response": local(2026, 12, 2, 9)})
    assert check_extension(inc, "response", local(2026, 12, 4, 9), local(2026, 12, 1, 9)) == local(2026, 12, 4, 9)
    with pytest.raises(WorkflowError, match="已过"):
        check_extension(inc, "response", local(2026, 12, 4, 9), local(2026, 12, 2, 9))
    with pytest.raises(WorkflowError, match="晚于"):
        check_extension(inc, "response", local(2026, 12, 1, 18), local(2026, 12, 1, 9))


# -- deadlines ---------------------------------------------------------------------------------

def test_deadlines_across_spring_festival_2026():
    opened = local(2026, 2, 13, 10)  # Friday before the break; Saturday 14th is a make-up working day
    blue = compute_deadlines(PACK.deadlines, Grade.BLUE, opened)
    assert blue["sign_off"] == local(2026, 2, 14, 10)
    assert blue["response"] == local(2026, 2, 15, 10)  # clock hours ignore holidays
    # 14, 24, 25, 26, 27, 28 (make-up Saturday), 2 March.
    assert blue["closure"] == local(2026, 3, 2, 10)
    on_make_up_day = compute_deadlines(PACK.deadlines, Grade.BLUE, local(2026, 2, 14, 16))
    assert on_make_up_day["sign_off"] == local(2026, 2, 24, 16)
    red = compute_deadlines(PACK.deadlines, Grade.RED, local(2026, 2, 17, 3))  # 春节 night
    assert (red["report"], red["response"], red["press"]) == (local(2026, 2, 17, 4), local(2026, 2, 17, 8),
                                                               local(2026, 2, 18, 3))


def test_deadlines_with_a_make_up_sunday_and_complex_cases():
    # Saturday 19 September 2026 → counting starts on the make-up Sunday the 20th at 09:00.
    assert compute_deadlines(PACK.deadlines, Grade.BLUE, local(2026, 9, 19, 15))["sign_off"] == local(2026, 9, 21, 9)
    # Closure over the National Day break: 29, 30 Sep, 8, 9, 10 (make-up Saturday), 12, 13 Oct.
    opened = local(2026, 9, 28, 10)
    assert compute_deadlines(PACK.deadlines, Grade.BLUE, opened)["closure"] == local(2026, 10, 13, 10)
    complex_case = compute_deadlines(PACK.deadlines, Grade.BLUE, opened, complex_case=True)["closure"]
    assert complex_case > local(2026, 10, 13, 10) and complex_case.astimezone(SHANGHAI).date() == dt.date(2026, 10, 23)


def test_raising_the_grade_tightens_pending_deadlines_only():
    opened = local(2026, 11, 30, 9)
    blue = compute_deadlines(PACK.deadlines, Grade.BLUE, opened)
    raised = raise_deadlines(blue, PACK.deadlines, Grade.RED, local(2026, 11, 30, 11), done={"sign_off"})
    assert raised["sign_off"] == blue["sign_off"]  # done: untouched
    assert raised["response"] == local(2026, 11, 30, 16)  # 5 h from the raise, earlier than 48 h
    assert raised["report"] == local(2026, 11, 30, 12) and "press" in raised


# -- escalation --------------------------------------------------------------------------------

def test_ladder_climbs_repeats_and_acknowledgement_stops_repeats():
    deadline = local(2026, 12, 1, 9)
    state = EscalationState(deadline)
    assert evaluate(state, local(2026, 12, 1, 8, 59), POLICY).events == []
    first = evaluate(state, deadline, POLICY)
    assert [(e.name, e.kind, e.notify) for e in first.events] == [("reminder", "climb", True)]
    state = first.state
    assert evaluate(state, local(2026, 12, 1, 9, 30), POLICY).events == []
    repeat = evaluate(state, local(2026, 12, 1, 10), POLICY)
    assert [(e.name, e.kind) for e in repeat.events] == [("reminder", "repeat")]
    state = acknowledge(repeat.state, "观音桥街道值班员", local(2026, 12, 1, 10, 10))
    assert evaluate(state, local(2026, 12, 1, 10, 59), POLICY).events == []  # no repeat after ack
    climb = evaluate(state, local(2026, 12, 1, 11), POLICY)  # still overdue at +2 h: supervision
    assert [(e.name, e.kind) for e in climb.events] == [("supervision", "climb")]
    again = evaluate(climb.state, local(2026, 12, 1, 12), POLICY)  # the new rung repeats until acked
    assert [(e.name, e.kind) for e in again.events] == [("supervision", "repeat")]


def test_catch_up_after_downtime_records_every_rung_and_notifies_once():
    deadline = local(2026, 12, 1, 9)
    result = evaluate(EscalationState(deadline), local(2026, 12, 1, 18), POLICY)  # down for 9 h
    assert [e.name for e in result.events] == ["reminder", "supervision", "leader"]
    assert [e.due_at for e in result.events] == [deadline, local(2026, 12, 1, 11), local(2026, 12, 1, 17)]
    assert [e.notify for e in result.events] == [False, False, True]
    # A job that missed several repeats sends one, not a backlog.
    later = evaluate(result.state, local(2026, 12, 1, 23), POLICY)
    assert len(later.events) == 1 and later.events[0].kind == "repeat"


def test_overdue_steps_skip_done_and_returned():
    inc = incident(deadlines={"sign_off": local(2026, 12, 1, 9), "response": local(2026, 12, 2, 9)})
    assert [s for s, _ in overdue_steps(inc, local(2026, 12, 3, 9))] == ["sign_off", "response"]
    inc.milestones["sign_off"] = local(2026, 12, 1, 8)
    assert [s for s, _ in overdue_steps(inc, local(2026, 12, 3, 9))] == ["response"]
    inc.state = State.RETURNED
    inc.milestones.clear()
    assert [s for s, _ in overdue_steps(inc, local(2026, 12, 3, 9))] == ["response"]
    inc.state = State.CLOSED
    assert overdue_steps(inc, local(2026, 12, 3, 9)) == []


# -- notifications -----------------------------------------------------------------------------

CONTACTS = [
    {"name": "值班室", "roles": ["duty_desk"], "email": "duty@bureau.test"},
    {"name": "观音桥联系人", "roles": ["unit"], "unit_codes": ["500105006000"], "wecom": "http://127.0.0.1:9/w"},
    {"name": "石马河联系人", "roles": ["unit"], "unit_codes": ["500105003000"], "email": "smh@bureau.test"},
    {"name": "领导", "roles": ["leader"], "dingtalk": "http://127.0.0.1:9/d"},
]
CHANNELS = ("feed", "email", "wecom", "dingtalk")


def test_recipients_follow_roles_and_units():
    routes = PACK.notify["routes"]
    got = {(r.name, r.channel) for r in recipients("reminder", incident(), CONTACTS, routes, CHANNELS)}
    assert got == {("观音桥联系人", "feed"), ("观音桥联系人", "wecom"), ("值班室", "feed"), ("值班室", "email")}
    leader = {(r.name, r.channel) for r in recipients("leader", incident(), CONTACTS, routes, CHANNELS)}
    assert ("领导", "dingtalk") in leader and not any(n == "观音桥联系人" for n, _ in leader)
    no_unit = recipients("assigned", incident(unit_code=None), CONTACTS, routes, CHANNELS)
    assert {r.name for r in no_unit} == {"值班室"}  # someone always hears


def test_quiet_hours_hold_non_red_pushes_only():
    quiet = ["22:00", "07:30"]
    night = local(2026, 12, 1, 23, 15)
    assert quiet_until(night, quiet, Grade.YELLOW, "email") == local(2026, 12, 2, 7, 30)
    assert quiet_until(local(2026, 12, 2, 3), quiet, Grade.BLUE, "wecom") == local(2026, 12, 2, 7, 30)
    assert quiet_until(night, quiet, Grade.RED, "email") == night
    assert quiet_until(night, quiet, Grade.BLUE, "feed") == night
    assert quiet_until(local(2026, 12, 2, 9), quiet, Grade.BLUE, "email") == local(2026, 12, 2, 9)


def test_backoff_doubles_up_to_a_cap():
    assert [backoff(n, 30).total_seconds() for n in (1, 2, 3)] == [30, 60, 120]
    assert backoff(20, 30).total_seconds() == 3600


def test_escalation_policy_defaults_for_what_the_pack_leaves_out():
    # The defaults are read from module constants: a slotted dataclass's class attribute is its slot.
    policy = EscalationPolicy.from_pack({})
    assert policy.ladder == ("reminder", "supervision", "leader") and policy.repeat == dt.timedelta(hours=1)
    assert [a.total_seconds() / 60 for a in policy.after] == [0, 120, 480]


def test_still_not_fixed_and_a_residents_thanks_follow_the_answered_matter_not_the_latest():
    """"说好的整改呢" and "今晚居然安静了" speak of an answer already given: among the incidents they
    match as well as a report would (min_probability), the answered one wins over a newer one
    nobody answered yet; a report, and an answered match below that bar, keep the most probable."""
    now = local(2026, 12, 3, 23)
    words = ["包间", "音响", "隔音", "散场"]
    answered_ktv = incident(id=7, place=None, keywords=[*words, "凌晨"], last_post_at=local(2026, 11, 30, 15),
                            public_reply_at=local(2026, 11, 30, 15))
    newer = incident(id=8, place=None, keywords=[*words, "工地"], last_post_at=local(2026, 12, 3, 22))
    for role in (PostRole.UNRESOLVED, PostRole.PRAISE, PostRole.PROGRESS):
        assert find_match(facts("500105006000", "noise", None, words, role), [newer, answered_ktv], now, GROUPING,
                          weight).incident.id == 7
    assert find_match(facts("500105006000", "noise", None, words), [newer, answered_ktv], now, GROUPING,
                      weight).incident.id == 8
    weak = incident(id=9, place=None, keywords=["包间", "凌晨", "喝酒", "唱歌", "麦克风", "霓虹"],
                    last_post_at=local(2026, 11, 30, 15), public_reply_at=local(2026, 11, 30, 15))
    assert find_match(facts("500105006000", "noise", None, words, PostRole.UNRESOLVED), [newer, weak], now, GROUPING,
                      weight).incident.id == 8


def test_still_not_fixed_at_the_incidents_named_place_joins_it_in_other_words():
    """"限期整改都过了，华山村沟沟头的水还是黑的" shares no event word with the pig farm's reports,
    only their named place: like a reply there, it is about that matter (round 7, dev_d D-08)."""
    now = local(2026, 12, 6, 9)
    farm = incident(place="华山村", topic="water", keywords=["养猪场", "粪水", "沼液"],
                    public_reply_at=local(2026, 12, 2))
    again = facts("500105006000", "water", "华山村", ["沟沟", "黑的"], PostRole.UNRESOLVED)
    policy = {**GROUPING, "followup_min_probability": 0.05}
    match = find_match(again, [farm], now, policy, weight)
    assert match is not None and match.incident.id == 7
    assert find_match(facts("500105006000", "water", "华山村", ["沟沟", "黑的"]), [farm], now, policy, weight) is None


def test_a_place_a_later_report_named_counts_as_the_incidents_place():
    """The incident's places are every place its reports named, not only its first post's: the pig
    farm's incident opened at 石庙村, a news item then named 华山村 and joined it; "限期整改都过了，
    华山村沟沟头的水还是黑的" names 华山村 and no event word. Read against the first post's place
    only, 华山村 was another place and the "still not fixed" went to a look-alike opened there
    (round 8, dev_d D-08)."""
    now = local(2026, 12, 6, 9)
    farm = incident(place="石庙村", topic="water", keywords=["养殖场", "沼液", "华山村", "粪水"],
                    public_reply_at=local(2026, 12, 2))
    again = facts("500105006000", "water", "华山村", ["沟沟", "黑的"], PostRole.UNRESOLVED)
    policy = {**GROUPING, "followup_min_probability": 0.05}
    match = find_match(again, [farm], now, policy, weight)
    assert match is not None and match.incident.id == 7 and "同地点" in match.reason
    # A place none of its reports named is still another place.
    elsewhere = facts("500105006000", "water", "福生路社区", ["沟沟", "黑的"], PostRole.UNRESOLVED)
    assert find_match(elsewhere, [farm], now, policy, weight) is None


def test_a_post_that_fits_two_open_incidents_of_its_unit_proposes_merging_them():
    """Residents named one milky river by their own estates and it was opened twice (南桥寺, 十年城);
    the news item naming the river fits both. It joins the likelier and its reason asks the desk
    to merge the other (并单): on main nothing said that the two were one event (round 8, dev_d D-02)."""
    now = local(2026, 11, 6, 17)
    first = incident(id=5, place="南桥寺", topic="water", keywords=["石马河", "河水", "白花花", "药水味"],
                     last_post_at=local(2026, 11, 6, 8))
    second = incident(id=6, place="十年城", topic="water", keywords=["河沟", "乳白色", "偷排", "石马河"],
                      last_post_at=local(2026, 11, 6, 9))
    news = facts("500105006000", "water", None, ["石马河", "河水", "乳白色", "药水味", "偷排", "白花花"])
    policy = {**GROUPING, "bridge_probability": 0.7}
    match = find_match(news, [first, second], now, policy, weight)
    assert match is not None and match.similarity >= 0.7
    other = ({5, 6} - {match.incident.id}).pop()
    assert match.also == (other,) and f"#{other}" in match.reason and "并单" in match.reason
    # Another unit's incident is not proposed; nor is one the post fits less well than the bar.
    third = incident(id=8, unit_code="500105003000", place="南桥寺", topic="water",
                     keywords=["石马河", "河水", "乳白色"], last_post_at=local(2026, 11, 6, 9))
    placed = facts(None, "water", None, ["石马河", "河水", "乳白色", "药水味", "偷排", "白花花"])
    assert 8 not in find_match(placed, [first, third], now, policy, weight).also
    assert find_match(news, [first, second], now, {**policy, "bridge_probability": 1.0}, weight).also == ()
