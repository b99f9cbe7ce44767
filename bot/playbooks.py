"""Playbooks: one YAML file per incident type, agreed up front.

A playbook says what counts as each severity (so not everything escalates), which
severities are *major* (broadcast, response team, update cadence), who is invited, the
roles and their duties, the stakeholder update template and the declaration checklist.
"""

from __future__ import annotations

import re
import string
from datetime import timedelta
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from bot.settings_errors import (
    ConfigError,
    describe_validation_error,
    load_named_files,
    load_yaml_mapping,
)

_DURATION = re.compile(r"^\s*(?:(\d+)h)?\s*(?:(\d+)m)?\s*(?:(\d+)s)?\s*$")
# A cadence or escalation longer than this is a typo, and far enough out would not even fit
# in a date (datetime overflows), so it could never be scheduled.
LONGEST_DURATION = timedelta(days=7)


def parse_duration(value: object) -> timedelta:
    """`45s`, `30m`, `1h`, `1h30m` -> timedelta. Bare numbers are refused: units must be explicit."""
    if isinstance(value, timedelta):
        return value
    match = _DURATION.match(str(value)) if isinstance(value, str) else None
    if not match or not any(match.groups()):
        raise ValueError(f"{value!r} is not a duration; write it like 45s, 30m, 1h or 1h30m")
    hours, minutes, seconds = (int(g or 0) for g in match.groups())
    total_seconds = hours * 3600 + minutes * 60 + seconds
    if total_seconds <= 0:
        raise ValueError(f"{value!r} must be longer than zero")
    if total_seconds > LONGEST_DURATION.total_seconds():
        longest = format_duration(LONGEST_DURATION)
        raise ValueError(f"{value!r} is too long to schedule; the longest is {longest}")
    return timedelta(seconds=total_seconds)


def format_duration(duration: timedelta) -> str:
    total = int(duration.total_seconds())
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = [
        f"{hours}h" if hours else "",
        f"{minutes}m" if minutes else "",
        f"{seconds}s" if seconds else "",
    ]
    return "".join(parts) or "0s"


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]

_SLACK_ID = re.compile(r"^[UWS][A-Z0-9]{2,}$")

UPDATE_TEMPLATE_FIELDS = (
    "title",
    "severity",
    "status",
    "impact",
    "what_we_know",
    "what_we_are_doing",
    "next_update",
)

DEFAULT_UPDATE_TEMPLATE = """\
*{title}* ({severity}, {status})
*Impact:* {impact}
*What we know:* {what_we_know}
*What we're doing:* {what_we_are_doing}
*Next update:* {next_update}"""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Role(_Strict):
    title: str
    duty: str
    aliases: list[str] = Field(default_factory=list)


DEFAULT_ROLES = {
    "commander": Role(
        title="Incident Commander",
        duty="Steers the response: decides, delegates, keeps the cadence.",
        aliases=["ic", "mim"],
    ),
    "comms": Role(
        title="Comms Lead",
        duty="Talks to stakeholders and approves every update, so engineers can focus.",
        aliases=["cl"],
    ),
    "tech": Role(
        title="Tech Lead",
        duty="Leads the technical investigation and the fix.",
        aliases=["tl"],
    ),
}


def _matching(pattern: re.Pattern, advice: str) -> BeforeValidator:
    """A string field that must match `pattern`; otherwise "'value' <advice>"."""

    def check(value: object) -> str:
        if not isinstance(value, str) or not pattern.fullmatch(value):
            raise ValueError(f"{value!r} {advice}")
        return value

    return BeforeValidator(check)


Invitee = Annotated[
    str,
    _matching(
        _SLACK_ID,
        "is not a Slack user ID (U…/W…) or user-group ID (S…); "
        "copy it from the profile's 'Copy member ID'",
    ),
]
# Typed as `playbook=NAME` in a command, so one word without '=' or spaces.
PlaybookName = Annotated[
    str,
    _matching(
        re.compile(r"[a-z0-9][a-z0-9_-]{0,39}"),
        "cannot be typed as playbook=NAME; use 1-40 lowercase letters, digits, '-' or '_' "
        "(e.g. security-breach)",
    ),
]


