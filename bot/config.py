"""Settings: secrets and deployment facts from the environment, behaviour from YAML."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from importlib.resources import files
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bot.incidents.rota import DutyRota
from bot.playbooks import Duration, Invitee, PlaybookLibrary, load_playbooks
from bot.scenarios import ScenarioLibrary, load_scenarios, scenarios_dir
from bot.settings_errors import ConfigError, describe_validation_error, load_yaml_mapping
from bot.store import DEFAULT_TIMEOUT as DEFAULT_DATABASE_TIMEOUT
from bot.store.urls import DatabaseUrlError, async_database_url

DEFAULT_SLACK_API_URL = "https://slack.com/api/"
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///incidents.db"
_CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{2,}$")


class BotConfig(BaseModel):
    """The YAML config (`BOT_CONFIG`, default `config.yaml`). Every key is in config.example.yaml."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    broadcast_channel: str | None = None
    response_team_channel: str | None = None
    channel_prefix: str = "inc"
    playbooks_dir: Path | None = None  # None: ./playbooks, else the playbooks shipped with warroom
    default_playbook: str = "default"
    conference_bridge_url: str | None = None
    archive_on_close: bool = False  # archive the war room after closing (scope channels:manage)
    # Who may act on any incident besides its role holders: user IDs and user groups (S…).
    incident_admins: list[Invitee] = Field(default_factory=list)
    # Before the storm: who is paged, and where alerts arrive.
    response_team: list[Invitee] = Field(default_factory=list)
    duty_rota: DutyRota | None = None
    ack_within: Duration = timedelta(minutes=5)
    alerts_channel: str | None = None
    alert_severity_label: str = "severity"
    alert_severity_map: dict[str, str] = Field(default_factory=dict)

    # Drills: where their stakeholder updates go instead of the executives' channel (None:
    # they stay in the drill's war room).
    drill_broadcast_channel: str | None = None

    @field_validator(
        "broadcast_channel", "response_team_channel", "drill_broadcast_channel", "alerts_channel"
    )
    @classmethod
    def _channel_id(cls, value: str | None) -> str | None:
        if value is not None and not _CHANNEL_ID.match(value):
            raise ValueError(
                f"{value!r} is not a channel ID; use the ID (C…), found under the channel's "
                "name > About, not its #name"
            )
        return value

    @field_validator("channel_prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,19}", value):
            raise ValueError("use 1-20 lowercase letters, digits, '-' or '_'")
        return value

    @field_validator("alert_severity_map")
    @classmethod
    def _severity_names(cls, value: dict[str, str]) -> dict[str, str]:
        for label, severity in value.items():
            if not re.fullmatch(r"SEV\d", str(severity)):
                raise ValueError(f"{label}: {severity!r} is not a severity name (SEV0..SEV9)")
        return value

    @field_validator("conference_bridge_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://\S+$", value):
            raise ValueError(f"{value!r} is not an http(s) URL")
        return value


@dataclass(frozen=True)
class Settings:
    bot_token: str | None
    signing_secret: str | None
    app_token: str | None
    slack_api_url: str
    database_url: str
    database_timeout: float
    port: int
    config: BotConfig
    playbooks: PlaybookLibrary
    config_path: Path | None
    auto_migrate: bool = True  # upgrade the database schema at start
    scenarios: ScenarioLibrary = field(default_factory=ScenarioLibrary)
    alerts_token: str | None = None  # ALERTS_TOKEN: unset, alert intake is off


def load_config(path: Path | None) -> BotConfig:
    if path is None:
        return BotConfig()
    data, node = load_yaml_mapping(path)
    try:
        config = BotConfig.model_validate(data)
    except ValidationError as error:
        raise ConfigError(describe_validation_error(path, node, error)) from error
    if config.playbooks_dir is not None and not config.playbooks_dir.is_absolute():
        # Relative to the config file, so `BOT_CONFIG=/etc/warroom/config.yaml` finds its playbooks.
        config = config.model_copy(update={"playbooks_dir": path.parent / config.playbooks_dir})
    return config


def shipped_playbooks_dir() -> Path:
    """The playbooks installed with warroom: the repository's playbooks/ folder, packaged as
    `bot.shipped_playbooks` (setup.py maps it), so a wheel carries them."""
    return Path(str(files("bot.shipped_playbooks")))


def playbooks_dir(config: BotConfig) -> Path:
    """The config's `playbooks_dir` when set, else ./playbooks, else the shipped ones."""
    if config.playbooks_dir is not None:
        return config.playbooks_dir
    local = Path("playbooks")
    return local if local.is_dir() else shipped_playbooks_dir()


