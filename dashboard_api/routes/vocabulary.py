"""The domain's words in Chinese, for the console: states, steps, topics, grades and polarities
(core.models) and the workflow actions with who may take them in which states (alerts.registry), the labels of the
audit log's action names and the corrections 撤销更正 can take back (alerts.workflow), and why a
误报 is not ours (core.models).

The console reads them here instead of keeping its own copies, so a label or a rule changed in
one place changes on every page, in the briefing and in the messages alike.
"""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from alerts.registry import http_actions
from alerts.workflow import ACTION_LABELS, UNDOABLE
from core.models import DISMISS_SCOPES, POLARITY_LABELS, STATE_LABELS, STEP_LABELS, TOPIC_LABELS, Grade, State
from dashboard_api.deps import SharedReaderDep
from dashboard_api.errors import ERRORS

router = APIRouter(tags=["system"])


class ActionPublic(BaseModel):
    """A workflow action: its path segment (``POST /api/incidents/{id}/<name>``), label, the roles
    that may take it and the states it is allowed in."""

    name: str
    label: str
    roles: list[str]
    states: list[str]


class VocabularyPublic(BaseModel):
    """Code → Chinese label, per kind; and the actions."""

    states: dict[str, str] = Field(examples=[{"new": "待分拣", "closed": "已审核办结"}])
    steps: dict[str, str] = Field(examples=[{"sign_off": "签收", "press": "新闻发布会"}])
    topics: dict[str, str] = Field(examples=[{"water": "水环境"}])
    grades: dict[str, str] = Field(examples=[{"blue": "一般", "red": "特别重大"}])
    polarities: dict[str, str] = Field(description="a post's sentiment (``polarity``)", examples=[{"neg": "负面"}])
    actions: list[ActionPublic]
    audit: dict[str, str] = Field(description="the audit log's action names (incident detail ``audit[].action``)",
                                  examples=[{"dismiss_posts": "误报/不相关", "split": "拆分"}])
    scopes: dict[str, str] = Field(description="why a 误报 is not ours (``dismiss`` body ``scope``)",
                                   examples=[{"jurisdiction": "不在本辖区"}])
    undoable: list[str] = Field(description="the audit actions ``undo`` (撤销更正) can take back",
                                examples=[["dismiss", "split"]])


@router.get("/api/vocabulary", response_model=VocabularyPublic, responses=ERRORS)
def vocabulary(_user: SharedReaderDep) -> VocabularyPublic:
    """The labels of states, steps, topics, grades and polarities, the workflow actions, the audit log's
    action names, the undoable corrections and the 误报 scopes."""
    return VocabularyPublic(
        states=dict(STATE_LABELS), steps=dict(STEP_LABELS), topics=dict(TOPIC_LABELS),
        grades={g.value: g.label for g in Grade}, polarities=dict(POLARITY_LABELS),
        actions=[ActionPublic(name=a.name, label=a.label, roles=list(a.roles),
                              states=[s.value for s in State if s in a.states]) for a in http_actions()],
        audit=dict(ACTION_LABELS), scopes=dict(DISMISS_SCOPES),
        undoable=list(UNDOABLE))
