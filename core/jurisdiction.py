"""Jurisdiction packs: the units, places, departments and deadline policy of one district, as data.

A pack is a folder with ``pack.toml`` and the CSV files it names (see
``core/jurisdictions/jiangbei``). Watching another district is a new folder, not new code.
"""

from __future__ import annotations

import csv
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from core.errors import ConfigError

BUNDLED = Path(__file__).parent / "jurisdictions"


@dataclass(frozen=True, slots=True)
class Unit:
    """A street (街道) or town (镇): the territorial owner of incidents."""

    code: str
    name: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Place:
    """A name people write (community, landmark, road, river...) and the unit(s) it lies in."""

    name: str
    kind: str
    unit_codes: tuple[str, ...]
    aliases: tuple[str, ...] = ()
    confidence: str = "high"  # high | medium | ambiguous
    source: str = ""

    @property
    def ambiguous(self) -> bool:
        """True when the name alone cannot pick one unit."""
        return len(self.unit_codes) != 1


@dataclass(frozen=True, slots=True)
class Department:
    """A competent department (职能部门) that incidents are routed to by topic."""

    code: str
    name: str


@dataclass(frozen=True, slots=True)
class RoutingRule:
    """Topic (and optional trigger words) → department; first match wins."""

    topic: str
    any: tuple[str, ...]
    department: str


@dataclass(frozen=True, slots=True)
class Neighbour:
    """A name that points outside the district (another district, street, or a shared name)."""

    name: str
    level: str  # district | street_or_town | shared_community
    district: str
    count: int


@dataclass(frozen=True)
class Jurisdiction:
    """Everything district-specific, loaded from a pack folder."""

    root: Path
    code: str
    name: str
    short_name: str
    city: str
    city_short: str
    aliases: tuple[str, ...]
    foreign_markers: tuple[str, ...]
    duty_desk: str
    units: dict[str, Unit]
    places: list[Place]
    departments: dict[str, Department]
    routing: list[RoutingRule]
    deadlines: dict[str, dict[str, float]]
    escalation: dict[str, Any]
    neighbours: list[Neighbour] = field(default_factory=list)
    sources_path: Path | None = None
    grading: dict[str, Any] = field(default_factory=dict)  # [grading]: thresholds, tiers, signals
    grouping: dict[str, Any] = field(default_factory=dict)  # [grouping]: merge window, similarity
    followups: dict[str, Any] = field(default_factory=dict)  # [followups]: official/unresolved cue words
    workflow: dict[str, Any] = field(default_factory=dict)  # [workflow]: return limit, reopen window
    notify: dict[str, Any] = field(default_factory=dict)  # [notify]: routing by event, quiet hours
    contacts: list[dict[str, Any]] = field(default_factory=list)  # [[contacts]]: who gets what
    rota: dict[str, Any] = field(default_factory=dict)  # [rota]: shift hours, paging grades, ack timeouts
    briefs: dict[str, Any] = field(default_factory=dict)  # [briefs]: who owes 信息简报 besides the units

    def unit(self, code: str | None) -> Unit | None:
        """The unit with this official code, or None."""
        return self.units.get(code) if code else None

    def unit_by_name(self, name: str) -> Unit | None:
        """The unit with this official name or alias, or None."""
        for unit in self.units.values():
            if name == unit.name or name in unit.aliases:
                return unit
        return None

    def department(self, name: str | None) -> Department | None:
        """The department with this code or name, or None."""
        return next((d for d in self.departments.values() if name in (d.code, d.name)), None) if name else None

    def own_names(self) -> list[str]:
        """The district's and units' own names and aliases: words every post here may carry, so
        they tell nothing about which event a post is about (see ``nlp.salience``)."""
        names = [self.name, self.short_name, *self.aliases]
        for unit in self.units.values():
            names += [unit.name, *unit.aliases]
        return [n for n in names if n]

    def route(self, topic: str, text: str) -> Department | None:
        """The competent department for a topic, given the post text (first matching rule)."""
        for rule in self.routing:
            if rule.topic not in (topic, "*"):
                continue
            if not rule.any or any(word in text for word in rule.any):
                return self.departments.get(rule.department)
        return None


