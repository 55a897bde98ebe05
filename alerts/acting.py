"""Who is acting: the user behind a write, read again in the transaction that writes it.

The console checks a request's token when the request arrives (``dashboard_api.deps``), but an
admin may disable the user, change its role or reset its password before the write runs; a check
made then, outside the write, lets that user write once more. So every write asks
:func:`acting_user` inside its own transaction, before it changes anything: incident actions
(``alerts.actions``, given the token version by the console's routes through
``alerts.registry.ActionInput``), the rota's overrides, pages and hand-overs, special reports and their
sendings, items handed down, 信息简报 and user administration. A refusal raises
:class:`ActorRefused` there, and the transaction rolls back whole.

Who may take which write is one table: the incident actions' roles are
``alerts.workflow.ROLES``; the other writes' are :data:`WRITES` here, which the console's route
dependencies read too, so the gate in front and the check where it writes cannot disagree.
"""

from __future__ import annotations

from collections.abc import Mapping

from alerts.workflow import ACTION_LABELS, DEPARTMENT, DUTY, ROLES, UNIT
from core.errors import WorkflowError
from storage.rows import User
from storage.sql import Tx

LEADER, ADMIN = "leader", "admin"

# The writes that are not incident actions: who may take each, and how a refusal names it.
WRITES: Mapping[str, tuple[tuple[str, ...], str]] = {
    "override": ((DUTY, ADMIN), "代班/换班"),
    "page_ack": ((DUTY, LEADER), "确认接警"),
    "handover": ((DUTY,), "接班或写交班备注"),
    "report": ((DUTY,), "生成专报"),
    "send": ((DUTY,), "报送"),
    "inbound": ((DUTY,), "录入上级交办事项"),
    "brief": ((DUTY, UNIT, DEPARTMENT), "报送信息简报"),
    "brief_mail": ((DUTY,), "分拣邮件报送的信息简报"),
    "users": ((ADMIN,), "管理用户"),
}


class ActorRefused(WorkflowError):
    """The acting user may not take this write (any more): disabled, of another role or unit, or
    logged in before its password was reset. A WorkflowError, as every refused action is; the
    API answers 403."""


def roles_for(write: str) -> tuple[str, ...]:
    """The roles that may take ``write`` (an incident action or a key of :data:`WRITES`)."""
    return WRITES[write][0] if write in WRITES else ROLES.get(write, ())


def acting_user(tx: Tx, actor: str, write: str, *, version: int | None = None) -> User | None:
    """The console user ``actor`` as stored now, checked for ``write`` in the caller's (writing)
    transaction: active, of a role that may take it, and, when ``version`` is given (the token
    version the console checked), still under that version: the request came through the console,
    so ``actor`` must be a console user. Without ``version`` (the command line, the system, the
    city platform's key) a name that is no console user acts as the duty desk and None is
    returned. ActorRefused otherwise."""
    user = tx.get_user(actor)
    if user is None:
        if version is not None:
            raise ActorRefused(f"用户 {actor} 不存在")
        return None
    if not user.active:
        raise ActorRefused(f"用户 {actor} 已停用")
    if version is not None and user.token_version != version:
        raise ActorRefused(f"用户 {actor} 的账号已变更（重设密码或停用后启用），请重新登录")
    if user.role not in roles_for(write):
        label = WRITES[write][1] if write in WRITES else ACTION_LABELS.get(write, write)
        raise ActorRefused(f"角色 {user.role!r} 不能{label}")
    return user


def own_unit(user: User | None, code: str | None) -> bool:
    """True when ``user`` may act for ``code``: a unit user only for its own unit, a department
    user only for its own department (会办: an incident's copy is checked by alerts.actions); everyone
    else (and an actor that is no console user) for every unit and department."""
    if user is None or user.role not in (UNIT, DEPARTMENT):
        return True
    return code == (user.unit_code if user.role == UNIT else user.department_code)
