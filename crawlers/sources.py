"""The sources a district watches, as data (``sources.toml``), and their validation."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.errors import ConfigError

KINDS = ("rss", "site")


@dataclass(frozen=True, slots=True)
class Source:
    """One watched source.

    ``kind`` rss: ``url`` is a feed. ``kind`` site: ``url`` is a list page, crawled list → detail
    by the generic Scrapy spider with the selectors in ``rules`` (main-text extraction where none).
    """

    name: str
    kind: str
    url: str
    every_minutes: int = 15
    expected_every_hours: float = 24.0  # no item for longer than this = "blind"
    enabled: bool = True
    rules: dict[str, Any] = field(default_factory=dict)


def _format(value: str, variables: dict[str, str]) -> str:
    for key, val in variables.items():
        value = value.replace("{" + key + "}", val)
    return value


def load_sources(path: Path, variables: dict[str, str] | None = None) -> list[Source]:
    """Read ``[[source]]`` tables from a TOML file; ``{name}`` placeholders in URLs are filled
    from ``variables`` (the demo uses ``{base}`` for its local address)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"sources file not found: {path}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    out: list[Source] = []
    seen: set[str] = set()
    for i, raw in enumerate(data.get("source", [])):
        where = f"{path} source #{i + 1}"
        try:
            src = Source(
                name=raw["name"], kind=raw["kind"], url=_format(raw["url"], variables or {}),
                every_minutes=int(raw.get("every_minutes", 15)),
                expected_every_hours=float(raw.get("expected_every_hours", 24)),
                enabled=bool(raw.get("enabled", True)), rules=dict(raw.get("rules", {})),
            )
        except KeyError as exc:
            raise ConfigError(f"{where}: missing {exc}") from exc
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{where}: {exc}") from exc
        if src.kind not in KINDS:
            raise ConfigError(f"{where}: kind {src.kind!r} is not one of {', '.join(KINDS)}")
        if src.name in seen:
            raise ConfigError(f"{where}: duplicate name {src.name!r}")
        seen.add(src.name)
        out.append(src)
    return out