def _read_csv(path: Path) -> list[dict[str, str]]:
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            return list(csv.DictReader(fh))
    except FileNotFoundError:
        return []
    except (csv.Error, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}") from exc


def _split(value: str | None) -> tuple[str, ...]:
    return tuple(v.strip() for v in (value or "").split("|") if v.strip())


def resolve_pack(name_or_path: str) -> Path:
    """Find a pack folder: a bundled pack by name, or a path."""
    candidate = Path(name_or_path)
    if (candidate / "pack.toml").is_file():
        return candidate
    bundled = BUNDLED / name_or_path
    if (bundled / "pack.toml").is_file():
        return bundled
    raise ConfigError(f"no jurisdiction pack {name_or_path!r} (looked for pack.toml in {candidate} and {bundled})")


def _load_places(root: Path, files: dict[str, str], units: dict[str, Unit]) -> list[Place]:
    places: list[Place] = []
    for row in _read_csv(root / files.get("divisions", "divisions.csv")):
        if row.get("level") == "community_or_village" and row["parent_code"] in units:
            places.append(Place(row["short_name"], "community", (row["parent_code"],),
                                aliases=(row["name"],), source="统计用区划代码 2021"))
    for row in _read_csv(root / files.get("places", "places.csv")):
        codes = tuple(c for c in _split(row.get("unit_code")) if c in units)
        if not row.get("name") or not codes:
            continue  # a place we cannot map to one of our units helps nobody
        places.append(Place(row["name"].strip(), row.get("kind", "landmark") or "landmark", codes,
                            _split(row.get("aliases")), row.get("confidence") or "medium",
                            row.get("source", "")))
    return places


@lru_cache(maxsize=8)
def load_jurisdiction(name_or_path: str = "jiangbei") -> Jurisdiction:
    """Load and validate a jurisdiction pack (cached: packs are read-only at run time)."""
    root = resolve_pack(name_or_path)
    try:
        meta = tomllib.loads((root / "pack.toml").read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{root / 'pack.toml'}: {exc}") from exc
    try:
        district = meta["district"]
        files = meta.get("files", {})
        rows = _read_csv(root / files.get("divisions", "divisions.csv"))
        aliases = {code: tuple(names) for code, names in meta.get("unit_aliases", {}).items()}
        units = {r["code"]: Unit(r["code"], r["name"], aliases.get(r["code"], ()))
                 for r in rows if r["level"] == "street_or_town" and r["parent_code"] == district["code"]}
        if not units:
            raise ConfigError(f"{root}: no street_or_town rows under district {district['code']}")
        departments = {d["code"]: Department(d["code"], d["name"]) for d in meta.get("departments", [])}
        routing = [RoutingRule(r["topic"], tuple(r.get("any", [])), r["department"])
                   for r in meta.get("routing", [])]
        for rule in routing:
            if rule.department not in departments:
                raise ConfigError(f"{root}: routing names unknown department {rule.department!r}")
        neighbours = [Neighbour(r["name"], r["level"], r["district"], int(r["count"] or 1))
                      for r in _read_csv(root / files.get("neighbours", "neighbours.csv"))]
        sources = root / files.get("sources", "sources.toml")
        return Jurisdiction(
            root=root,
            code=district["code"],
            name=district["name"],
            short_name=district.get("short_name", district["name"]),
            city=district.get("city", ""),
            city_short=district.get("city_short", ""),
            aliases=tuple(district.get("aliases", [])),
            foreign_markers=tuple(district.get("foreign_markers", [])),
            duty_desk=district.get("duty_desk", "值班室"),
            units=units,
            places=_load_places(root, files, units),
            departments=departments,
            routing=routing,
            deadlines=meta.get("deadlines", {}),
            escalation=meta.get("escalation", {}),
            neighbours=neighbours,
            sources_path=sources if sources.is_file() else None,
            grading=meta.get("grading", {}),
            grouping=meta.get("grouping", {}),
            followups=meta.get("followups", {}),
            workflow=meta.get("workflow", {}),
            notify=meta.get("notify", {}),
            contacts=meta.get("contacts", []),
            rota=meta.get("rota", {}),
            briefs=meta.get("briefs", {}),
        )
    except KeyError as exc:
        raise ConfigError(f"{root / 'pack.toml'}: missing field {exc}") from exc
