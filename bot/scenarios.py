"""Drill scenarios: one YAML file each, in `scenarios/` next to the playbooks.

A scenario scripts what happens to the team during a drill: timed injects the bot posts
into the drill's war room (a dashboard reading, a stakeholder asking for an ETA, a
responder dropping out), so people practise the process, not only the fix.
"""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
from functools import partial
from pathlib import Path

import yaml
from pydantic import Field, ValidationError, field_validator, model_validator

from bot.playbooks import Duration, PlaybookLibrary, PlaybookName, _Strict
from bot.settings_errors import (
    ConfigError,
    describe_validation_error,
    load_named_files,
    load_yaml_mapping,
    problem_at,
)

SCENARIOS_FOLDER = "scenarios"
MAX_INJECT_TEXT = 2000


class InjectKind(StrEnum):
    MESSAGE = "message"  # posted in the war room as something the team sees
    QUESTION = "question"  # a stakeholder's question, sent to the comms lead like `ask`
    OFFLINE = "offline"  # a role's holder drops out; the room is told


class Inject(_Strict):
    offset: Duration  # from the drill's declaration
    kind: InjectKind = InjectKind.MESSAGE
    text: str = Field(min_length=1, max_length=MAX_INJECT_TEXT)
    role: str | None = None  # offline: which role's holder drops out

    @model_validator(mode="after")
    def _role_for_offline(self) -> Inject:
        if self.kind == InjectKind.OFFLINE and not self.role:
            raise ValueError("an offline inject names the role whose holder drops out (role: tech)")
        if self.kind != InjectKind.OFFLINE and self.role:
            raise ValueError("role: only offline injects name a role")
        return self


class Scenario(_Strict):
    name: PlaybookName  # typed in `/incident drill <scenario> …`, like a playbook's name
    description: str = ""
    title: str | None = None  # the drill's title when the command gives none
    playbook: str | None = None  # None: the default playbook
    default_severity: str | None = None
    injects: list[Inject] = Field(default_factory=list)

    @field_validator("injects")
    @classmethod
    def _in_order(cls, injects: list[Inject]) -> list[Inject]:
        return sorted(injects, key=lambda inject: inject.offset)

    @property
    def length(self) -> timedelta:
        return self.injects[-1].offset if self.injects else timedelta(0)


class ScenarioLibrary:
    """The loaded scenarios, by name; empty when there is no scenarios folder."""

    def __init__(self, scenarios: dict[str, Scenario] | None = None):
        self._scenarios = scenarios or {}

    def get(self, name: str) -> Scenario | None:
        return self._scenarios.get(name)

    @property
    def names(self) -> list[str]:
        return sorted(self._scenarios)


def scenarios_dir(playbooks_dir: Path) -> Path:
    return playbooks_dir / SCENARIOS_FOLDER


def load_scenarios(directory: Path, playbooks: PlaybookLibrary | None) -> ScenarioLibrary:
    """Every *.yaml in `directory`, checked against the playbooks they name (when those
    loaded); all problems of all files are reported together."""
    if not directory.is_dir():
        return ScenarioLibrary()
    return ScenarioLibrary(
        load_named_files(directory, partial(_load_scenario, playbooks=playbooks), "scenario")
    )


def _load_scenario(path: Path, playbooks: PlaybookLibrary | None) -> Scenario:
    data, node = load_yaml_mapping(path)
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as error:
        raise ConfigError(describe_validation_error(path, node, error)) from error
    if playbooks is not None:
        problems = _against_playbook(path, node, data, scenario, playbooks)
        if problems:
            raise ConfigError(problems)
    return scenario


def _against_playbook(
    path: Path, node: yaml.Node | None, data: dict, scenario: Scenario, playbooks: PlaybookLibrary
) -> list[str]:
    """What only the scenario's playbook can judge: its severities and its roles."""
    playbook = playbooks.get(scenario.playbook)
    if playbook is None:
        return [
            problem_at(
                path,
                node,
                ("playbook",),
                f"{scenario.playbook!r} is not a playbook; use one of {', '.join(playbooks.names)}",
            )
        ]
    problems = []
    severity = scenario.default_severity
    if severity is not None and severity not in playbook.severities:
        problems.append(
            problem_at(
                path,
                node,
                ("default_severity",),
                f"{severity!r} is not a severity of the {playbook.name} playbook; "
                f"use one of {', '.join(playbook.severity_names)}",
            )
        )
    # Line numbers follow the file's order, not the sorted one.
    for index, raw in enumerate(data.get("injects") or []):
        role = raw.get("role") if isinstance(raw, dict) else None
        if role and playbook.role_key(str(role)) is None:
            problems.append(
                problem_at(
                    path,
                    node,
                    ("injects", index, "role"),
                    f"{role!r} is not a role of the {playbook.name} playbook; "
                    f"use one of {', '.join(playbook.roles)}",
                )
            )
    return problems
