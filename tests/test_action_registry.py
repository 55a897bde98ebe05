"""One registry of workflow actions (alerts.registry) behind the API routes, the CLI's `act` and
the console's action list: each reads it, none keeps its own list."""

from __future__ import annotations

import datetime as dt
import json

import httpx
import pytest
from fastapi.routing import APIRoute
from typer.testing import CliRunner

from alerts.registry import ACTIONS, CLI_ACTIONS, http_actions
from alerts.workflow import TRANSITIONS
from core.models import State
from core.timeutil import utcnow
from dashboard_api.routes.actions import BODIES
from dashboard_api.routes.actions import router as action_router
from ecowatch.main import app
from tests.api_seed import UNIT_A, UNIT_B, add_incident, seed_users, token_headers
from tests.conftest import TEST_SECRET

http = httpx.Client(timeout=10)


def test_every_api_action_route_is_a_registry_action_with_its_roles():
    routes = {r.path.rsplit("/", 1)[1]: r for r in action_router.routes if isinstance(r, APIRoute)}
    assert set(routes) == {s.name for s in http_actions()} == set(BODIES)
    for spec in http_actions():
        (dependency,) = routes[spec.name].dependencies
        # require_roles closes over the roles it lets through
        allowed = dependency.dependency.__closure__[0].cell_contents  # type: ignore[union-attr,index]
        assert tuple(allowed) == spec.roles, spec.name


def test_the_registry_follows_the_workflow_table():
    for spec in ACTIONS.values():
        assert spec.label and spec.roles and spec.states <= set(State)
        # Nothing is done to a closed incident, but taking back the 误报 that closed it (撤销更正), and
        # withdrawing a copy to a department (撤回抄送: it changes what the department sees, not the incident).
        assert State.CLOSED not in spec.states or spec.name in ("undo", "withdraw_copy"), spec.name
    assert ACTIONS["close"].states == TRANSITIONS["close"][0] and ACTIONS["grade"].label == "调整等级"
    # the CLI's own spellings stay (contract): `ack`, and every name it always took
    assert {"assign", "sign", "respond", "resolve", "close", "reject", "return", "merge", "extend", "grade",
            "record", "complex", "ack"} <= set(CLI_ACTIONS)


def test_cli_help_names_every_cli_action():
    out = CliRunner().invoke(app, ["act", "--help"], terminal_width=300).output
    assert all(name in out for name in CLI_ACTIONS)
    wrong = CliRunner().invoke(app, ["act", "dance", "1", "--actor", "x"])
    assert wrong.exit_code == 2 and all(name in wrong.output for name in ("assign", "ack", "complex"))


