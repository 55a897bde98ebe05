"""The kinds of the console's live-feed lines and their Chinese names: the console, the
authenticated feeds for other systems and the outbound webhook all name them from here."""

from __future__ import annotations

EVENT_LABELS: dict[str, str] = {"incident_new": "新事件", "grade_raised": "等级上调", "overdue": "超期",
                                "incident_changed": "处置进展", "notification": "通知"}
