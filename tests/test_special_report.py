"""The special report (舆情专报) of one incident, from a real store and the real workflow: every
figure of the DOCX read back equals the records, quotes are verbatim with their links, crawled text
is inert in the HTML, 下一步建议 is left blank, versions are numbered and kept."""

# ruff: noqa: F811  (pytest fixtures imported from the tests that define them, used as arguments)
from __future__ import annotations

import io
import json

import docx
import pytest

from alerts import actions
from alerts.grading import Reach
from briefing.report_service import build_special_report, keep_special_report
from briefing.special_report import SpecialReportError, render
from core.errors import NotFoundError
from core.models import PostRole, RawPost
from core.sharing import ReportKind
from tests.test_briefing import add, config, docx_tables, incident_of, jurisdiction, local  # noqa: F401  (fixtures)

GYQ = "500105006000"  # 观音桥街道


def seed_major(store, analyzer, config):
    """A 重大 incident in 观音桥: three residents' posts (one carrying markup and a javascript: link),
    assigned, signed, responded, and the street's public reply attached."""
    p1 = add(store, analyzer, config, "观音桥街道建新北路化工仓库泄漏，刺鼻气味弥漫整个小区，好几个老人头晕送医院了。",
             local(2026, 12, 1, 9), "居民甲", "https://weibo.example/leak1", reposts=500, comments=120, likes=30)
    inc = incident_of(store, p1)
    p2 = add(store, analyzer, config,
             "建新北路化工仓库泄漏的气味到现在还没散，<script>alert(1)</script>小区里孩子都在咳嗽。",
             local(2026, 12, 1, 11), "居民乙", "javascript:alert(2)", reposts=40, comments=10)
    p3 = add(store, analyzer, config, "观音桥建新北路化工仓库泄漏第二天，刺鼻味道还在，希望尽快查明原因。",
             local(2026, 12, 2, 9), "居民丙", "https://weibo.example/leak3", likes=7)
    for pid in (p2, p3):
        assert incident_of(store, pid).id == inc.id
    if inc.grade.value != "orange":
        actions.override_grade(store, config, inc.id, "orange", "值班员", "群众送医，按重大事件处置",
                               now=local(2026, 12, 1, 9, 30))
    if inc.state.value == "new":
        actions.assign(store, config, inc.id, GYQ, "值班员", now=local(2026, 12, 1, 9, 40))
    actions.sign(store, config, inc.id, "观音桥街道", now=local(2026, 12, 1, 10))
    actions.respond(store, config, inc.id, "观音桥街道", "已组织环境监测，疏散周边群众", now=local(2026, 12, 1, 12))
    with store.begin() as tx:  # the street's 通报, a follow-up (it adds nothing to the reach)
        notice = "观音桥街道关于建新北路仓库异味的情况通报：经核查已处置。"
        reply = tx.add_posts([RawPost(source="江北发布", text=notice,
                                      author="观音桥街道", url="https://gov.example/notice",
                                      published_at=local(2026, 12, 1, 15))], now=local(2026, 12, 1, 15)).new_ids[0]
        tx.attach_post(inc.id, reply, local(2026, 12, 1, 15), PostRole.OFFICIAL)
        current = tx.get_incident(inc.id)
        current.public_reply_at = local(2026, 12, 1, 15)
        tx.update_incident(current)
    return inc.id, [p1, p2, p3], reply


