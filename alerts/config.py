"""The alerting configuration of one jurisdiction, read once from its pack (and contacts file)."""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alerts.escalation import EscalationPolicy
from alerts.rota import RotaPolicy
from core.errors import ConfigError
from core.jurisdiction import Jurisdiction


@dataclass(slots=True)
class AlertsConfig:
    """Policies the service applies; all of it data from the pack."""

    jurisdiction: Jurisdiction
    grading: dict[str, Any]
    grouping: dict[str, Any]
    workflow: dict[str, Any]
    escalation: EscalationPolicy
    routes: dict[str, list[str]]
    contacts: list[dict[str, Any]]
    quiet_hours: list[str] | None
    group: dt.timedelta
    max_attempts: int
    backoff_seconds: float
    channels: tuple[str, ...] = field(default=("feed", "email", "wecom", "dingtalk"))
    rota: RotaPolicy = field(default_factory=RotaPolicy)  # the pack's [rota]: shift hours, paging

    @property
    def min_unit_confidence(self) -> float:
        """Below this the duty desk triages instead of the machine assigning."""
        return float(self.workflow.get("min_unit_confidence", 0.6))


def load_contacts(path: Path) -> list[dict[str, Any]]:
    """``[[contacts]]`` from a TOML file (webhook URLs and addresses kept out of the pack)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"contacts file {path}: {exc}") from exc
    contacts = data.get("contacts", [])
    for number, contact in enumerate(contacts, 1):
        if not contact.get("roles"):
            raise ConfigError(f"contacts file {path}: contact {number} has no roles")
    return list(contacts)


def alerts_config(jurisdiction: Jurisdiction, contacts_file: Path | None = None) -> AlertsConfig:
    """Build the configuration from a pack (plus an optional contacts file)."""
    notify = jurisdiction.notify
    contacts = list(jurisdiction.contacts) + (load_contacts(contacts_file) if contacts_file else [])
    quiet = notify.get("quiet_hours")
    if quiet is not None and len(quiet) != 2:
        raise ConfigError("pack [notify] quiet_hours needs [start, end] like [\"22:00\", \"07:30\"]")
    return AlertsConfig(
        jurisdiction=jurisdiction,
        grading=jurisdiction.grading,
        grouping=jurisdiction.grouping,
        workflow=jurisdiction.workflow,
        escalation=EscalationPolicy.from_pack(jurisdiction.escalation),
        routes={k: list(v) for k, v in notify.get("routes", {}).items()},
        contacts=contacts,
        quiet_hours=list(quiet) if quiet else None,
        group=dt.timedelta(minutes=float(notify.get("group_minutes", 10))),
        max_attempts=int(notify.get("max_attempts", 6)),
        backoff_seconds=float(notify.get("backoff_seconds", 30)),
        rota=RotaPolicy.from_pack(jurisdiction.rota),
    )