class Severity(_Strict):
    description: str
    major: bool = False
    update_every: Duration | None = None
    escalate_after: Duration | None = None
    invite: list[Invitee] = Field(default_factory=list)
    # Close is refused until the problem-management record is set (`/incident problem`).
    requires_problem_record: bool = False
    # Alerts mapped to this severity declare an incident at once, without triage.
    auto_declare: bool = False

    @model_validator(mode="after")
    def _major_needs_cadence(self) -> Severity:
        if self.major and self.update_every is None:
            raise ValueError("a major severity needs update_every (the stakeholder update cadence)")
        return self


DEFAULT_REVIEW_SECTIONS = (
    "Impact",
    "Root cause",
    "What went well",
    "What went wrong",
    "Where we got lucky",
)
MAX_REVIEW_SECTIONS = 20  # one input each in the review form (a modal holds 100 blocks)


class Review(_Strict):
    """The post-incident review's written sections, filled in by the people who were there."""

    sections: list[str] = Field(default_factory=lambda: list(DEFAULT_REVIEW_SECTIONS))

    @model_validator(mode="after")
    def _usable_sections(self) -> Review:
        if not self.sections:
            raise ValueError("sections: name at least one section")
        if len(self.sections) > MAX_REVIEW_SECTIONS:
            raise ValueError(f"sections: at most {MAX_REVIEW_SECTIONS} sections fit in the form")
        seen: set[str] = set()
        for name in self.sections:
            if not name.strip() or len(name) > 100:
                raise ValueError(f"sections: {name!r} must be 1-100 characters")
            if name.lower() in seen:
                raise ValueError(f"sections: {name!r} is named twice")
            seen.add(name.lower())
        return self


class DrillTargets(_Strict):
    """What a drill's scorecard holds the team to (`drill_targets` in a playbook)."""

    comms_handover: Duration = timedelta(minutes=5)  # a comms lead named, from declaring
    tech_handover: Duration = timedelta(minutes=10)  # a tech lead named, from declaring
    first_update: Duration = timedelta(minutes=15)  # the first stakeholder update sent
    approval: Duration = timedelta(minutes=5)  # each update drafted -> sent
    replace_offline: Duration = timedelta(minutes=5)  # a role whose holder dropped out, handed on


ANY_ROLE = "roles"  # in `permissions`: whoever holds any of the incident's roles now
PermissionEntry = Annotated[
    str,
    _matching(
        re.compile(r"[a-z0-9_-]{1,40}|[UWS][A-Z0-9]{2,}"),
        "is neither a role of this playbook, `roles`, a user ID (U…/W…) nor a user-group ID (S…)",
    ),
]


def _anyone_with_a_role() -> list[str]:
    return [ANY_ROLE]


class Permissions(_Strict):
    """Who may do what to an incident, per action: role keys, `roles` (any current role
    holder), user IDs and user-group IDs. The incident admins of the config always may.
    An empty list leaves an action to the incident admins alone."""

    assign: list[PermissionEntry] = Field(default_factory=_anyone_with_a_role)
    status: list[PermissionEntry] = Field(default_factory=_anyone_with_a_role)
    severity: list[PermissionEntry] = Field(default_factory=_anyone_with_a_role)
    resolve: list[PermissionEntry] = Field(default_factory=_anyone_with_a_role)
    close: list[PermissionEntry] = Field(default_factory=_anyone_with_a_role)
    # Approving, editing or skipping a stakeholder update: the comms lead's call.
    updates: list[PermissionEntry] = Field(default_factory=lambda: ["comms", "commander"])
    review: list[PermissionEntry] = Field(default_factory=_anyone_with_a_role)
    action_items: list[PermissionEntry] = Field(default_factory=_anyone_with_a_role)
    problem: list[PermissionEntry] = Field(default_factory=_anyone_with_a_role)

    def who(self, action: str) -> list[str]:
        return getattr(self, action)

    def unknown_roles(self, roles: dict[str, Role]) -> list[InitErrorDetails]:
        """Entries naming a role the playbook does not have, as located validation errors."""
        usable = ", ".join([ANY_ROLE, *roles])
        return [
            InitErrorDetails(
                type=PydanticCustomError(
                    "unknown_role",
                    f"{entry!r} is not a role of this playbook; use {usable}, a user ID "
                    "(U…/W…) or a user-group ID (S…)",
                ),
                loc=("permissions", action, index),
                input=entry,
            )
            for action in sorted(self.model_fields_set)
            for index, entry in enumerate(self.who(action))
            if entry != ANY_ROLE and not _SLACK_ID.match(entry) and entry not in roles
        ]