def test_every_figure_of_the_docx_equals_the_records(store, analyzer, config, jurisdiction):
    incident_id, reports, _ = seed_major(store, analyzer, config)
    now = local(2026, 12, 2, 10)
    report = build_special_report(store, jurisdiction, incident_id, now=now)
    assert (report.kind, report.seq) == (ReportKind.FIRST, 1)

    with store.read() as tx:
        inc = tx.get_incident(incident_id)
        rows = tx.incident_post_rows(incident_id)
    reach = Reach.from_dict(inc.reach)
    report_rows = [(p, a) for p, a, role in rows if role is PostRole.REPORT]
    negative = sum(a is not None and a.polarity.value == "neg" for _, a in report_rows)
    assert sorted(p.id for p, _ in report_rows) == sorted(reports)

    tables = docx_tables(render(report, "docx"))
    spread = dict(tables["传播数据"][1:])
    assert spread["相关帖文"] == "3" and spread["后续回应及反馈"] == "1"
    assert spread["作者"] == str(reach.author_count) == "3"
    assert [spread["转发"], spread["评论"], spread["点赞"]] == [str(reach.reposts), str(reach.comments),
                                                           str(reach.likes)]
    assert spread["传播量合计"] == str(reach.total) == str(540 + 130 + 37)
    assert spread["负面帖文"] == str(negative)
    basics = dict(tables["基本情况"][1:])
    assert basics["等级"] == "重大" and basics["属地"].startswith("观音桥街道") and basics["状态"] == "已回应"
    by_day = {d: (int(n), int(neg)) for d, n, neg in tables["分日走势"][1:]}
    assert by_day == {"12-01": (2, sum(a.polarity.value == "neg" for p, a in report_rows if p.id in reports[:2])),
                      "12-02": (1, sum(a.polarity.value == "neg" for p, a in report_rows if p.id == reports[2]))}
    assert tables["信息来源"][1:] == [["weibo", "3"]]
    assert [r[0] for r in tables["交办情况"][1:]] == ["观音桥街道"]
    steps = {r[1]: r[3] for r in tables["办理过程"][1:]}
    assert steps["签收"] == "—" and steps["回应"] == "已组织环境监测，疏散周边群众"

    document = docx.Document(io.BytesIO(render(report, "docx")))
    text = [p.text for p in document.paragraphs]
    # 网民关注点: verbatim sentences of the residents' posts, each followed by its link line.
    with store.read() as tx:
        for quote in report.quotes:
            assert quote.post_id in reports and quote.text.rstrip("…") in tx.get_post(quote.post_id).text
    assert any("https://weibo.example/leak1" in t for t in text)
    assert any("官方回应｜江北发布" in t and "https://gov.example/notice" in t for t in text)
    # 下一步建议 is the officer's: a heading, the hint, empty lines, nothing generated.
    start = text.index("五、下一步建议")
    assert text[start + 1] == "（由值班人员填写）"
    assert all(t == "" for t in text[start + 2:start + 8]) and text[start + 8].startswith("说明：")


def test_crawled_text_is_inert_in_html(store, analyzer, config, jurisdiction):
    incident_id, _, _ = seed_major(store, analyzer, config)
    html = render(build_special_report(store, jurisdiction, incident_id, now=local(2026, 12, 2,10)), "html").decode()
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    assert 'href="javascript:' not in html
    assert '<a href="https://weibo.example/leak1"' in html


def test_versions_are_numbered_kept_and_checked(store, analyzer, config, jurisdiction):
    incident_id, _, _ = seed_major(store, analyzer, config)
    first = keep_special_report(store, build_special_report(store, jurisdiction, incident_id,
                                                            now=local(2026, 12, 1, 10)), "值班员")
    with pytest.raises(SpecialReportError, match="已有首报"):
        build_special_report(store, jurisdiction, incident_id, ReportKind.FIRST, now=local(2026, 12, 1, 11))
    second = build_special_report(store, jurisdiction, incident_id, now=local(2026, 12, 2, 10))
    assert (second.kind, second.seq) == (ReportKind.FOLLOWUP, 2)
    stale = build_special_report(store, jurisdiction, incident_id, now=local(2026, 12, 2, 10))
    keep_special_report(store, second, "值班员")
    with pytest.raises(SpecialReportError, match="刚由他人生成"):  # two officers at once: one wins
        keep_special_report(store, stale, "值班员乙")
    with store.read() as tx:
        kept = tx.special_reports_of(incident_id)
        assert [(k.kind, k.seq) for k in kept] == [("first", 1), ("followup", 2)]
        assert kept[0].figures["posts"] == 3 and first.id == kept[0].id
        assert tx.special_report_document(first.id, "docx")[:2] == b"PK"
    # A 一般 incident and an unknown one get a clear error.
    quiet = add(store, analyzer, config, "石马河街道南桥寺社区垃圾桶有点满了", local(2026, 12, 3, 9), "居民丁",
                "https://weibo.example/q")
    with pytest.raises(SpecialReportError, match="较大及以上"):
        build_special_report(store, jurisdiction, incident_of(store, quiet).id, now=local(2026, 12, 3, 10))
    with pytest.raises(NotFoundError):
        build_special_report(store, jurisdiction, 9999)


