"""One typed Settings for the whole of ecowatch.

Values come, highest priority first, from: keyword arguments, ``ECOWATCH_*`` environment
variables, the TOML file named by ``ECOWATCH_CONFIG`` (optional), then the defaults below, which
work on a laptop with nothing else installed.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

# HS256 keys shorter than the hash's 32-byte output can be brute-forced offline from any one token.
MIN_SECRET_BYTES = 32


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
    sms_gateway_url: str | None = Field(
        default=None, description="SMS gateway webhook: pages are POSTed as {phone, text}; unset = no SMS")
    public_url: str | None = Field(
        default=None, description="the console's address as officers reach it (signed ack links in pages)")
    user_agent: str = "ecowatch/0.1 (+environmental opinion monitoring; contact: your bureau)"
    secret_key: str | None = Field(
        default=None, description="signs login tokens; default: generated once and kept in <data_dir>/secret_key"
    )
    token_minutes: int = Field(default=480, ge=1, description="how long a login token is valid")
    login_attempts: int = Field(default=5, ge=1, description="failed logins per user and address per window")
    login_address_attempts: int = Field(
        default=20, ge=1, description="failed logins per address per window, whatever the user names (spraying)"
    )
    login_window_seconds: int = Field(default=300, ge=1)
    import_batch_size: int = Field(
        default=500, ge=1, description="posts per transaction of ecowatch import (a killed import keeps its batches)"
    )
    import_future_tolerance_hours: float = Field(
        default=24.0, ge=0, description="an imported post published further ahead than this is refused"
    )
    max_post_chars: int = Field(
        default=20_000, ge=100, description="text of one post kept by import and read by analyze; the rest is cut"
    )
    max_evidence_spans: int = Field(default=50, ge=1, description="evidence spans listed per ecowatch analyze line")
    min_free_mb: int = Field(
        default=64, ge=0, description="/healthz answers 503 when the data folder's disk has less free space"
    )
    public_api_schema: bool = Field(
        default=True, description="/openapi.json answers without a login (false: logged-in users only)"
    )
    trusted_proxies: str | None = Field(
        default=None,
        description="addresses of the reverse proxies whose X-Forwarded-For/-Proto are believed (comma-separated, "
        "as uvicorn's forwarded_allow_ips); unset = none: the client is the connection's address",
    )

    @field_validator("secret_key")
    @classmethod
    def _secret_long_enough(cls, value: str | None) -> str | None:
        """Refuse a token-signing key an attacker could guess from one token (empty = unset)."""
        if not value:
            return None
        if len(value.encode()) < MIN_SECRET_BYTES:
            raise ValueError(f"ECOWATCH_SECRET_KEY must be at least {MIN_SECRET_BYTES} bytes (it has "
                             f"{len(value.encode())}); unset it to use the generated key file, or make one with "
                             f"python -c 'import secrets; print(secrets.token_urlsafe(48))'")
        return value
    inbound_token: str | None = Field(
        default=None, min_length=24,
        description="the city platform's key for POST /api/inbound/platform (上级交办); unset: that endpoint is off")
    # Exports and feeds for other systems (docs/exports.md).
    export_max_rows: int = Field(
        default=10_000, ge=1, le=10_000,
        description="rows one CSV/XLSX export may hold; more matching is refused with a message to narrow the "
                    "filters (10,000 is also Elasticsearch's result window)")
    feed_token: str | None = Field(
        default=None, min_length=24,
        description="the key other systems read /api/feeds/incidents.json|.atom with (every unit); unset: only "
                    "logged-in users read the feeds (their own scope)")
    webhook_urls: str | None = Field(
        default=None, description="comma-separated URLs the new incidents and state changes are POSTed to, "
                                  "signed (docs/exports.md); unset: no outbound webhook")
    webhook_secret: str | None = Field(
        default=None, min_length=32, description="the HMAC-SHA256 key that signs each outbound webhook POST")

    # 信息简报 by email (briefing.mail_sources): the IMAP mailbox units send their briefs to.
    brief_imap_host: str | None = Field(default=None, description="IMAP server of the 信息简报 mailbox; unset = off")
    brief_imap_port: int | None = Field(default=None, ge=1, le=65535, description="default: 993 (ssl), else 143")
    brief_imap_user: str | None = None
    brief_imap_password: str | None = Field(default=None, description="better: brief_imap_password_file")
    brief_imap_password_file: Path | None = Field(
        default=None, description="a file holding the IMAP password, readable by this user only (chmod 600)")
    brief_imap_tls: Literal["ssl", "starttls", "none"] = Field(
        default="ssl", description="ssl (IMAPS), starttls, or none (refused unless the host is this machine)")
    brief_imap_ca_file: Path | None = Field(
        default=None, description="CA certificate(s) the IMAP server's is checked against; default: the system's")
    brief_imap_folder: str = "INBOX"
    brief_mail_interval_minutes: int = Field(
        default=10, ge=1, description="how often ecowatch serve reads the mailbox (when brief_imap_host is set)")

    @model_validator(mode="after")
    def _imap_password_encrypted(self) -> Settings:
        """A mailbox password crosses the network only inside TLS: ``none`` is for this machine."""
        if self.brief_imap_host and self.brief_imap_tls == "none" and \
                self.brief_imap_host not in ("127.0.0.1", "::1", "localhost"):
            raise ValueError("ECOWATCH_BRIEF_IMAP_TLS=none sends the password in clear: only for 127.0.0.1/localhost; "
                             "use ssl or starttls")
        return self

    @field_validator("webhook_urls")
    @classmethod
    def _webhook_urls_are_http(cls, value: str | None) -> str | None:
        """Every outbound webhook address is an http(s) URL (a typo is refused at start, not at 3 a.m.)."""
        urls = [u.strip() for u in (value or "").split(",") if u.strip()]
        bad = [u for u in urls if not u.lower().startswith(("http://", "https://"))]
        if bad:
            raise ValueError(f"ECOWATCH_WEBHOOK_URLS: not http(s) URLs: {', '.join(bad)}")
        return ",".join(urls) or None

    @model_validator(mode="after")
    def _webhook_is_signed(self) -> Settings:
        """An outbound webhook is always signed: URLs without a secret are refused."""
        if self.webhook_urls and not self.webhook_secret:
            raise ValueError("ECOWATCH_WEBHOOK_URLS needs ECOWATCH_WEBHOOK_SECRET (at least 32 characters) to sign "
                             "with; make one with python -c 'import secrets; print(secrets.token_urlsafe(48))'")
        return self

    @property
    def webhook_url_list(self) -> list[str]:
        """The outbound webhook's addresses (empty: off)."""
        return self.webhook_urls.split(",") if self.webhook_urls else []

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
    def models_dir(self) -> Path:
        """The deployment's trained models (``nlp.classifiers.ModelStore``): ``ecowatch retrain``
        keeps every version there and ``--promote`` makes one live. In the data folder, not in
        the installed package, so an upgrade keeps what the desk taught and a read-only install works."""
        return self.data_dir / "models"

    @property
    def briefings_dir(self) -> Path:
        """Where generated briefings are kept: the scheduler writes there, the CLI's ``brief``
        by default, and the API serves the kept files from there."""
        return self.data_dir / "briefings"

    def token_secret(self) -> str:
        """The token-signing secret: ``secret_key`` if set, else one generated at first use and kept
        in the data folder, so tokens survive a restart and differ per deployment.

        The file is created with mode 0600 by ``os.open`` itself: written first and chmod-ed after,
        it would be readable by everyone for a moment."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret_key"
        if not path.exists():
            import secrets

            self.ensure_dirs()
            tmp = path.with_name(f".secret_key.{os.getpid()}.{secrets.token_hex(4)}")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="ascii") as out:
                out.write(secrets.token_urlsafe(48))
            try:
                os.link(tmp, path)  # atomic and exclusive: two processes starting together agree
            except FileExistsError:
                pass
            finally:
                tmp.unlink()
        return path.read_text(encoding="ascii").strip()

    @property
    def sqlite_path(self) -> Path | None:
        """The SQLite database file, when the store is one (None for a server database)."""
        url = self.sqlalchemy_url
        if not url.startswith("sqlite:///") or ":memory:" in url:
            return None
        return Path(url.removeprefix("sqlite:///").split("?", 1)[0])

    def ensure_dirs(self) -> None:
        """Create the data folders (idempotent), private to the user running ecowatch: the data
        folder 0700, and the SQLite database (password hashes, every post) and its journal files
        0600 where an older version left them readable to all. The database itself is not made
        here: a command refused before it opens the store leaves none (:meth:`create_database`)."""
        self.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.snapshot_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        _private(self.data_dir, 0o700)
        database = self.sqlite_path
        if database is None:
            return
        for path in (database, database.with_name(database.name + "-wal"), database.with_name(database.name + "-shm")):
            _private(path, 0o600)

    def create_database(self) -> None:
        """Create the SQLite database empty with its final mode 0600 before SQLite opens it (SQLite
        takes an empty file as a new database, and would make it with the umask's mode)."""
        database = self.sqlite_path
        if database is None or not database.parent.is_dir():
            return
        try:
            os.close(os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except FileExistsError:
            pass
        except OSError:
            return  # a read-only folder: opening the store says so (ecowatch serve, /healthz)


def _private(path: Path, mode: int) -> None:
    """Take group and other permissions off ``path`` if it has any (and is ours to change)."""
    try:
        if path.stat().st_mode & 0o077:
            path.chmod(mode)
    except OSError:
        pass  # missing, or not ours: nothing to tighten


def load_settings(**overrides: Any) -> Settings:
    """Build Settings from the environment, the optional config file and ``overrides``."""
    return Settings(**overrides)
