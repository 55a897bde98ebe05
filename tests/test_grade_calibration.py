"""Grade calibration, round 10 (issue 12): deaths are 特别重大, a leak with people evacuated is 重大,
and a thread's comments are its audience, not new reports — one resident's post with six neighbours'
"同楼，被吵醒了" under it is still one complaint (一般), where six residents each posting is 较大. Harm
is counted by everyone who tells it (a neighbour's "我家也是" is another household's tap water). The
texts are written for these tests (none is in an evaluation set)."""

from __future__ import annotations

import datetime as dt

from alerts.grading import Reach, add_post, combine, grade_incident
from core.jurisdiction import load_jurisdiction
from core.models import Analysis, Grade, Polarity, RawPost

PACK = load_jurisdiction("jiangbei")
AT = dt.datetime(2026, 12, 1, 23, 0)
THREAD = "https://weibo.example/sev10/thread"


def _neg(signals: list[str] | None = None) -> Analysis:
    return Analysis(relevant=True, unit="观音桥街道", unit_code="500105006000", confidence=0.9, topics=["noise"],
                    polarity=Polarity.NEG, sentiment=0.05, signals=signals or [])


def _post(author: str, n: int, reply_to: str | None = None, source: str = "微博") -> RawPost:
    return RawPost(source=source, text="工地半夜打混凝土，吵得睡不着", author=author, published_at=AT,
                   url=f"https://weibo.example/sev10/{n}", reply_to=reply_to, engagement={"comments": 1, "likes": 3})


def _grade(reach: Reach, velocity: float = 1.0) -> Grade:
    return grade_incident(reach, velocity, PACK.grading)[0]


def test_a_death_is_red_and_still_a_casualty():
    assert _grade(Reach(author_count=1, posts=1, signals=["death", "casualty", "explosion"])) is Grade.RED
    assert _grade(Reach(author_count=1, posts=1, signals=["casualty", "explosion"])) is Grade.ORANGE


def test_a_leak_with_people_evacuated_is_major_and_either_alone_is_not():
    assert _grade(Reach(author_count=1, posts=1, signals=["leak", "evacuation"])) is Grade.ORANGE
    assert _grade(Reach(author_count=1, posts=1, signals=["leak"])) is Grade.YELLOW
    assert _grade(Reach(author_count=1, posts=1, signals=["evacuation"])) is Grade.YELLOW


def test_a_nuisance_told_as_a_headache_is_no_harm_but_ill_children_are():
    """"熏得人头昏" is how one barbecue's smoke is told (一般); illness at a school is 重大."""
    assert _grade(Reach(author_count=1, posts=1, signals=["illness"])) is Grade.BLUE
    assert _grade(Reach(author_count=1, posts=1, signals=["illness", "school"])) is Grade.ORANGE


def test_comments_under_one_post_are_not_new_reporters():
    """One post, six neighbours' comments, all negative, in one hour: 一般 (it was 较大 by six
    authors, by negativity and by seven posts an hour). Six residents each posting stays 较大."""
    thread = Reach()
    add_post(thread, _post("楼主", 0), _neg(), "individual")
    for i in range(1, 7):
        add_post(thread, _post(f"邻居{i}", i, reply_to=THREAD), _neg(), "individual")
    assert thread.author_count == 7 and thread.reporter_count == 1 and thread.reports == 1
    assert _grade(thread, velocity=7.0) is Grade.BLUE
    posts = Reach()
    for i in range(6):
        add_post(posts, _post(f"居民{i}", i), _neg(), "individual")
    assert _grade(posts, velocity=6.0) is Grade.YELLOW


def test_a_step_taken_counts_reporters_but_harm_counts_everyone_who_tells_it():
    """"打12345嘛" under a post is advice, not a second resident calling (petition combo, harm =
    false); "我家也是！水是黄的" is a second household's tap water (drinking water combo, harm)."""
    petition = Reach()
    add_post(petition, _post("楼主", 0), _neg(["petition"]), "individual")
    add_post(petition, _post("路人", 1, reply_to=THREAD), _neg(["petition"]), "individual")
    assert _grade(petition) is Grade.BLUE
    water = Reach()
    for i in range(3):
        add_post(water, _post(f"住户{i}", i, reply_to=THREAD if i else None), _neg(["drinking_water"]), "individual")
    assert _grade(water) is Grade.ORANGE


def test_an_official_account_answering_under_a_thread_is_no_report_but_an_outlet_reposting_is():
    official = Reach()
    add_post(official, _post("楼主", 0), _neg(), "individual")
    add_post(official, _post("江北发布", 1, reply_to=THREAD, source="江北发布"), _neg(), "official")
    assert official.reply_tiers == ["official"] and _grade(official) is Grade.BLUE
    outlet = Reach()
    add_post(outlet, _post("楼主", 0), _neg(), "individual")
    add_post(outlet, _post("上游新闻", 1, reply_to=THREAD, source="上游新闻"), _neg(), "provincial")
    assert _grade(outlet) is Grade.YELLOW
    # The official account's own report (not under a thread) is a report of its tier.
    add_post(official, _post("江北发布", 2, source="江北发布"), _neg(), "official")
    assert official.tiers == ["individual", "official"] and not official.reply_tiers
    assert _grade(official) is Grade.YELLOW


def test_a_row_stored_before_reads_every_post_as_a_report_and_merging_keeps_the_reporters():
    old = Reach.from_dict({"authors": ["a", "b", "c", "d", "e"], "author_count": 5, "posts": 5, "neg_sum": 4.5})
    assert old.reporter_count == 5 and old.reports == 5 and _grade(old) is Grade.YELLOW
    a, b = Reach(), Reach()
    add_post(a, _post("甲", 0), _neg(), "individual")
    add_post(b, _post("乙", 1), _neg(), "individual")
    add_post(b, _post("甲", 2, reply_to=THREAD), _neg(), "individual")
    both = combine(a, b)
    assert both.reporter_count == 2 and both.reports == 2 and both.author_count == 2
    again = Reach.from_dict(both.to_dict())
    assert (again.reporters, again.reporter_count, again.reports) == (["甲", "乙"], 2, 2)


# Round 11 (sev11): the guide's 较大 — a repeated 12345, a municipal outlet.
def test_a_repeated_12345_is_significant_even_from_one_resident():
    one = Reach(author_count=1, posts=1, reporter_count=1, reports=1, signals=["petition", "repeated"])
    assert _grade(one) is Grade.YELLOW
    assert _grade(Reach(author_count=1, posts=1, reporter_count=1, reports=1, signals=["petition"])) is Grade.BLUE
    assert _grade(Reach(author_count=1, posts=1, reporter_count=1, reports=1, signals=["repeated"])) is Grade.BLUE


def test_a_municipal_outlet_reports_it_at_least_significant():
    from alerts.grading import source_tier

    for source in ("重庆晚报", "慢新闻", "天天630"):
        post = RawPost(source=source, text="某垃圾站异味扰民", published_at=AT, url=f"https://news.example/{source}")
        assert source_tier(post, PACK.grading) == "provincial"
    reach = add_post(Reach(), RawPost(source="重庆晚报", text="x", published_at=AT, url="https://news.example/a"),
                     _neg(), "provincial")
    assert _grade(reach) is Grade.YELLOW

