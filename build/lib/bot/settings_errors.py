"""Readable errors for broken YAML files: the file, the line, the field, what is wrong."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import ValidationError


class ConfigError(Exception):
    """A config or playbook file that must stop startup. The message is meant for people."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


def load_yaml_mapping(path: Path) -> tuple[dict, yaml.Node | None]:
    """Read a YAML mapping and its node tree (for line numbers)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError([f"{path}: cannot read: {error.strerror}"]) from error
    try:
        data = yaml.safe_load(text)
        node = yaml.compose(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise ConfigError(
            [f"{where}: not valid YAML: {getattr(error, 'problem', error)}"]
        ) from error
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError([f"{path}: expected a mapping of keys at the top level"])
    return data, node


def _line_of(node: yaml.Node | None, loc: tuple) -> int | None:
    """The line of the deepest node along `loc` that exists in the file (1-based)."""
    line = None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            pair = next(((k, v) for k, v in node.value if k.value == str(part)), None)
            if pair is None:
                break
            line, node = pair[0].start_mark.line + 1, pair[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                break
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


def describe_validation_error(
    path: Path, node: yaml.Node | None, error: ValidationError
) -> list[str]:
    problems = []
    for item in error.errors():
        loc = tuple(part for part in item["loc"] if not str(part).startswith("function-"))
        field = ".".join(str(part) for part in loc) or "(top level)"
        line = _line_of(node, loc)
        where = f"{path}:{line}" if line else str(path)
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = "unknown key (check the spelling)"
        elif item["type"] == "missing":
            message = "required key is missing"
        problems.append(f"{where}: {field}: {message}")
    return problems