class Playbook(_Strict):
    name: PlaybookName
    description: str = ""
    default_severity: str | None = None
    private: bool = False
    severities: dict[str, Severity]
    roles: dict[str, Role] = Field(default_factory=lambda: dict(DEFAULT_ROLES))
    checklist: list[str] = Field(default_factory=list)
    update_template: str = DEFAULT_UPDATE_TEMPLATE
    review: Review = Field(default_factory=Review)

    drill_targets: DrillTargets = Field(default_factory=DrillTargets)
    permissions: Permissions = Field(default_factory=Permissions)

    @model_validator(mode="after")
    def _permissions_name_roles(self) -> Playbook:
        # Raised as located errors, so the message names `permissions.<action>.<n>` and its line.
        unknown = self.permissions.unknown_roles(self.roles)
        if unknown:
            raise ValidationError.from_exception_data("Playbook", unknown)
        return self

    @model_validator(mode="after")
    def _consistent(self) -> Playbook:
        if not self.severities:
            raise ValueError("severities: at least one severity is needed")
        for key in self.severities:
            if not re.fullmatch(r"SEV\d", key):
                raise ValueError(f"severities: {key!r} must be named SEV0..SEV9")
        if self.default_severity is not None and self.default_severity not in self.severities:
            raise ValueError(
                f"default_severity: {self.default_severity!r} is not one of {', '.join(self.severities)}"
            )
        if "commander" not in self.roles:
            raise ValueError("roles: a 'commander' role is required (the declarer holds it first)")
        seen: dict[str, str] = {}
        for key, role in self.roles.items():
            for name in [key, *role.aliases]:
                if name in seen:
                    raise ValueError(f"roles: {name!r} names both {seen[name]!r} and {key!r}")
                seen[name] = key
        unknown = _template_fields(self.update_template) - set(UPDATE_TEMPLATE_FIELDS)
        if unknown:
            raise ValueError(
                f"update_template: unknown field {{{sorted(unknown)[0]}}}; "
                f"use {', '.join('{' + f + '}' for f in UPDATE_TEMPLATE_FIELDS)}"
            )
        return self

    @property
    def severity_names(self) -> list[str]:
        return sorted(self.severities)

    @property
    def initial_severity(self) -> str:
        return self.default_severity or self.severity_names[len(self.severity_names) // 2]

    def role_key(self, name: str) -> str | None:
        """Resolve a role name or alias (case-insensitive) to its key."""
        wanted = name.lower()
        for key, role in self.roles.items():
            if wanted == key or wanted in (alias.lower() for alias in role.aliases):
                return key
        return None

    def is_major(self, severity: str) -> bool:
        return self.severities[severity].major


def _template_fields(template: str) -> set[str]:
    try:
        return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
    except ValueError as error:
        raise ValueError(f"update_template: {error}") from error


class PlaybookLibrary:
    """The loaded playbooks, by name."""

    def __init__(self, playbooks: dict[str, Playbook], default: str):
        if default not in playbooks:
            raise ConfigError(
                [f"default_playbook: {default!r} is not one of {', '.join(sorted(playbooks))}"]
            )
        self._playbooks = playbooks
        self.default_name = default

    def get(self, name: str | None) -> Playbook | None:
        return self._playbooks.get(name or self.default_name)

    @property
    def default(self) -> Playbook:
        return self._playbooks[self.default_name]

    @property
    def names(self) -> list[str]:
        return sorted(self._playbooks)

    def __iter__(self):
        return iter(self._playbooks[name] for name in self.names)


def load_playbook(path: Path) -> Playbook:
    data, node = load_yaml_mapping(path)
    try:
        return Playbook.model_validate(data)
    except ValidationError as error:
        raise ConfigError(describe_validation_error(path, node, error)) from error


def load_playbooks(directory: Path, default: str = "default") -> PlaybookLibrary:
    """Load every *.yaml in `directory`; all problems of all files are reported together."""
    if not directory.is_dir():
        raise ConfigError([f"{directory}: playbooks_dir does not exist or is not a folder"])
    playbooks = load_named_files(directory, load_playbook, "playbook")
    if not playbooks:
        raise ConfigError([f"{directory}: no playbooks (*.yaml) found"])
    return PlaybookLibrary(playbooks, default)
