"""Request bodies of the API, validated before anything runs (unknown fields refused)."""

from __future__ import annotations

from typing import Annotated, Literal

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
    role: Literal["duty", "unit", "department", "leader", "admin"] = Field(examples=["unit"])
    unit_code: str | None = Field(default=None, max_length=20, examples=["500105003000"])
    department_code: str | None = Field(default=None, max_length=20, examples=["zj"],
                                        description="a department user's department (pack [[departments]] code)")
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


PostIds = list[Annotated[int, Field(ge=1, le=2**53)]]


class DismissBody(_Body):
    """误报/不相关: the incident, or only some of its posts, is not about the environment or not
    in this jurisdiction."""

    scope: Literal["environment", "jurisdiction"] = Field(examples=["jurisdiction"])
    reason: str = Field(min_length=1, max_length=2000, examples=["说的是宁波市江北区"])
    post_ids: PostIds | None = Field(default=None, max_length=1000, examples=[[41, 42]])


class EditBody(_Body):
    """修正: set one post's unit, topic or polarity (at least one)."""

    post_id: int = Field(ge=1, le=2**53, examples=[41])
    unit_code: str | None = Field(default=None, min_length=1, max_length=20, examples=["500105006000"])
    topic: Literal["water", "air", "noise", "waste", "soil", "ecology", "other"] | None = None
    polarity: Literal["neg", "neu", "pos"] | None = None
    reason: str | None = Field(default=None, max_length=2000, examples=["说的是油烟，不是污水"])


class SplitBody(_Body):
    """拆分: these posts are another matter; they leave for a new incident in triage."""

    post_ids: PostIds = Field(min_length=1, max_length=1000, examples=[[42]])
    reason: str = Field(min_length=1, max_length=2000, examples=["另一处工地的噪声"])


class MoveBody(_Body):
    """移帖: these posts belong to another open incident."""

    post_ids: PostIds = Field(min_length=1, max_length=1000, examples=[[42]])
    into: int = Field(ge=1, le=2**53, examples=[12])
    reason: str | None = Field(default=None, max_length=2000)


class UndoBody(_Body):
    """撤销更正: take back the latest correction (误报, 拆分, 移帖, 修正) of this incident."""

    reason: str | None = Field(default=None, max_length=2000)


class OverrideBody(_Body):
    """代班/换班: someone else stands in one slot of one shift, with who approved it."""

    tier: Literal["primary", "backup", "leader"] = Field(default="primary", examples=["primary"])
    person: str = Field(min_length=1, max_length=100, examples=["张伟"])
    phone: str | None = Field(default=None, max_length=30, examples=["13800000001"])
    approved_by: str = Field(min_length=1, max_length=100, examples=["陈建国"])
    reason: str = Field(default="", max_length=2000, examples=["代班：王强病假"])


class RemarksBody(_Body):
    """The outgoing officer's remarks on a hand-over (交班备注)."""

    remarks: str = Field(max_length=4000, examples=["死鱼一事已报带班领导，待属地核实"])


class CopyBody(_Body):
    """Copy (抄送) an incident to a department for its 会办; the lead unit stays responsible."""

    department: str = Field(min_length=1, max_length=100, description="department code or name",
                            examples=["zj"])
    note: str | None = Field(default=None, max_length=2000, examples=["请区住房城乡建委核查工地夜间施工许可"])


class CopyReplyBody(_Body):
    """A department's handling note (会办意见) on an incident copied to it."""

    opinion: str = Field(min_length=1, max_length=5000,
                         examples=["经核查，该工地已办理夜间施工许可，已责令其22时后停止打桩"])


class WithdrawCopyBody(_Body):
    """Withdraw (撤回) the copy to a department: it no longer sees the incident."""

    department: str = Field(min_length=1, max_length=100, description="department code or name", examples=["zj"])
    reason: str | None = Field(default=None, max_length=2000, examples=["误抄送"])
