"""Learning from the duty desk: corrections through the API become labels, the labels export in
the ``ecowatch eval`` format and score there, reads write none, and every correction is undone
cleanly (issue 14)."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import httpx

from core.models import Analysis, Polarity, RawPost, State
from tests.api_seed import UNIT_A, UNIT_B, add_incident, seed_users, token_headers
from tests.conftest import TEST_SECRET

ROOT = Path(__file__).resolve().parents[1]
OPENED = dt.datetime(2026, 11, 30, 2, 0, tzinfo=dt.UTC)


def add_post(store, incident_id: int, text: str, *, topic: str = "water", unit_code: str | None = UNIT_A,
             author: str = "居民", at: dt.datetime = OPENED) -> int:
    """Another analysed post in an incident."""
    post = RawPost(source="test-feed", text=text, url=f"https://example.invalid/{abs(hash(text))}", author=author,
                   published_at=at, fetched_at=at, engagement={"comments": 3})
    analysis = Analysis(relevant=True, unit="石马河街道" if unit_code == UNIT_A else None, unit_code=unit_code,
                        confidence=0.9, topics=[topic], polarity=Polarity.NEG, sentiment=0.1)
    with store.begin() as tx:
        post_id = tx.add_posts([post], at).new_ids[0]
        tx.claim_post(post_id, at)
        tx.save_analysis(post_id, analysis, at)
        tx.attach_post(incident_id, post_id, at)
    return post_id


def three_incidents(store, at: dt.datetime) -> dict[str, int]:
    """A street's wrong incident (北城天街 is 观音桥's), one that is not ours (宁波's 江北), and one
    with two posts of which one is another matter (工地噪声): ids by name, and the noise post's."""
    ids = {"moved": add_incident(store, title="北城天街油烟", text="观音桥北城天街楼下餐馆油烟熏人", unit_code=UNIT_A,
                                 unit="石马河街道", topic="air", opened_at=at),
           "elsewhere": add_incident(store, title="姚江臭味", text="宁波江北区姚江边上臭味好大", unit_code=UNIT_A,
                                     unit="石马河街道", opened_at=at),
           "mixed": add_incident(store, title="石马河排污", text="石马河边排污口冒黑水", unit_code=UNIT_A,
                                 unit="石马河街道", opened_at=at)}
    ids["noise"] = add_post(store, ids["mixed"], "石马河立交工地半夜打桩吵死人", topic="noise", at=at)
    return ids


def labels_of(store):
    with store.read() as tx:
        return tx.live_labels()


def post_ids(base, headers, incident_id):
    return [p["id"] for p in httpx.get(f"{base}/api/incidents/{incident_id}", headers=headers).json()["posts"]]


def _cli(args, data_dir):
    env = dict(os.environ, ECOWATCH_DATA_DIR=str(data_dir))
    return subprocess.run([sys.executable, "-m", "ecowatch.cli", *args], capture_output=True, text=True,
                          timeout=300, check=False, env=env, cwd=ROOT)


def test_corrections_through_the_api_become_labels_that_round_trip_into_eval(store, api_server, settings,
                                                                            tmp_path):
    seed_users(store)
    base = api_server
    duty, leader = token_headers("duty1", TEST_SECRET), token_headers("leader1", TEST_SECRET)
    unit_b = token_headers("unit_b", TEST_SECRET)

    wrong_unit = add_incident(store, title="观音桥北城天街油烟", text="观音桥北城天街楼下餐馆油烟熏人",
                              unit_code=UNIT_A, unit="石马河街道", topic="air", opened_at=OPENED)
    elsewhere = add_incident(store, title="江北区姚江边臭味", text="宁波江北区姚江边上臭味好大", unit_code=UNIT_A,
                             unit="石马河街道", opened_at=OPENED)
    mixed = add_incident(store, title="石马河排污", text="石马河边排污口冒黑水", unit_code=UNIT_A, unit="石马河街道",
                         opened_at=OPENED)
    other_matter = add_post(store, mixed, "石马河立交工地半夜打桩吵死人，我电话13812345678，邮箱 shui@example.com",
                            topic="noise", author="睡不着",
                            at=OPENED + dt.timedelta(hours=1))
    add_post(store, mixed, "石马河排污口还在冒黑水，臭", author="河边住户", at=OPENED + dt.timedelta(hours=2))
    regraded = add_incident(store, title="石马河死鱼", text="石马河一大片死鱼", unit_code=UNIT_A, unit="石马河街道",
                            opened_at=OPENED)

    # A leader reads everything: no label is written by reading.
    for path in (f"/api/incidents/{wrong_unit}", "/api/incidents", "/api/stats"):
        assert httpx.get(base + path, headers=leader).status_code == 200
    assert labels_of(store) == []

    # 改派 (wrong unit), 误报 (not in this jurisdiction), 拆分, 调整等级: each through its endpoint.
    r = httpx.post(f"{base}/api/incidents/{wrong_unit}/reassign", headers=duty,
                   json={"unit_code": UNIT_B, "reason": "北城天街属观音桥街道"})
    assert r.status_code == 200, r.text
    r = httpx.post(f"{base}/api/incidents/{elsewhere}/dismiss", headers=duty,
                   json={"scope": "jurisdiction", "reason": "说的是宁波市江北区"})
    assert r.status_code == 200 and r.json()["state"] == "closed", r.text
    r = httpx.post(f"{base}/api/incidents/{mixed}/split", headers=duty,
                   json={"post_ids": [other_matter], "reason": "工地噪声是另一件事"})
    assert r.status_code == 200, r.text
    detail = httpx.get(f"{base}/api/incidents/{mixed}", headers=duty).json()
    split_entry = next(a for a in detail["audit"] if a["action"] == "split")
    new = split_entry["detail"]["into"]
    assert other_matter not in [p["id"] for p in detail["posts"]] and post_ids(base, duty, new) == [other_matter]
    assert httpx.post(f"{base}/api/incidents/{regraded}/grade", headers=duty,
                      json={"grade": "orange", "reason": "大面积死鱼"}).status_code == 200
    # The unit now responsible puts the topic of its post right: a unit's correction counts too.
    (bad_topic,) = post_ids(base, unit_b, wrong_unit)
    r = httpx.post(f"{base}/api/incidents/{wrong_unit}/edit", headers=unit_b,
                   json={"post_id": bad_topic, "polarity": "neg", "topic": "air"})
    assert r.status_code == 200, r.text

    by_kind: dict[str, list] = {}
    for label in labels_of(store):
        by_kind.setdefault(label.kind, []).append(label)
    assert set(by_kind) == {"wrong_unit", "not_relevant", "split", "regraded", "edited"}
    (unit_label,) = by_kind["wrong_unit"]
    assert unit_label.fields["unit_code"] == UNIT_B and unit_label.actor == "duty1" and unit_label.at is not None
    (dismissed,) = by_kind["not_relevant"]
    assert dismissed.fields["relevant"] is False and dismissed.fields["event"] is None
    split_events = {lab.post_id: lab.fields["event"] for lab in by_kind["split"]}
    assert split_events[other_matter] == f"incident-{new}" and len(set(split_events.values())) == 2
    assert {lab.fields["grade"] for lab in by_kind["regraded"]} == {"orange"}
    assert by_kind["edited"][0].actor == "unit_b"

    # Export: one line per post, in the eval format, and scored by ``ecowatch eval``.
    out = tmp_path / "labels.jsonl"
    proc = _cli(["labels", "export", "--out", str(out)], settings.data_dir)
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert len(lines) == len({lab.post_id for lab in labels_of(store)})
    line = next(x for x in lines if x["post_id"] == bad_topic)
    assert line["unit_code"] == UNIT_B and line["topic"] == "air" and set(line["fields"]) >= {"unit_code", "topic"}
    assert line["by"] == ["duty1", "unit_b"] and line["predicted"]["unit_code"] == UNIT_A
    assert next(x for x in lines if x["incident_id"] == elsewhere)["relevant"] is False
    for x in lines:
        assert {"text", "relevant", "unit_code", "topic", "polarity", "event", "grade"} <= x.keys()
    proc = _cli(["eval", "--json", str(out)], settings.data_dir)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["lines"] == len(lines) and "incidents" in report  # lines with events are replayed too

    # Anonymised: no author, address or officer; contact data never leaves.
    anon = _cli(["labels", "export", "--anonymise"], settings.data_dir)
    assert anon.returncode == 0, anon.stderr
    rows = [json.loads(x) for x in anon.stdout.splitlines()]
    assert rows and all("by" not in x and "author" not in x and "url" not in x for x in rows)
    assert "duty1" not in anon.stdout and "睡不着" not in anon.stdout
    # Contact data never leaves, anonymised or not.
    assert "13812345678" not in out.read_text(encoding="utf-8") + anon.stdout and "shui@" not in anon.stdout
    assert "[电话]" in anon.stdout and "[邮箱]" in anon.stdout


def test_each_correction_is_undone_and_its_labels_retracted(store, api_server):
    seed_users(store)
    base, duty = api_server, token_headers("duty1", TEST_SECRET)
    iid = add_incident(store, title="石马河排污", text="石马河边排污口冒黑水", unit_code=UNIT_A, unit="石马河街道",
                       state=State.SIGNED, opened_at=OPENED)
    extra = add_post(store, iid, "石马河立交工地半夜打桩", topic="noise")
    other = add_incident(store, title="石马河噪声", text="石马河工地夜间施工", unit_code=UNIT_A, unit="石马河街道",
                         topic="noise", opened_at=OPENED)

    def act(incident_id, action, body=None):
        return httpx.post(f"{base}/api/incidents/{incident_id}/{action}", headers=duty, json=body)

    assert act(iid, "undo").status_code == 409  # nothing to undo yet, in Chinese
    assert "没有可以撤销的更正" in act(iid, "undo").json()["detail"]
    # Refused corrections change nothing: all posts split off, a post of another incident.
    assert act(iid, "split", {"post_ids": post_ids(base, duty, iid), "reason": "x"}).status_code == 409
    assert act(iid, "move", {"post_ids": post_ids(base, duty, other), "into": other}).status_code == 409
    assert labels_of(store) == []

    # 误报 of the whole incident, undone: the state comes back, the label goes.
    assert act(iid, "dismiss", {"scope": "environment", "reason": "不是环境问题"}).json()["state"] == "closed"
    assert {lab.kind for lab in labels_of(store)} == {"not_relevant"}
    assert act(iid, "undo", {"reason": "看错了"}).json()["state"] == "signed"
    assert labels_of(store) == []
    # 误报 of one post, 移帖, 拆分, 修正: each undone in turn, latest first.
    assert act(iid, "dismiss", {"scope": "environment", "reason": "无关", "post_ids": [extra]}).status_code == 200
    assert extra not in post_ids(base, duty, iid)
    assert act(iid, "undo").status_code == 200 and extra in post_ids(base, duty, iid)
    assert act(iid, "move", {"post_ids": [extra], "into": other}).status_code == 200
    assert extra in post_ids(base, duty, other)
    assert act(iid, "undo").status_code == 200 and extra in post_ids(base, duty, iid)
    assert act(iid, "split", {"post_ids": [extra], "reason": "另一件事"}).status_code == 200
    new = next(a for a in httpx.get(f"{base}/api/incidents/{iid}", headers=duty).json()["audit"]
               if a["action"] == "split")["detail"]["into"]
    assert act(iid, "undo").status_code == 200 and extra in post_ids(base, duty, iid)
    gone = httpx.get(f"{base}/api/incidents/{new}", headers=duty).json()
    assert gone["state"] == "closed" and gone["posts"] == []
    assert act(iid, "edit", {"post_id": extra, "topic": "noise"}).status_code == 200
    assert act(iid, "undo").status_code == 200
    assert labels_of(store) == []
    # A unit may correct a post (修正) but not mark 误报 or undo.
    unit_a = token_headers("unit_a", TEST_SECRET)
    assert httpx.post(f"{base}/api/incidents/{iid}/dismiss", headers=unit_a,
                      json={"scope": "environment", "reason": "x"}).status_code == 403


def test_weekly_briefing_tells_what_the_desk_corrected_and_where_the_machine_was_weak(store):
    from alerts.actions import assign, override_grade
    from alerts.config import alerts_config
    from alerts.corrections import dismiss
    from briefing.period import daily, iso_week
    from briefing.service import build_briefing, render
    from core.jurisdiction import load_jurisdiction

    jurisdiction = load_jurisdiction("jiangbei")
    config = alerts_config(jurisdiction)
    week = iso_week("2026-W49")  # Mon 30 Nov – Sun 6 Dec 2026, Beijing time
    at = week.start + dt.timedelta(days=1)
    ids = three_incidents(store, at)
    moved, elsewhere, kept = ids["moved"], ids["elsewhere"], ids["mixed"]
    later = at + dt.timedelta(hours=3)
    assign(store, config, moved, UNIT_B, "duty1", reason="属观音桥街道", now=later)
    dismiss(store, config, elsewhere, "duty1", "jurisdiction", "宁波", now=later)
    override_grade(store, config, kept, "yellow", "duty1", "多人反映", now=later)

    b = build_briefing(store, jurisdiction, week, week.end)
    assert b.learning is not None
    found = b.learning.accuracy
    assert found.corrections["wrong_unit"] == 1 and found.corrections["not_relevant"] == 1
    assert found.corrections["regraded"] == 1 and found.corrections["split"] == 0
    assert found.corrected_incidents == 3 and found.posts == 4
    assert found.field_accuracy()["unit_code"] == 0.75 and found.field_accuracy()["relevant"] == 0.75
    html = render(b, "html").decode("utf-8")
    assert "七、人工更正与研判准确性" in html and "属地错误" in html and "研判准确率（按属地）" in html
    assert "观音桥街道" in html
    # A week without corrections says so; a daily report has no such section.
    quiet = build_briefing(store, jurisdiction, iso_week("2026-W40"), iso_week("2026-W40").end)
    assert quiet.learning is not None and "本期无人工更正" in quiet.learning.summary()
    assert build_briefing(store, jurisdiction, daily("2026-12-01"), week.end).learning is None


def test_the_models_version_is_in_the_analysis_and_the_audit_log(store, analyzer):
    from alerts.detection import process_pending

    assert analyzer.classifiers is not None and analyzer.classifiers.version.startswith("clf-")
    assert analyzer.analyze("石马河边排污口冒黑水").to_contract(1)["model"] == analyzer.classifiers.version
    with store.begin() as tx:
        tx.add_posts([RawPost(source="weibo", text="石马河街道鲜花港社区旁边的小河沟又黑又臭，排污口天天冒黑水",
                              url="https://weibo.example/1", published_at=OPENED, fetched_at=OPENED)], OPENED)
    assert process_pending(store, analyzer, now=OPENED).opened == 1
    with store.read() as tx:
        (incident,) = tx.list_incidents()
        opened = next(e for e in tx.audit_for(incident.id) if e.action == "open")
    assert opened.detail["model"] == analyzer.classifiers.version


def test_cli_corrections_and_export_since(store, settings, monkeypatch):
    from typer.testing import CliRunner

    from ecowatch.main import app

    monkeypatch.setenv("ECOWATCH_DATA_DIR", str(settings.data_dir))
    iid = add_incident(store, title="石马河排污", text="石马河边排污口冒黑水", unit_code=UNIT_A, unit="石马河街道",
                       opened_at=OPENED)
    extra = add_post(store, iid, "石马河立交工地半夜打桩", topic="noise")
    runner = CliRunner()
    at = "2026-11-30T12:00:00+00:00"
    split = runner.invoke(app, ["act", "split", str(iid), "--actor", "值班员", "--post", str(extra),
                                "--text", "另一件事", "--now", at])
    assert split.exit_code == 0, split.output
    assert json.loads(split.output)["id"] != iid  # a split answers with the new incident
    edited = runner.invoke(app, ["act", "edit", str(iid), "--actor", "值班员", "--post", str(extra), "--topic", "air",
                                 "--now", at])
    assert edited.exit_code != 0  # the post left this incident: refused, nothing written
    with store.read() as tx:
        assert {lab.kind for lab in tx.live_labels()} == {"split"}
    everything = runner.invoke(app, ["labels", "export"])
    assert everything.exit_code == 0 and len(everything.stdout.splitlines()) == 2
    later = runner.invoke(app, ["labels", "export", "--since", "2026-12-01"])
    assert later.exit_code == 0 and later.stdout == ""
    bad = runner.invoke(app, ["labels", "export", "--since", "last week"])
    assert bad.exit_code == 2 and "not an ISO date" in bad.output


def test_a_return_then_assignment_elsewhere_labels_the_unit_and_back_to_the_same_unit_does_not(store):
    from alerts.actions import assign, return_incident
    from alerts.config import alerts_config
    from core.jurisdiction import load_jurisdiction

    config = alerts_config(load_jurisdiction("jiangbei"))
    wrong = add_incident(store, title="北城天街油烟", text="观音桥北城天街楼下餐馆油烟熏人", unit_code=UNIT_A,
                         unit="石马河街道", topic="air", opened_at=OPENED)
    right = add_incident(store, title="石马河排污", text="石马河边排污口冒黑水", unit_code=UNIT_A, unit="石马河街道",
                         opened_at=OPENED)
    at = OPENED + dt.timedelta(hours=1)
    for iid, to in ((wrong, UNIT_B), (right, UNIT_A)):
        return_incident(store, config, iid, "石马河街道", "不属于本街道", now=at)
        assign(store, config, iid, to, "duty1", now=at)
    (label,) = labels_of(store)
    assert label.kind == "wrong_unit" and label.incident_id == wrong and label.fields["unit"] == "观音桥街道"
    assert label.actor == "duty1" and label.at == at
