"""The words of information sharing (信息互通共享): special reports up (舆情专报 首报/续报/终报), their
sending (报送), items handed down (上级交办) and the units' 信息简报 quota.

Defined once here: the store keeps the codes, the documents, the console (``GET
/api/vocabulary``-style lists on the reports routes) and the CLI print the labels.
"""

from __future__ import annotations

from enum import StrEnum

from core.models import Grade


class ReportKind(StrEnum):
    """Which version of an incident's special report (舆情专报) this is."""

    FIRST = "first"  # 首报: the first report up, within the pack's deadline
    FOLLOWUP = "followup"  # 续报: progress, again and again until the incident is closed
    FINAL = "final"  # 终报: the matter is handled; no 续报 is due after it

    @property
    def label(self) -> str:
        """首报 / 续报 / 终报."""
        return REPORT_KIND_LABELS[self.value]


REPORT_KIND_LABELS: dict[str, str] = {"first": "首报", "followup": "续报", "final": "终报"}


class SendState(StrEnum):
    """Where one sending of a report (or a feedback) to one recipient stands."""

    PENDING = "pending"  # queued, or failed and waiting for its next try
    SENT = "sent"  # delivered (or marked sent by hand, by whom and when)
    FAILED = "failed"  # gave up after the last try: visible, and the report counts as not sent

    @property
    def label(self) -> str:
        """待发送 / 已报送 / 发送失败."""
        return SEND_STATE_LABELS[self.value]


SEND_STATE_LABELS: dict[str, str] = {"pending": "待发送", "sent": "已报送", "failed": "发送失败"}


class SendChannel(StrEnum):
    """How a report reaches its recipient."""

    EMAIL = "email"  # email with the DOCX attached (the SMTP notifier)
    WEBHOOK = "webhook"  # a JSON POST to the recipient's platform
    MANUAL = "manual"  # sent outside ecowatch (fax, 政务内网, by hand) and recorded as sent

    @property
    def label(self) -> str:
        """邮件 / 接口推送 / 手工报送."""
        return SEND_CHANNEL_LABELS[self.value]


SEND_CHANNEL_LABELS: dict[str, str] = {"email": "邮件（附DOCX）", "webhook": "接口推送", "manual": "手工报送"}


class Upper(StrEnum):
    """The bodies reports go up to and items come down from."""

    CITY_BUREAU = "city_bureau"  # 市生态环境局
    CAC = "cac"  # 区委网信办
    LEADERS = "leaders"  # 区领导

    @property
    def label(self) -> str:
        """The body's name as the documents write it."""
        return UPPER_LABELS[self.value]


UPPER_LABELS: dict[str, str] = {"city_bureau": "市生态环境局", "cac": "区委网信办", "leaders": "区领导"}

# Only these grades get a special report: a 一般 matter is handled in the weekly briefing.
SPECIAL_REPORT_MIN_GRADE = Grade.YELLOW


class SubmitterKind(StrEnum):
    """Who owes 信息简报, by the seed's quota classes."""

    STREET_OR_TOWN = "street_or_town"  # 街道/镇
    BUREAU_UNIT = "bureau_unit"  # 局属单位
    DEPARTMENT = "department"  # 区级部门 (and enterprises, schools: the "others")

    @property
    def label(self) -> str:
        """街镇 / 局属单位 / 相关部门."""
        return SUBMITTER_KIND_LABELS[self.value]


SUBMITTER_KIND_LABELS: dict[str, str] = {"street_or_town": "街镇", "bureau_unit": "局属单位", "department": "相关部门"}
# 信息简报 a month (the seed): streets/towns and the bureau's units at least 2, everyone else at least 1.
BRIEF_QUOTA: dict[str, int] = {"street_or_town": 2, "bureau_unit": 2, "department": 1}


# 会办 / 抄送 across to departments (alerts.copies): the duty desk copies an incident to a department,
# the department answers with its handling note (会办意见), the duty desk may withdraw the copy. The
# lead unit stays responsible: none of these moves the incident's state or deadlines.
COPY_ACTION_LABELS: dict[str, str] = {"copy": "抄送部门", "reply": "部门会办意见", "withdraw_copy": "撤回抄送"}
# Where one department's copy stands, as its inbox and the incident page say it.
COPY_STATE_LABELS: dict[str, str] = {"waiting": "待会办", "replied": "已回复", "withdrawn": "已撤回"}


class MailState(StrEnum):
    """What became of one mail read by the 信息简报 email import."""

    IMPORTED = "imported"  # a brief of the unit its sender or subject names
    TRIAGE = "triage"  # unknown sender, no unit, or two units: waits for the duty officer
    ASSIGNED = "assigned"  # the officer said whose it is: a brief now
    DISMISSED = "dismissed"  # the officer said it is no brief (kept, never deleted)

    @property
    def label(self) -> str:
        """已导入 / 待分拣 / 已指定单位 / 已忽略."""
        return MAIL_STATE_LABELS[self.value]


MAIL_STATE_LABELS: dict[str, str] = {"imported": "已导入", "triage": "待分拣", "assigned": "已指定单位",
                                     "dismissed": "已忽略"}
