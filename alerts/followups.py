"""What a relevant post is to an event: a report of it, or a follow-up on its public-response
timeline (official reply, progress, praise, "still not fixed") (pure).

Why a separate rule: a street's 通报 ("经核查……已责令整改"), a resident's "终于清完了" and a
"说好的处理呢，还是老样子" are part of the event an officer follows, and the seed asks the bureau
to show whether the responsible unit answered in public. Left to the report rule, the neutral and
positive ones were dropped and some opened incidents of their own. The cue words are the pack's
``[followups]`` table.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from core.jurisdiction import Unit
from core.models import Analysis, Polarity, PostRole, RawPost


def _has(text: str, words: Any) -> bool:
    return any(w and w in text for w in (words or ()))


# Signals that make a post a report whatever else it says: news of a fire "正在扑救" or of a leak
# "正在处置" is the first word of an accident, not progress on a complaint.
ACCIDENT_SIGNALS = frozenset({"casualty", "poisoning", "illness", "leak", "explosion", "drinking_water", "protest",
                              "gathering"})


def answers_the_writer(opening: str, policy: Mapping[str, Any]) -> bool:
    """Whether a text opens as an answer to the person who complained: one of the pack's
    ``answer_openings``, an addressee greeted (``answer_addressees`` and ``answer_salutations``:
    "尊敬的网友：您好", "网友“A000…”：您好！", "市民同志：你好"), or an answer phrase
    (``answer_phrases``: "您所反映的问题", "来信收悉", "留言已阅").

    Why not the openings alone: real 问政 replies greet the writer in a dozen ways and name them in
    between ("网友“A00077538”：您好！针对您反映…"); the fixed openings found the voice in 46 of 120
    real replies (``../shared/data/complaints/teddycup2020_messages_with_replies.csv``), and a
    reply without it that reads negative opened an incident of its own. A resident's letter
    greets a leader ("尊敬的领导：您好"), not a 网友."""
    if _has(opening, policy.get("answer_openings")) or _has(opening, policy.get("answer_phrases")):
        return True
    return _has(opening, policy.get("answer_addressees")) and _has(opening, policy.get("answer_salutations"))


def official_voice(post: RawPost, policy: Mapping[str, Any]) -> bool:
    """Whether a post speaks for an office: an official author (``official_authors``: a street's
    or bureau's account), an official voice (``official_voice``: 我街道, 我局…) anywhere, or an
    answer to the writer (:func:`answers_the_writer`) in its first ``opening_chars`` characters."""
    text = post.full_text
    return (_has(post.author or "", policy.get("official_authors")) or _has(text, policy.get("official_voice"))
            or answers_the_writer(text[:int(policy.get("opening_chars", 40))], policy))


def post_role(post: RawPost, analysis: Analysis, policy: Mapping[str, Any], tier: str = "individual") -> PostRole:
    """The role a relevant post takes in the incident it joins.

    - An answer (``official_cues``: 经核查, 已责令, 情况通报…) by an official author
      (``official_authors``: a street's or bureau's account; not any post on a government board:
      residents write there too), or in an official voice (``official_voice``: 我街道, 我局…
      anywhere, or an answering opening such as "网友您好", "关于网民反映" in the first
      ``opening_chars`` characters), is ``official``,
      whatever its tone. A resident's letter that asks the 街道办事处 to 督促 someone is not: the
      voice decides, not the words. An official source's first report of an accident (no
      answering words) stays a report, so it can open an incident.
    - A news outlet's or an official account's post (``tier`` not "individual",
      ``alerts.grading.source_tier``) telling of work under way (``progress_cues``: 正在打捞,
      挖机正在, 整改中…) is ``progress`` even when it reads negative (it restates the harm), unless
      it tells of an accident (``ACCIDENT_SIGNALS``): news of work on a complaint opened incidents.
    - A negative post saying the promise or the fix did not hold (``unresolved_cues``), or a
      neutral one saying so with a relapse (``relapse_cues``: "下了整改通知又怎样，今天路过还是在
      路边喷"), is ``unresolved``; it still counts as a complaint (it may reopen a closed incident).
    - A negative post telling of the fix (``improvement_cues``: 现在好多了, 灰小多了, 清走了) is
      ``progress`` unless it tells of an accident or a relapse (``relapse_cues``): the harm it
      names is the past one (a resident's "寸滩那个垃圾站拆了，以前臭得要死，现在好多了" opened an
      incident).
    - Any other negative post is a ``report``.
    - A positive one is ``praise``; a neutral one ``progress``.
    """
    text = post.full_text
    if official_voice(post, policy) and _has(text, policy.get("official_cues")):
        return PostRole.OFFICIAL
    if (tier != "individual" and _has(text, policy.get("progress_cues"))
            and ACCIDENT_SIGNALS.isdisjoint(analysis.signals)):
        return PostRole.PROGRESS
    # "约谈完安静了两天，今晚又开始了" reads neutral by its words: a promise and a relapse
    # (``relapse_cues``) make it a "still not fixed" whatever its tone.
    if _has(text, policy.get("unresolved_cues")) and (
            analysis.polarity is Polarity.NEG
            or (analysis.polarity is Polarity.NEU and _has(text, policy.get("relapse_cues")))):
        return PostRole.UNRESOLVED
    if analysis.polarity is Polarity.NEG:
        # "以前臭得要死，现在好多了" reads negative by its words and tells of the fix; an accident
        # ("几个人头晕恶心，已经被120拉走了") is a report whatever it says.
        # A relapse ("整治完清亮了一阵，现在又回去了") is a complaint.
        fixed = (_has(text, policy.get("improvement_cues")) and not _has(text, policy.get("relapse_cues"))
                 and ACCIDENT_SIGNALS.isdisjoint(analysis.signals))
        return PostRole.PROGRESS if fixed else PostRole.REPORT
    return PostRole.PRAISE if analysis.polarity is Polarity.POS else PostRole.PROGRESS


def speaks_to_the_thread(post: RawPost, analysis: Analysis, role: PostRole, environmental: Callable[[], float],
                         policy: Mapping[str, Any]) -> bool:
    """Whether a comment collected under a thread (``reply_to``) speaks to the thread's matter, so
    it joins the thread's incident even when it names no place and no medium ("我家老汉一晚上醒了
    四回", "冲了一天，第二天照样臭"); or is chatter that happens to sit there ("沙发，坐等后续",
    "楼主这个盘二手房啥价格", "外卖又送错了"), which joins nothing.

    A comment and its thread share no word in most cases, so the words cannot decide. What does,
    measured over 272 comment lines of the development sets (incidents_dev_a–g, dev4, dev7–9; 231
    about an event, 41 not): an official answer or a "still not fixed" (``unresolved_cues``), a
    topic or an accident signal in the analysis, or a tone (negative or positive: a complaint,
    thanks) together with the relevance model's environmental probability (``environmental()``,
    asked only then: it is a second pass over the text's features) at ``thread_min_environmental``
    or more. Tone alone let 22 of the 41 off-topic comments in; with
    the probability at 0.15, 11, losing 1 of 231 ("去年修过一回，这才几个月又堵了", 0.09). A
    neutral comment with none of these is chatter. Never an advert (``advert_cues``: a shop
    reposting the thread to sell water filters carries its words) and never a post pointing at
    another district (``analysis.elsewhere``)."""
    if analysis.elsewhere or _has(post.full_text, policy.get("advert_cues")):
        return False
    if (role in (PostRole.OFFICIAL, PostRole.UNRESOLVED) or analysis.topics
            or not ACCIDENT_SIGNALS.isdisjoint(analysis.signals)):
        return True
    return (analysis.polarity is not Polarity.NEU
            and environmental() >= float(policy.get("thread_min_environmental", 0.0)))


def opens(role: PostRole) -> bool:
    """Whether a post in this role may open an incident (only complaints and reports may)."""
    return role in (PostRole.REPORT, PostRole.UNRESOLVED)


def author_unit(author: str | None, units: Iterable[Unit]) -> Unit | None:
    """The unit an official account speaks for, by the unit's name in the account's
    ("鱼嘴镇人民政府", "石马河街道发布", "观音桥街道办事处"); None when it names none or several.

    Why: a reply often names no place of its own ("关于群众反映港区夜间作业噪声的回复：我镇已与港口
    运营方沟通……"); the account that posts it is its place, as it is to an officer."""
    if not author:
        return None
    named = [u for u in units if u.name in author]
    return named[0] if len(named) == 1 else None


def answers_back(post: RawPost, analysis: Analysis, role: PostRole, policy: Mapping[str, Any]) -> bool:
    """Whether a post has the form of a follow-up, so it may join (never open) a matching incident
    even when the environmental model doubts it: an official answer, a "still not fixed", or a
    resident telling of the fix (``improvement_cues``: "灰确实少了", "不冒了", "闻不到了").

    Why: the model judges a post by its own words, and a reply or a thank-you names the harm
    briefly or not at all ("网民朋友：您所反映的问题已收悉。经核查，该采石场已于本周停产整顿" came out
    not environmental on incidents_dev_h); the incident it answers is the context that makes it
    ours. Not a post pointing at another district, nor an advert; a plain positive post ("九街新开的
    烧烤店味道巴适") has no such form and stays out: it would join the smoke complaint about 九街."""
    if analysis.elsewhere or _has(post.full_text, policy.get("advert_cues")):
        return False
    return role in (PostRole.OFFICIAL, PostRole.UNRESOLVED) or _has(post.full_text, policy.get("improvement_cues"))


def household_accident(post: RawPost, analysis: Analysis, policy: Mapping[str, Any]) -> bool:
    """Whether a post telling of an accident tells of one in a home (``household_cues``: 燃气, 煤气,
    天然气, 厨房): a gas leak behind a neighbour's door is 燃气安全, not an environmental accident, and
    it must not join (nor be taken for a comment on) a leak or a tap-water incident nearby (it joined
    寸滩's tap-water incident on incidents_dev_h by the leak signal alone)."""
    return not ACCIDENT_SIGNALS.isdisjoint(analysis.signals) and _has(post.full_text, policy.get("household_cues"))


def writes_back(post: RawPost, role: PostRole, tier: str, policy: Mapping[str, Any]) -> bool:
    """Whether a post is a resident's word on a matter they posted about before, so it joins the
    incident of its writer's latest post (``Tx.author_incident``): a named individual's praise,
    progress or "still not fixed" (``tier`` "individual", ``alerts.grading.source_tier``; an
    author that is not a placeholder of ``anonymous_authors``: 网友, 匿名, 居民…).

    Why: "路铺完了，终于没有那个味道了", "回复说停了，今天下午又在门口喷" name little and come days
    later; their words meet no incident, or the wrong matter of the street, and they have no
    thread. But who writes them says which matter they mean: on the development sets
    (incidents_dev_a–i and _m, written by nine authoring sessions) a resident who posts a
    follow-up had last posted about the same event in 135 of 153 cases, and never about another
    one (the other 18 had posted nothing before). An official account answers many
    matters, so a post in an office's voice (:func:`official_voice`: "鱼嘴镇人民政府" — "您好！您
    反映的排口泡沫问题，我镇已配合……", read as progress for want of an answering cue) is left to
    its words: it took the town's earlier answered matter by its account on incidents_dev_m."""
    author = (post.author or "").strip()
    return (role in (PostRole.PROGRESS, PostRole.PRAISE, PostRole.UNRESOLVED)
            and bool(author) and author not in (policy.get("anonymous_authors") or ())
            and tier == "individual" and not official_voice(post, policy))
