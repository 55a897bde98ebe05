"""One typed Settings for the whole of ecowatch.

Values come, highest priority first, from: keyword arguments, ``ECOWATCH_*`` environment
variables, the TOML file named by ``ECOWATCH_CONFIG`` (optional), then the defaults below, which
work on a laptop with nothing else installed.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import Field
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)


def _default_data_dir() -> Path:
    return Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share")) / "ecowatch"


class Settings(BaseSettings):
    """Every knob of ecowatch, validated once at start-up."""

    model_config = SettingsConfigDict(env_prefix="ECOWATCH_", extra="ignore")

    data_dir: Path = Field(default_factory=_default_data_dir, description="SQLite file and snapshots")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default sqlite:///<data_dir>/ecowatch.db"
    )
    jurisdiction: str = Field(
        default="jiangbei", description="name of a bundled jurisdiction pack, or a path to a pack folder"
    )
    sources_file: Path | None = Field(
        default=None, description="TOML list of sources; default: the jurisdiction pack's sources.toml"
    )
    es_url: str | None = Field(default=None, description="Elasticsearch URL; unset = not used")
    redis_url: str | None = Field(
        default=None, description="Redis URL shared by crawler hosts (scrapy-redis); unset = one-host crawls"
    )
    host: str = "127.0.0.1"
    port: int = 8000
    collect_interval_minutes: int = Field(default=15, ge=1)
    process_interval_seconds: int = Field(default=30, ge=1)
    escalate_interval_seconds: int = Field(default=60, ge=5)
    fetch_timeout_seconds: float = Field(default=20.0, gt=0)
    crawl_time_limit_seconds: int = Field(default=600, ge=10)
    smtp_host: str | None = Field(default=None, description="SMTP server for email notifications; unset = off")
    smtp_port: int = 25
    smtp_from: str = "ecowatch@localhost"
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    wecom_enabled: bool = Field(default=False, description="send to WeCom group robots named in the contacts")
    dingtalk_enabled: bool = Field(default=False, description="send to DingTalk group robots named in the contacts")
    dingtalk_secret: str | None = Field(default=None, description="DingTalk robot signing secret (加签)")
    notify_timeout_seconds: float = Field(default=10.0, gt=0)
    notify_interval_seconds: int = Field(default=30, ge=1, description="how often the outbox is delivered")
    contacts_file: Path | None = Field(default=None, description="TOML [[contacts]] added to the pack's")
    user_agent: str = "ecowatch/0.1 (+environmental opinion monitoring; contact: your bureau)"
    secret_key: str | None = Field(
        default=None, description="signs login tokens; default: generated once and kept in <data_dir>/secret_key"
    )
    token_minutes: int = Field(default=480, ge=1, description="how long a login token is valid")
    login_attempts: int = Field(default=5, ge=1, description="failed logins per user and address per window")
    login_window_seconds: int = Field(default=300, ge=1)
    inbound_token: str | None = Field(
        default=None, min_length=24,
        description="the city platform's key for POST /api/inbound/platform (上级交办); unset: that endpoint is off")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Insert the optional TOML config file below the environment."""
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config = os.environ.get("ECOWATCH_CONFIG")
        if config:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=Path(config)))
        return tuple(sources)

    @property
    def sqlalchemy_url(self) -> str:
        """The database URL actually used (SQLite in ``data_dir`` unless configured)."""
        return self.database_url or f"sqlite:///{self.data_dir / 'ecowatch.db'}"

    @property
    def snapshot_dir(self) -> Path:
        """Where each post's original text/HTML is kept at first sight."""
        return self.data_dir / "snapshots"

    @property
    def briefings_dir(self) -> Path:
        """Where generated briefings are kept: the scheduler writes there, the CLI's ``brief``
        by default, and the API serves the kept files from there."""
        return self.data_dir / "briefings"

    def token_secret(self) -> str:
        """The token-signing secret: ``secret_key`` if set, else one generated at first use and kept
        (mode 0600) in the data folder, so tokens survive a restart and differ per deployment."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret_key"
        if not path.exists():
            import secrets

            self.data_dir.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".secret_key.{os.getpid()}.{secrets.token_hex(4)}")
            tmp.write_text(secrets.token_urlsafe(48), encoding="ascii")
            tmp.chmod(0o600)
            try:
                os.link(tmp, path)  # atomic and exclusive: two processes starting together agree
            except FileExistsError:
                pass
            finally:
                tmp.unlink()
        return path.read_text(encoding="ascii").strip()

    def ensure_dirs(self) -> None:
        """Create the data folders (idempotent)."""
        self.snapshot_dir.mkdir(parents=True, exist_ok=True)


def load_settings(**overrides: Any) -> Settings:
    """Build Settings from the environment, the optional config file and ``overrides``."""
    return Settings(**overrides)
