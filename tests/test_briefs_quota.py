"""信息简报 quota: the month's tally equals the submissions, a submitter with none included; units
submit only their own; the export and the monthly summary say the same; the month is Beijing's."""

# ruff: noqa: F811  (pytest fixtures imported from the tests that define them, used as arguments)
from __future__ import annotations

import base64
import csv
import io
import json

import httpx
import pytest

from briefing.briefs_service import month_tally, render_tally, submit_brief
from briefing.quota import QuotaError, submitters
from tests.api_seed import UNIT_A, UNIT_B, login, seed_users
from tests.test_briefing import docx_tables, local
from tests.test_cli import run
from tests.test_special_report import jurisdiction  # noqa: F401  (fixture)


def test_tally_matches_submissions_including_a_unit_with_none(store, jurisdiction, settings, tmp_path):
    who = submitters(jurisdiction)
    kinds = {s.kind.value for s in who}
    assert kinds == {"street_or_town", "bureau_unit", "department"}
    assert all(s.code != "sthj" for s in who)  # the receiving bureau owes none
    # 石马河街道 two in December (one at 00:10 on the 1st, Beijing time), 观音桥街道 one, 城管 one;
    # a late-November one of 石马河 (23:50 on the 30th) belongs to November.
    submit_brief(store, jurisdiction, UNIT_A, "石马河黑臭水体整治进展", "本月完成清淤。", "石马河街道",
                 now=local(2026, 12, 1, 0, 10))
    submit_brief(store, jurisdiction, "石马河街道", "第二篇", "巡河。", "石马河街道",
                 files=[("巡河照片.jpg", "image/jpeg", b"\xff\xd8jpeg")], now=local(2026, 12, 15, 9))
    submit_brief(store, jurisdiction, UNIT_B, "观音桥噪声治理", "夜间施工巡查。", "观音桥街道",
                 now=local(2026, 12, 3, 9))
    submit_brief(store, jurisdiction, "cg", "城管油烟整治", "检查餐饮店。", "值班员", now=local(2026, 12, 4, 9))
    submit_brief(store, jurisdiction, UNIT_A, "十一月的", "上月。", "石马河街道", now=local(2026, 11, 30, 23, 50))
    rows = {r.submitter.name: r for r in month_tally(store, jurisdiction, "2026-12")}
    assert len(rows) == len(who)
    assert (rows["石马河街道"].submitted, rows["石马河街道"].behind) == (2, 0)
    assert (rows["观音桥街道"].submitted, rows["观音桥街道"].behind) == (1, 1)
    assert (rows["区城市管理局"].submitted, rows["区城市管理局"].behind) == (1, 0)
    assert (rows["鱼嘴镇"].submitted, rows["鱼嘴镇"].behind) == (0, 2)  # none at all: still a row
    assert (rows["区公安分局"].submitted, rows["区公安分局"].behind) == (0, 1)
    assert (rows["区生态环境监测站"].submitter.quota, rows["区生态环境监测站"].behind) == (2, 2)
    assert {r.submitter.name: r.submitted for r in month_tally(store, jurisdiction, "2026-11") if r.submitted} == {
        "石马河街道": 1}
    with store.read() as tx:
        assert sum(tx.brief_counts(local(2026, 12, 1), local(2027, 1, 1)).values()) == 4

    # The export and the monthly summary read back as the tally.
    exported = list(csv.reader(io.StringIO(render_tally(jurisdiction, "2026-12", list(rows.values()), "csv")
                                           .decode("utf-8-sig"))))
    by_name = {r[0]: r for r in exported[1:]}
    assert by_name["鱼嘴镇"] == ["鱼嘴镇", "街镇", "2", "0", "2", "未完成"]
    assert by_name["石马河街道"][3:] == ["2", "0", "已完成"]
    summary = docx_tables(render_tally(jurisdiction, "2026-12", list(rows.values()), "docx"))["报送情况"]
    assert summary[1:] == exported[1:]
    # The command line gives the same rows.
    lines = [json.loads(x) for x in run(["briefs-tally", "--month", "2026-12"], settings.data_dir).stdout.splitlines()]
    assert {x["name"]: (x["submitted"], x["behind"]) for x in lines} == {
        n: (r.submitted, r.behind) for n, r in rows.items()}
    bad = run(["briefs-tally", "--month", "2026-13"], settings.data_dir)
    assert bad.returncode == 2 and "YYYY-MM" in bad.stderr

    for args, message in (((UNIT_A, "", "x"), "标题"), ((UNIT_A, "t", " "), "正文"), (("某公司", "t", "x"), "不在")):
        with pytest.raises(QuotaError, match=message):
            submit_brief(store, jurisdiction, *args, "值班员")


