"""Concurrent workflow actions on one incident, on real SQLite and real PostgreSQL (issue 20).

A unit's action (签收, 退单) and the duty desk's 改派 to another unit, started together from two
threads, many rounds: whichever commits first, the other sees its result. The loser gets a clean
refusal (not found: the incident is no longer the unit's; or not allowed in the new state), never
a server error, and nothing commits against the unit the incident has left. The audit log of each
incident is one chain (each entry starts where the one before ended): no write overwrote another's.
"""

from __future__ import annotations

import itertools
import threading

import pytest

from alerts.config import alerts_config
from alerts.registry import ActionInput, apply
from core.errors import NotFoundError, WorkflowError
from core.models import State
from core.timeutil import utcnow
from tests.api_seed import UNIT_A, UNIT_B, add_incident, seed_users

ROUNDS = 30


def _race(store, config, incident_id: int, unit_action: str) -> dict[str, object]:
    """Run the desk's reassign and unit_a's action at once; each side's result or exception."""
    barrier = threading.Barrier(2)
    out: dict[str, object] = {}

    def run(side: str, action: str, inp: ActionInput) -> None:
        barrier.wait()
        try:
            apply(store, config, action, incident_id, inp)
            out[side] = "done"
        except Exception as exc:  # any exception is recorded; the test says which are allowed
            out[side] = exc

    now = utcnow()
    threads = [
        threading.Thread(target=run, args=("desk", "reassign", ActionInput(
            actor="duty1", now=now, role="duty", unit_code=UNIT_B, text="属地有误")), daemon=True),
        threading.Thread(target=run, args=("unit", unit_action, ActionInput(
            actor="unit_a", now=now, role="unit", text="已核查")), daemon=True),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return out


def test_a_unit_action_never_commits_after_a_concurrent_reassign(sql_store, analyzer):
    config = alerts_config(analyzer.jurisdiction)
    unit_a = analyzer.jurisdiction.units[UNIT_A].name
    seed_users(sql_store)
    problems: list[str] = []
    outcomes: dict[str, int] = {}
    for n in range(ROUNDS):
        unit_action, state = ("sign", State.ASSIGNED) if n % 2 == 0 else ("return", State.SIGNED)
        incident_id = add_incident(sql_store, title=f"第{n}轮", text="石马河又黑又臭", unit_code=UNIT_A,
                                   unit=unit_a, state=state)
        out = _race(sql_store, config, incident_id, unit_action)
        for side in ("desk", "unit"):
            result = out.get(side)
            allowed = result == "done" or (side == "unit" and isinstance(result, NotFoundError | WorkflowError))
            if not allowed:
                problems.append(f"round {n}: {side} {result!r}")
        key = f"{unit_action}:{type(out.get('unit')).__name__}"
        outcomes[key] = outcomes.get(key, 0) + 1
        with sql_store.read() as tx:
            incident = tx.get_incident(incident_id)
            audit = tx.audit_for(incident_id)
        assert incident is not None
        if (incident.unit_code, incident.state) != (UNIT_B, State.ASSIGNED):
            problems.append(f"round {n}: ends {incident.unit_code} {incident.state.value}, the reassign was lost")
        chain = [(a.action, a.from_state, a.to_state) for a in audit]
        if any(prev[2] != cur[1] for prev, cur in itertools.pairwise(chain)):
            problems.append(f"round {n}: audit is not one chain: {chain}")
        moved = next((i for i, a in enumerate(audit) if a.action in ("assign", "reassign")), len(audit))
        if any(a.actor == "unit_a" for a in audit[moved:]):
            problems.append(f"round {n}: unit_a acted after the incident left its unit: {chain}")
        if (out.get("unit") == "done") != any(a.actor == "unit_a" for a in audit):
            problems.append(f"round {n}: the unit's answer does not match what was stored: {out} {chain}")
    print(f"\n[races] {sql_store.engine.dialect.name}: {ROUNDS} rounds, outcomes {outcomes}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("role_user", ["leader1", "admin1"])
def test_roles_that_read_cannot_act_even_past_the_console(store, analyzer, role_user):
    """The role is checked where the action writes, not only by the route: a leader or an admin
    calling the workflow directly is refused and nothing changes."""
    config = alerts_config(analyzer.jurisdiction)
    seed_users(store)
    incident_id = add_incident(store, title="t", text="石马河又黑又臭", unit_code=UNIT_A,
                               unit=analyzer.jurisdiction.units[UNIT_A].name)
    for action, inp in (("reassign", ActionInput(actor=role_user, now=utcnow(), unit_code=UNIT_B, text="x")),
                        ("sign", ActionInput(actor=role_user, now=utcnow())),
                        ("sign", ActionInput(actor="duty1", now=utcnow()))):
        with pytest.raises(WorkflowError, match="角色"):
            apply(store, config, action, incident_id, inp)
    with store.read() as tx:
        assert [a.action for a in tx.audit_for(incident_id)] == ["open"]


def test_a_user_disabled_meanwhile_cannot_act(store, analyzer):
    """The console checked the token before the admin disabled the user; the action, checked
    again where it writes, is refused and changes nothing."""
    config = alerts_config(analyzer.jurisdiction)
    seed_users(store)
    incident_id = add_incident(store, title="t", text="石马河又黑又臭", unit_code=UNIT_A,
                               unit=analyzer.jurisdiction.units[UNIT_A].name)
    with store.begin() as tx:
        tx.set_user_active("unit_a", False)
    with pytest.raises(WorkflowError, match="停用"):
        apply(store, config, "sign", incident_id, ActionInput(actor="unit_a", now=utcnow(), role="unit"))
    with store.read() as tx:
        assert tx.get_incident(incident_id).state is State.ASSIGNED
