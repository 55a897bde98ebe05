"""The incident workflow: which action is allowed in which state, and where it leads (pure).

new → assigned (交办) → signed (签收) → responded (回应) → resolved (办结) → closed (审核办结).
A unit may return (退单) an assigned or signed incident with a reason; the duty desk reassigns
(改派) it. The bureau may send a resolution back (审核退回) instead of closing it. Anything here
raises :class:`core.errors.WorkflowError` with a message an officer can read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from core.errors import WorkflowError
from core.jurisdiction import Department, Jurisdiction
from core.models import DISMISS_SCOPES, POLARITIES, TOPICS, AuditEntry, Grade, Incident, State, Step
from core.sharing import COPY_ACTION_LABELS

S = State
# action → (states it is allowed from, state it leads to; None = stays where it is)
TRANSITIONS: dict[str, tuple[frozenset[State], State | None]] = {
    "assign": (frozenset({S.NEW, S.RETURNED}), S.ASSIGNED),
    "reassign": (frozenset({S.NEW, S.ASSIGNED, S.SIGNED, S.RETURNED}), S.ASSIGNED),
    "sign": (frozenset({S.ASSIGNED}), S.SIGNED),
    "respond": (frozenset({S.SIGNED}), S.RESPONDED),
    "resolve": (frozenset({S.RESPONDED}), S.RESOLVED),
    "close": (frozenset({S.RESOLVED}), S.CLOSED),
    "reject": (frozenset({S.RESOLVED}), S.SIGNED),
    "return": (frozenset({S.ASSIGNED, S.SIGNED}), S.RETURNED),
    "merge": (frozenset({S.NEW, S.ASSIGNED, S.SIGNED, S.RESPONDED, S.RETURNED}), S.CLOSED),
    "reopen": (frozenset({S.CLOSED, S.RESOLVED}), None),  # → assigned, or new when no unit
    "extend": (frozenset({S.NEW, S.ASSIGNED, S.SIGNED, S.RESPONDED, S.RETURNED}), None),
    "override_grade": (frozenset(set(State) - {S.CLOSED}), None),
    "record_step": (frozenset(set(State) - {S.CLOSED}), None),
    "set_complex": (frozenset(set(State) - {S.CLOSED, S.RESOLVED}), None),
    # Corrections (alerts.corrections): what the machine got wrong, set right by the duty desk.
    "dismiss": (frozenset(set(State) - {S.CLOSED}), S.CLOSED),  # 误报: the whole incident
    "dismiss_posts": (frozenset(set(State) - {S.CLOSED}), None),  # 误报: some of its posts
    "split": (frozenset(set(State) - {S.CLOSED}), None),
    "move": (frozenset(set(State) - {S.CLOSED}), None),
    "edit": (frozenset(set(State) - {S.CLOSED}), None),
    # Where it leads is the undone correction's business; from closed only to take back the 误报
    # that closed it (last_undoable).
    "undo": (frozenset(State), None),
    # 会办 / 抄送 (alerts.copies): a department is asked and answers while the matter is open; the
    # state is the lead unit's and none of these moves it. A copy can be withdrawn at any time.
    "copy": (frozenset(set(State) - {S.CLOSED}), None),
    "reply": (frozenset(set(State) - {S.CLOSED}), None),
    "withdraw_copy": (frozenset(State), None),
}
ACTION_LABELS = {"assign": "交办", "reassign": "改派", "sign": "签收", "respond": "回应", "resolve": "办结",
                 "close": "审核办结", "reject": "审核退回", "return": "退单", "merge": "并单", "reopen": "重新打开",
                 "extend": "延期", "override_grade": "调整等级", "record_step": "登记", "set_complex": "标记复杂",
                 "dismiss": "误报/不相关", "dismiss_posts": "误报/不相关", "split": "拆分", "move": "移帖",
                 "edit": "修正分析", "undo": "撤销更正", **COPY_ACTION_LABELS}
# The audit actions of corrections ``undo`` can take back (the latest first).
UNDOABLE = ("dismiss", "dismiss_posts", "split", "move", "edit")
# Who may take each action at the console (duty: 值班室; unit: the street/town it is assigned to;
# department: a department the incident is copied to, 会办). Leaders and admins read. Checked by
# alerts.acting in the transaction that writes; the registry's routes and the console's action list
# read the same table. "extend_request" is a unit asking for an extension.
DUTY, UNIT, DEPARTMENT = "duty", "unit", "department"
ROLES: dict[str, tuple[str, ...]] = {
    "assign": (DUTY,), "reassign": (DUTY,), "close": (DUTY,), "reject": (DUTY,), "merge": (DUTY,),
    "extend": (DUTY,), "override_grade": (DUTY,), "record_step": (DUTY,), "set_complex": (DUTY,),
    "acknowledge": (DUTY,), "sign": (UNIT,), "respond": (UNIT,), "resolve": (UNIT,), "return": (UNIT,),
    "extend_request": (UNIT,), "dismiss": (DUTY,), "dismiss_posts": (DUTY,), "split": (DUTY,), "move": (DUTY,),
    "undo": (DUTY,), "edit": (DUTY, UNIT), "copy": (DUTY,), "withdraw_copy": (DUTY,), "reply": (DEPARTMENT,),
}
# Steps whose deadline an action meets (see alerts.deadlines.STEPS).
STEP_DONE_BY = {"sign": "sign_off", "respond": "response", "resolve": "closure"}
RECORDABLE_STEPS = (Step.REPORT.value, Step.PRESS.value)  # done by recording them (报告局领导, 新闻发布会)
DEFAULT_MAX_RETURNS = 2


def target_state(action: str, incident: Incident) -> State:
    """The state ``action`` leads to from the incident's state, or WorkflowError."""
    rule = TRANSITIONS.get(action)
    if rule is None:
        raise WorkflowError(f"未知操作 {action!r}")
    allowed, to = rule
    if incident.state not in allowed:
        names = "、".join(s.label for s in State if s in allowed)
        raise WorkflowError(f"事件 #{incident.id} 当前为「{incident.state.label}」，不能{ACTION_LABELS[action]}"
                            f"（仅限：{names}）")
    if action == "reopen":
        return S.ASSIGNED if incident.unit_code else S.NEW
    return to if to is not None else incident.state