def test_briefs_api_by_role(store, api_server):
    seed_users(store)
    unit_a, unit_b, duty, leader = (login(api_server, n) for n in ("unit_a", "unit_b", "duty1", "leader1"))
    body = {"title": "石马河巡河简报", "text": "本周巡河三次。",
            "attachments": [{"name": "巡河.txt", "mime": "text/plain", "content_base64": base64.b64encode(
                "巡河记录".encode()).decode()}]}
    made = httpx.post(f"{api_server}/api/briefs", headers=unit_a, json=body)
    assert made.status_code == 201 and made.json()["submitter"] == UNIT_A
    assert httpx.post(f"{api_server}/api/briefs", headers=unit_a, json={**body, "submitter": UNIT_B}).status_code == 403
    assert httpx.post(f"{api_server}/api/briefs", headers=leader, json=body).status_code == 403
    assert httpx.post(f"{api_server}/api/briefs", headers=duty, json=body).status_code == 422  # whose?
    assert httpx.post(f"{api_server}/api/briefs", headers=duty, json={**body, "submitter": "cg"}).status_code == 201
    bad64 = {**body, "attachments": [{"name": "x", "content_base64": "%%%"}]}
    assert httpx.post(f"{api_server}/api/briefs", headers=unit_a, json=bad64).status_code == 422
    # a media type that cannot be a Content-Type header (found by the fuzzer: the download was a 500)
    bad_mime = {**body, "attachments": [{**body["attachments"][0], "mime": "文本/纯文本"}]}
    assert httpx.post(f"{api_server}/api/briefs", headers=unit_a, json=bad_mime).status_code == 422
    mine = httpx.get(f"{api_server}/api/briefs/tally", headers=unit_b).json()
    assert [r["name"] for r in mine] == ["观音桥街道"] and mine[0]["behind"] == 2
    everyone = {r["name"]: r for r in httpx.get(f"{api_server}/api/briefs/tally", headers=leader).json()}
    assert everyone["石马河街道"]["submitted"] == 1 and everyone["区城市管理局"]["behind"] == 0
    file_url = api_server + made.json()["files"][0]["url"]
    assert httpx.get(file_url, headers=unit_a).content == "巡河记录".encode()
    assert httpx.get(file_url, headers=unit_b).status_code == 404
    assert httpx.get(f"{api_server}/api/briefs", headers=unit_b).json() == []
    export = httpx.get(f"{api_server}/api/briefs/tally/export?format=csv", headers=leader)
    assert export.status_code == 200 and "石马河街道" in export.content.decode("utf-8-sig")
    assert httpx.get(f"{api_server}/api/briefs/tally/export", headers=unit_a).status_code == 403
    for month in ("2026-13", "0000-01"):  # not a month, a year out of range: 422, never 500
        assert httpx.get(f"{api_server}/api/briefs/tally?month={month}", headers=leader).status_code == 422


def test_tally_csv_cells_cannot_be_formulas():
    from briefing.quota import Submitter, TallyRow, to_csv
    from core.sharing import SubmitterKind

    # A bureau unit's name comes from the pack's list, typed by whoever keeps it.
    rows = [TallyRow(Submitter("x", "=HYPERLINK(\"http://evil\",\"点我\")", SubmitterKind.BUREAU_UNIT), 0),
            TallyRow(Submitter("y", "@SUM(1+1)", SubmitterKind.BUREAU_UNIT), 2)]
    cells = list(csv.reader(io.StringIO(to_csv(rows).decode("utf-8-sig"))))
    assert [c[0] for c in cells[1:]] == ["'=HYPERLINK(\"http://evil\",\"点我\")", "'@SUM(1+1)"]
    assert cells[2][3:5] == ["2", "0"]  # numbers stay numbers
