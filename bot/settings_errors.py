"""Readable errors for broken YAML files: the file, the line, the field, what is wrong."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import ValidationError

Named = TypeVar("Named")


class ConfigError(Exception):
    """A config or playbook file that must stop startup. The message is meant for people."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


def load_yaml_mapping(path: Path) -> tuple[dict, yaml.Node | None]:
    """Read a YAML mapping and its node tree (for line numbers).

    Duplicate keys are refused: PyYAML would silently keep the last one, so a setting
    written twice would quietly not mean what its first line says.
    """
    text = _read_text(path)
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        duplicates = _duplicate_keys(path, node)
        if duplicates:
            raise ConfigError(duplicates)
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise ConfigError(
            [f"{where}: not valid YAML: {getattr(error, 'problem', error)}"]
        ) from error
    finally:
        loader.dispose()
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError([f"{path}: expected a mapping of keys at the top level"])
    return data, node


def load_named_files(directory: Path, load: Callable[[Path], Named], what: str) -> dict[str, Named]:
    """Every *.yaml (or *.yml) in `directory`, by its `name`; the problems of all files are
    reported together, and a name used twice is one of them."""
    loaded: dict[str, Named] = {}
    problems: list[str] = []
    for path in sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")]):
        try:
            item = load(path)
        except ConfigError as error:
            problems.extend(error.problems)
            continue
        if item.name in loaded:
            problems.append(f"{path}: name: {item.name!r} is already used by another {what}")
        loaded[item.name] = item
    if problems:
        raise ConfigError(problems)
    return loaded


def _read_text(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise ConfigError([f"{path}: cannot read: {error.strerror}"]) from error
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        byte = raw[error.start : error.start + 1].hex()
        raise ConfigError(
            [f"{path}:{line}: not UTF-8 text (byte 0x{byte}); save the file as UTF-8"]
        ) from error


def _duplicate_keys(path: Path, root: yaml.Node | None) -> list[str]:
    """Every key written twice in one mapping, with both lines and its dotted field name."""
    problems: list[tuple[int, str]] = []
    seen_nodes: set[int] = set()  # aliases can make the node graph cyclic
    pending: list[tuple[yaml.Node | None, str]] = [(root, "")]
    while pending:
        node, field = pending.pop()
        if node is None or id(node) in seen_nodes:
            continue
        seen_nodes.add(id(node))
        if isinstance(node, yaml.SequenceNode):
            pending += [(item, f"{field}.{i}".lstrip(".")) for i, item in enumerate(node.value)]
        elif isinstance(node, yaml.MappingNode):
            first_line: dict[str, int] = {}
            for key, value in node.value:
                name = str(key.value)
                if isinstance(key, yaml.ScalarNode) and key.tag != "tag:yaml.org,2002:merge":
                    line = key.start_mark.line + 1
                    if name in first_line:
                        dotted = f"{field}.{name}".lstrip(".")
                        first = first_line[name]
                        problems.append(
                            (
                                line,
                                f"{path}:{line}: {dotted}: duplicate key (first set on line {first}); keep one",
                            )
                        )
                    first_line.setdefault(name, line)
                pending.append((value, f"{field}.{name}".lstrip(".")))
    return [problem for _, problem in sorted(problems)]


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
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = "unknown key (check the spelling)"
        elif item["type"] == "missing":
            message = "required key is missing"
        problems.append(problem_at(path, node, loc, message))
    return problems


def problem_at(path: Path, node: yaml.Node | None, loc: tuple, message: str) -> str:
    """`file:line: field: reason` for the field at `loc` (a path of keys and list indexes)."""
    field = ".".join(str(part) for part in loc) or "(top level)"
    line = _line_of(node, loc)
    where = f"{path}:{line}" if line else str(path)
    return f"{where}: {field}: {message}"
