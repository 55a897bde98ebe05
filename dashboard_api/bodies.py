"""Request bodies of the API, validated before anything runs (unknown fields refused)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from core.passwords import MIN_PASSWORD_LENGTH


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AssignBody(_Body):
    """Assign (交办) an incident from the triage queue to a unit."""

    unit_code: str = Field(min_length=1, max_length=20, examples=["500105003000"])
    department: str | None = Field(default=None, max_length=100, examples=["区生态环境局"])
    note: str | None = Field(default=None, max_length=2000, examples=["请尽快核实"])


class ReassignBody(_Body):
    """Move an incident to another unit, with the reason."""

    unit_code: str = Field(min_length=1, max_length=20, examples=["500105006000"])
    department: str | None = Field(default=None, max_length=100)
    reason: str = Field(min_length=1, max_length=2000, examples=["地点核实在观音桥街道辖区"])


class NoteBody(_Body):
    """An optional note (sign 签收, close 关闭)."""

    note: str | None = Field(default=None, max_length=2000, examples=["已签收，安排人员核查"])


class RespondBody(_Body):
    """The unit's response (回应) to the public matter."""

    response: str = Field(min_length=1, max_length=5000, examples=["已到现场核查，排污口已封堵"])


class ResolveBody(_Body):
    """Resolution (办结) with the unit's feedback."""

    feedback: str = Field(min_length=1, max_length=5000, examples=["已整改完毕，群众满意"])


class ReturnBody(_Body):
    """Return (退单) to the duty desk, with the reason."""

    reason: str = Field(min_length=1, max_length=2000, examples=["该点位不属于本街道辖区"])


class MergeBody(_Body):
    """Merge this incident into another open one (its posts move there; this one closes)."""

    into: int = Field(ge=1, le=2**53, examples=[12])
    reason: str | None = Field(default=None, max_length=2000, examples=["同一排污口"])


class GradeBody(_Body):
    """Override the grade; deadlines follow the new grade's policy."""

    grade: Literal["blue", "yellow", "orange", "red"] = Field(examples=["orange"])
    reason: str = Field(min_length=1, max_length=2000, examples=["涉及饮用水源"])


class ExtendBody(_Body):
    """Extend a deadline: from a unit, a request; from the duty desk, granted at once."""

    step: Literal["report", "sign_off", "response", "press", "closure"] = Field(examples=["response"])
    hours: float = Field(gt=0, le=720, examples=[24])
    reason: str = Field(min_length=1, max_length=2000, examples=["需等待监测数据"])


class UserCreateBody(_Body):
    """A new console user."""

    name: str = Field(min_length=1, max_length=100, pattern=r"^[\w.\-@]+$", examples=["shimahe"])
    role: Literal["duty", "unit", "leader", "admin"] = Field(examples=["unit"])
    unit_code: str | None = Field(default=None, max_length=20, examples=["500105003000"])
    password: str = Field(min_length=MIN_PASSWORD_LENGTH, max_length=200, examples=["a-long-passphrase"],
                          description="at least 12 characters, not a common password, not the user name")


class UserUpdateBody(_Body):
    """Enable/disable a user or set a new password."""

    active: bool | None = None
    password: str | None = Field(default=None, min_length=MIN_PASSWORD_LENGTH, max_length=200,
                                 description="as for a new user")


class RejectBody(_Body):
    """Send a resolution back (审核退回) to the unit, with the reason."""

    reason: str = Field(min_length=1, max_length=2000, examples=["整改照片不清晰，请补充"])


class AcknowledgeBody(_Body):
    """Acknowledge (确认) the current 催办/督办 of one step, or of all steps when none is named."""

    step: Literal["report", "sign_off", "response", "press", "closure"] | None = Field(default=None,
                                                                                     examples=["sign_off"])
