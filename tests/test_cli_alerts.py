"""`ecowatch escalate --now`, `act`, `notify` and `notifications`, run as a user runs them."""

from __future__ import annotations

import json

from tests.test_cli import run


def test_escalate_act_and_notify_from_the_command_line(tmp_path):
    posts = tmp_path / "posts.jsonl"
    posts.write_text(json.dumps({"url": "https://weibo.example/1", "source": "weibo", "author": "居民甲",
                                 "published_at": "2026-11-30T09:00:00+08:00",
                                 "text": "观音桥街道建新北路工地夜间施工打桩噪音扰民，凌晨两点还在施工，根本睡不着"},
                                ensure_ascii=False) + "\n", encoding="utf-8")
    assert run(["import", str(posts)], tmp_path).returncode == 0
    assert run(["process"], tmp_path).returncode == 0
    incidents = json.loads(run(["incidents", "--json"], tmp_path).stdout)
    assert len(incidents) == 1 and incidents[0]["state"] == "assigned"
    incident_id = str(incidents[0]["id"])
    # Far in the future every step is overdue: the ladder is climbed in one catch-up pass.
    first = json.loads(run(["escalate", "--now", "2030-12-01T09:00:00+08:00"], tmp_path).stdout)
    assert first["climbed"] >= 3 and first["notified"] > 0
    again = json.loads(run(["escalate", "--now", "2030-12-01T09:00:00+08:00"], tmp_path).stdout)
    assert again["climbed"] == 0 and again["repeated"] == 0
    bad = run(["escalate", "--now", "tomorrow"], tmp_path)
    assert bad.returncode != 0 and "not a time" in bad.stderr
    refused = run(["act", "close", incident_id, "--actor", "审核员"], tmp_path)
    assert refused.returncode == 2 and "不能审核办结" in refused.stderr
    signed = json.loads(run(["act", "sign", incident_id, "--actor", "观音桥街道"], tmp_path).stdout)
    assert signed["state"] == "signed"
    delivered = json.loads(run(["notify", "--now", "2030-12-01T09:01:00+08:00"], tmp_path).stdout)
    assert delivered["sent"] > 0 and delivered["failed"] == 0
    sent = [json.loads(line) for line in run(["notifications", "--status", "sent"], tmp_path).stdout.splitlines()]
    assert sent and all(m["channel"] == "feed" for m in sent)