def require_text(value: str | None, what: str) -> str:
    """A required free-text field (reason, feedback), stripped; WorkflowError when empty."""
    text = (value or "").strip()
    if not text:
        raise WorkflowError(f"{what}不能为空")
    return text


def check_return(incident: Incident, reason: str | None, policy: Mapping[str, object]) -> str:
    """A return (退单) needs a reason and must stay under the pack's limit per incident."""
    text = require_text(reason, "退单理由")
    limit = int(policy.get("max_returns", DEFAULT_MAX_RETURNS))  # type: ignore[call-overload]
    if incident.returns >= limit:
        raise WorkflowError(f"事件 #{incident.id} 已退单 {incident.returns} 次，达到上限 {limit} 次，"
                            f"请与值班室协商后由值班室改派")
    return text


def check_assignee(unit_code: str | None, known_units: Mapping[str, object]) -> str:
    """An assignment names a known unit."""
    if not unit_code:
        raise WorkflowError("交办需要指定属地（街道/镇）")
    if unit_code not in known_units:
        raise WorkflowError(f"未知属地代码 {unit_code!r}")
    return unit_code


def check_extension(incident: Incident, step: str, until: dt.datetime, now: dt.datetime) -> dt.datetime:
    """An extension must be requested before the step's deadline and move it later."""
    current = incident.deadlines.get(step)
    if current is None:
        raise WorkflowError(f"事件 #{incident.id} 没有「{step}」时限")
    if step in incident.milestones:
        raise WorkflowError(f"事件 #{incident.id} 的「{step}」已完成，无需延期")
    if now >= current:
        raise WorkflowError(f"「{step}」时限 {current.isoformat()} 已过，只能在时限前申请延期")
    if until <= current:
        raise WorkflowError("延期后的时限必须晚于原时限")
    return until