def test_report_from_the_command_line(store, analyzer, config, settings, tmp_path):
    from tests.test_cli import run

    incident_id, _, _ = seed_major(store, analyzer, config)
    out = tmp_path / "专报.docx"
    proc = run(["report", str(incident_id), "--format", "docx", "--out", str(out), "--now",
                "2026-12-01T10:00:00+08:00"], settings.data_dir)
    assert proc.returncode == 0, proc.stderr
    line = json.loads(proc.stdout)
    assert (line["kind"], line["seq"], line["posts"]) == ("first", 1, 3) and line["report_id"]
    assert dict(docx_tables(out.read_bytes())["传播数据"][1:])["相关帖文"] == "3"
    again = run(["report", str(incident_id), "--kind", "first", "--out", str(out)], settings.data_dir)
    assert again.returncode == 2 and "已有首报" in again.stderr and "Traceback" not in again.stderr
    html = tmp_path / "draft.html"
    preview = run(["report", str(incident_id), "--format", "html", "--out", str(html), "--preview"], settings.data_dir)
    assert json.loads(preview.stdout)["report_id"] is None and "续报" in html.read_text(encoding="utf-8")


def test_control_characters_cannot_break_the_docx():
    """Crawled or typed text with control characters (a reason typed with a stray \\x07, a post with
    NUL) still gives a Word document; the characters are dropped, the rest is kept."""
    from briefing.layout import Block
    from briefing.render_docx import render_blocks_docx

    data = render_blocks_docx("专报\x01", [Block("p", "石马河\x00黑臭\x07"),
                                          Block("table", "表", ["项\x0b"], [["值\x1f"]])], {})
    document = docx.Document(io.BytesIO(data))
    assert document.paragraphs[0].text == "石马河黑臭" and docx_tables(data)["表"] == [["项"], ["值"]]


def test_bidi_and_invisible_characters_are_neutralised_in_the_docx():
    """A crawled title with U+202E shows reversed in Word ("\u202e告报" reads "报告"); zero-width
    spaces hide a word. The DOCX drops them as the HTML does (core.display_text.displayable)."""
    from briefing.layout import Block
    from briefing.render_docx import render_blocks_docx

    data = render_blocks_docx("专报\u202e", [Block("p", "\u202e告报\u200b黑臭\u2066"),
                                            Block("quote", "居民\u200f说", ref="微博\u202d"),
                                            Block("table", "表\ufeff", ["项\u2067"], [["\u202a值\u202c"]])], {})
    document = docx.Document(io.BytesIO(data))
    texts = [p.text for p in document.paragraphs]
    assert texts[0] == "告报黑臭" and texts[1] == "“居民说”（微博）"
    assert docx_tables(data)["表"] == [["项"], ["值"]] and document.core_properties.title == "专报"


def test_departments_opinions_are_in_the_handling_of_the_report_and_the_weekly(store, analyzer, config, jurisdiction):
    from alerts.copies import copy_to, reply
    from briefing.period import iso_week
    from briefing.service import build_briefing
    from briefing.service import render as render_briefing
    from core.passwords import hash_password

    incident_id, _, _ = seed_major(store, analyzer, config)
    with store.begin() as tx:
        tx.add_user("住建委会办", "department", None, hash_password("password-123"), local(2026, 12, 1),
                    department_code="zj")
    copy_to(store, config, incident_id, "zj", "值班员", "请核查仓库建设审批情况", now=local(2026, 12, 1, 13))
    reply(store, config, incident_id, "住建委会办", "经核查，该仓库无建设审批手续，已责令停用。",
          now=local(2026, 12, 1, 18))
    reply(store, config, incident_id, "住建委会办", "后续：已立案调查。", now=local(2026, 12, 3, 9))  # after as_of

    tables = docx_tables(render(build_special_report(store, jurisdiction, incident_id, now=local(2026, 12, 2, 10)),
                                "docx"))
    assert tables["部门会办意见"] == [["时间", "部门", "回复人", "会办意见"],
                                      ["12-01 18:00", "区住房城乡建委", "住建委会办",
                                       "经核查，该仓库无建设审批手续，已责令停用。"]]
    steps = [(r[1], r[3]) for r in tables["办理过程"][1:]]
    assert ("抄送部门", "区住房城乡建委；请核查仓库建设审批情况") in steps
    text = [p.text for p in docx.Document(io.BytesIO(render(
        build_special_report(store, jurisdiction, incident_id, now=local(2026, 12, 2, 10)), "docx"))).paragraphs]
    assert "相关部门会办：共收到 1 个部门的会办意见 1 条（原文如下）。" in text

    weekly = build_briefing(store, jurisdiction, iso_week("2026-W49"), local(2026, 12, 7, 9), {"weibo": 24})
    rows = docx_tables(render_briefing(weekly, "docx"))["部门会办意见"][1:]
    assert [r[3] for r in rows] == ["经核查，该仓库无建设审批手续，已责令停用。", "后续：已立案调查。"]