def _act(*args: str) -> dict:
    result = CliRunner().invoke(app, ["act", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_every_cli_action_through_the_registry(store, settings, monkeypatch):
    monkeypatch.setenv("ECOWATCH_DATA_DIR", str(settings.data_dir))
    opened = utcnow() - dt.timedelta(hours=1)
    a = add_incident(store, title="来历不明的污水", text="江北区某处污水", unit_code=None, unit=None, state=State.NEW,
                     opened_at=opened, deadlines={"sign_off": opened + dt.timedelta(hours=2),
                                                  "response": opened + dt.timedelta(days=2),
                                                  "closure": opened + dt.timedelta(days=5)})
    b = add_incident(store, title="石马河噪声", text="石马河噪声", unit_code=UNIT_A, unit="石马河街道")
    ida, idb = str(a), str(b)
    assert _act("assign", ida, "--actor", "值班员", "--unit", UNIT_A)["state"] == "assigned"
    moved = _act("reassign", ida, "--actor", "值班员", "--unit", UNIT_B, "--text", "地点在观音桥")
    assert moved["unit"] == "观音桥街道"
    assert _act("return", ida, "--actor", "观音桥街道", "--text", "不属于本街道")["state"] == "returned"
    assert _act("assign", ida, "--actor", "值班员", "--unit", UNIT_A)["returns"] == 1
    assert _act("sign", ida, "--actor", "石马河街道")["state"] == "signed"
    until = (opened + dt.timedelta(days=3)).isoformat()
    assert _act("extend", ida, "--actor", "值班员", "--step", "response", "--until", until,
                "--text", "等监测数据")["deadlines"]["response"] == until
    assert _act("respond", ida, "--actor", "石马河街道", "--text", "已核查")["state"] == "responded"
    assert _act("resolve", ida, "--actor", "石马河街道", "--text", "已整改")["state"] == "resolved"
    assert _act("reject", ida, "--actor", "值班员", "--text", "照片不清")["state"] == "signed"
    assert _act("grade", ida, "--actor", "值班员", "--grade", "red", "--text", "饮用水源")["grade"] == "red"
    assert _act("record", ida, "--actor", "值班员", "--step", "report")["state"] == "signed"
    assert _act("complex", ida, "--actor", "值班员", "--text", "多部门")["deadlines"]["closure"] > \
        (opened + dt.timedelta(days=5)).isoformat()
    far = (utcnow() + dt.timedelta(days=60)).isoformat()
    assert CliRunner().invoke(app, ["escalate", "--now", far]).exit_code == 0
    acked = _act("ack", ida, "--actor", "值班员", "--now", far)
    # Red since the regrade: the special report up (首报, 续报) falls due too (pack [deadlines.red]).
    assert acked["acknowledged"] and set(acked["acknowledged"]) <= {"response", "closure", "press", "first_report",
                                                                     "followup_report"}
    merged = _act("merge", idb, "--actor", "值班员", "--into", ida, "--text", "同一事")
    assert merged["id"] == a  # the CLI answers with the incident merged into, as it always did
    with store.read() as tx:
        assert tx.get_incident(b).state is State.CLOSED and tx.get_incident(b).merged_into == a
        audit = [e.action for e in tx.audit_for(a)]
    assert audit[:4] == ["open", "assign", "reassign", "return"]
    assert {"extend", "grade_override", "record_step", "set_complex", "acknowledge", "merge_in"} <= set(audit)


@pytest.fixture
def env(store, api_server):
    seed_users(store)
    return api_server, {n: token_headers(n, TEST_SECRET) for n in ("duty1", "unit_a")}


def test_the_console_lists_the_registry(env):
    base, h = env
    vocabulary = http.get(f"{base}/api/vocabulary", headers=h["unit_a"]).json()
    actions = {a["name"]: a for a in vocabulary["actions"]}
    assert set(actions) == {s.name for s in http_actions()}
    assert actions["sign"] == {"name": "sign", "label": "签收", "roles": ["unit"], "states": ["assigned"]}
    assert actions["resolve"]["states"] == ["responded"]
    assert actions["extend"]["roles"] == ["duty", "unit"]
    assert vocabulary["polarities"] == {"neg": "负面", "neu": "中性", "pos": "正面"}  # the console has no copy


def test_each_label_table_names_exactly_its_vocabulary():
    import briefing.figures
    from alerts.deadlines import STEPS
    from core.models import POLARITIES, POLARITY_LABELS, STATE_LABELS, STEP_LABELS, TOPIC_LABELS, TOPICS, Step, Topic

    assert list(STATE_LABELS) == [s.value for s in State] and State.CLOSED.label == "已审核办结"
    assert list(STEP_LABELS) == [s.value for s in Step] == list(STEPS) and Step.PRESS.label == "新闻发布会"
    assert list(TOPIC_LABELS) == [t.value for t in Topic] == list(TOPICS) and Topic.WATER.label == "水环境"
    assert list(POLARITY_LABELS) == list(POLARITIES) and POLARITY_LABELS["neg"] == "负面"
    assert not hasattr(briefing.figures, "POLARITY_LABELS")  # defined once, in core