def check_department(value: str | None, jurisdiction: Jurisdiction) -> Department:
    """A department of the pack, named by its code or its name."""
    if not value:
        raise WorkflowError("需要指定职能部门")
    found = jurisdiction.department(value)
    if found is None:
        known = "、".join(f"{d.code} {d.name}" for d in jurisdiction.departments.values())
        raise WorkflowError(f"未知职能部门 {value!r}（可选：{known}）")
    return found


def check_merge(source: Incident, target: Incident) -> None:
    """Merging needs two different incidents, the target still open."""
    if source.id == target.id:
        raise WorkflowError("不能把事件并入它自己")
    if target.state is S.CLOSED or target.merged_into is not None:
        raise WorkflowError(f"目标事件 #{target.id} 已关闭，不能并入")


def check_grade(value: str) -> Grade:
    """A grade name (blue/yellow/orange/red or 一般/较大/重大/特别重大)."""
    for grade in Grade:
        if value in (grade.value, grade.label):
            return grade
    raise WorkflowError(f"未知等级 {value!r}（可选 blue/yellow/orange/red）")


def check_scope(scope: str | None) -> str:
    """Why a 误报 is not ours: ``environment`` (not about it) or ``jurisdiction`` (elsewhere)."""
    if scope not in DISMISS_SCOPES:
        raise WorkflowError(f"误报需说明原因类别：{'、'.join(f'{k}（{v}）' for k, v in DISMISS_SCOPES.items())}")
    return scope


def check_posts(post_ids: Sequence[int] | None, held: Sequence[int], what: str, *, keep_one: bool) -> list[int]:
    """The posts a correction names: at least one, each of this incident; ``keep_one``: not every
    post (a split or a move leaves the incident something to be about)."""
    chosen = sorted(set(post_ids or ()))
    if not chosen:
        raise WorkflowError(f"{what}需要指定帖子")
    foreign = [p for p in chosen if p not in held]
    if foreign:
        raise WorkflowError(f"帖子 {'、'.join(f'#{p}' for p in foreign)} 不属于本事件")
    if keep_one and len(chosen) >= len(set(held)):
        raise WorkflowError(f"不能{what}事件的全部帖子（整件误报请用「误报」，整件并入请用「并单」）")
    return chosen


def check_edit(unit_code: str | None, topic: str | None, polarity: str | None,
               known_units: Mapping[str, object]) -> dict[str, str]:
    """A post edit sets at least one of unit, topic, polarity, each a known value."""
    out: dict[str, str] = {}
    if unit_code:
        out["unit_code"] = check_assignee(unit_code, known_units)
    if topic:
        if topic not in TOPICS:
            raise WorkflowError(f"未知类别 {topic!r}（可选 {'/'.join(TOPICS)}）")
        out["topic"] = topic
    if polarity:
        if polarity not in POLARITIES:
            raise WorkflowError(f"未知情感 {polarity!r}（可选 {'/'.join(POLARITIES)}）")
        out["polarity"] = polarity
    if not out:
        raise WorkflowError("修正需要指定属地、类别或情感中的至少一项")
    return out


def last_undoable(incident: Incident, entries: Sequence[AuditEntry]) -> AuditEntry:
    """The incident's latest correction not yet undone (its audit entry), or WorkflowError. A
    closed incident stays closed unless the correction to undo is the 误报 that closed it."""
    undone = {e.detail.get("undid") for e in entries if e.action == "undo"}
    for entry in reversed(entries):
        if entry.action in UNDOABLE and entry.id not in undone:
            if incident.state is S.CLOSED and entry.action != "dismiss":
                break
            return entry
    if incident.state is S.CLOSED:
        raise WorkflowError(f"事件 #{incident.id} 已关闭，只能撤销使它关闭的误报")
    raise WorkflowError("没有可以撤销的更正（误报、拆分、移帖、修正）")