def config_path_from_env(env: dict[str, str]) -> Path | None:
    if env.get("BOT_CONFIG"):
        path = Path(env["BOT_CONFIG"])
        if not path.is_file():
            raise ConfigError([f"{path}: BOT_CONFIG names a file that does not exist"])
        return path
    default = Path("config.yaml")
    return default if default.is_file() else None


def _port(env: dict[str, str]) -> int:
    raw = env.get("PORT", "3000")
    if not raw.isdigit() or not 0 <= int(raw) < 65536:
        raise ConfigError([f"PORT: {raw!r} is not a port number"])
    return int(raw)


def _auto_migrate(env: dict[str, str]) -> bool:
    raw = env.get("AUTO_MIGRATE", "").strip().lower() or "true"
    if raw not in ("true", "false"):
        raise ConfigError([f"AUTO_MIGRATE: {env['AUTO_MIGRATE']!r} is neither true nor false"])
    return raw == "true"


def _database_url(env: dict[str, str]) -> str:
    try:
        return async_database_url(env.get("DATABASE_URL") or DEFAULT_DATABASE_URL)
    except DatabaseUrlError as error:
        raise ConfigError([f"DATABASE_URL: {error}"]) from error


def _database_timeout(env: dict[str, str]) -> float:
    raw = env.get("DATABASE_TIMEOUT") or str(DEFAULT_DATABASE_TIMEOUT)
    try:
        seconds = float(raw)
    except ValueError:
        seconds = 0.0
    if not 0 < seconds <= 600:
        raise ConfigError([f"DATABASE_TIMEOUT: {raw!r} is not a number of seconds (0-600], e.g. 5"])
    return seconds


def _behaviour(
    env: dict[str, str],
) -> tuple[Path | None, BotConfig, PlaybookLibrary, ScenarioLibrary]:
    """The config, the playbooks and the drill scenarios beside them: the problems of the
    playbooks and of the scenarios are reported together."""
    path = config_path_from_env(env)
    config = load_config(path)
    folder = playbooks_dir(config)
    problems: list[str] = []
    playbooks = scenarios = None
    try:
        playbooks = load_playbooks(folder, config.default_playbook)
    except ConfigError as error:
        problems.extend(error.problems)
    try:
        scenarios = load_scenarios(scenarios_dir(folder), playbooks)
    except ConfigError as error:
        problems.extend(error.problems)
    if problems:
        raise ConfigError(problems)
    return path, config, playbooks, scenarios


def load_settings(env: dict[str, str] | None = None) -> Settings:
    """Everything the bot needs to start; raises ConfigError naming every broken variable,
    file and field at once."""
    env = dict(os.environ if env is None else env)
    problems: list[str] = []

    def collect(read):
        try:
            return read(env)
        except ConfigError as error:
            problems.extend(error.problems)
            return None

    database_url, database_timeout = collect(_database_url), collect(_database_timeout)
    port, behaviour = collect(_port), collect(_behaviour)
    auto_migrate = collect(_auto_migrate)
    if problems:
        raise ConfigError(problems)
    path, config, playbooks, scenarios = behaviour
    return Settings(
        bot_token=env.get("SLACK_BOT_TOKEN") or None,
        signing_secret=env.get("SLACK_SIGNING_SECRET") or None,
        app_token=env.get("SLACK_APP_TOKEN") or None,
        slack_api_url=slack_api_url(env),
        database_url=database_url,
        database_timeout=database_timeout,
        port=port,
        config=config,
        playbooks=playbooks,
        config_path=path,
        auto_migrate=auto_migrate,
        scenarios=scenarios,
        alerts_token=env.get("ALERTS_TOKEN") or None,
    )


def missing_secrets(env: Mapping[str, str]) -> list[str]:
    """The environment variables still needed to talk to Slack."""
    missing = [] if env.get("SLACK_BOT_TOKEN") else ["SLACK_BOT_TOKEN"]
    if not env.get("SLACK_APP_TOKEN") and not env.get("SLACK_SIGNING_SECRET"):
        missing.append("SLACK_SIGNING_SECRET (or SLACK_APP_TOKEN for Socket Mode)")
    return missing


def slack_api_url(env: Mapping[str, str]) -> str:
    api_url = env.get("SLACK_API_URL") or DEFAULT_SLACK_API_URL
    return api_url if api_url.endswith("/") else api_url + "/"


def database_and_port(env: dict[str, str]) -> tuple[tuple[str, float] | None, int | None]:
    """(DATABASE_URL, DATABASE_TIMEOUT) and PORT where they parse, None where not
    (`load_settings` says why): startup tries them even when other settings are broken."""

    def parsed(read):
        try:
            return read(env)
        except ConfigError:
            return None

    url, timeout, port = parsed(_database_url), parsed(_database_timeout), parsed(_port)
    return ((url, timeout) if url and timeout else None), port
