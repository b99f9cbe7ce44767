"""The domain never imports Slack (or the web server): it can be driven and tested alone.

Beyond imports, the domain holds none of Slack's rules: no mention or link markup, no
parsing of message timestamps, no reaction names, and no SQL dialect chosen by hand (that
lives in bot/store). The renderings in bot/render are pure: no Slack there either. The fake
Slack is for the demo, tests and benchmarks: no production module imports it.
"""

import ast
import re
from pathlib import Path

import pytest

FORBIDDEN = ("slack_bolt", "slack_sdk", "aiohttp", "bot.slack", "bot.web", "bot.server")
DOMAIN = ["bot/incidents", "bot/store", "bot/playbooks.py", "bot/scenarios.py", "bot/render"]
WITHOUT_SLACK_RULES = ["bot/incidents", "bot/render"]
# Slack's markup in text: <@U123>, <#C123>, <!channel>, <!subteam^S1>, <https://…|label>.
SLACK_MARKUP = re.compile(r"<[@#!]|<https?:|\|[^>]*>")
EMOJI_NAME = re.compile(r"^:?[a-z0-9_+-]+:?$")
REACTION_NAMES = {"pushpin", "pin", "white_check_mark", "eyes"}


def python_files(package: str) -> list[Path]:
    files = [Path(package)] if package.endswith(".py") else sorted(Path(package).rglob("*.py"))
    assert files, f"{package} has no Python files"
    return files


def trees(packages: list[str]):
    for package in packages:
        for path in python_files(package):
            yield path, ast.parse(path.read_text())


def strings(tree: ast.AST):
    """String literals that are code, not documentation (docstrings left out)."""
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in docstrings
        ):
            yield node.value


def imported(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module


@pytest.mark.parametrize("package", DOMAIN)
def test_domain_imports_nothing_from_slack(package):
    for path, tree in trees([package]):
        for name in imported(tree):
            assert not name.startswith(FORBIDDEN), f"{path} imports {name}"


@pytest.mark.parametrize("package", WITHOUT_SLACK_RULES)
def test_no_slack_markup_or_reaction_names(package):
    for path, tree in trees([package]):
        for text in strings(tree):
            assert not SLACK_MARKUP.search(text), f"{path} has Slack markup: {text!r}"
            assert text.strip(":") not in REACTION_NAMES or not EMOJI_NAME.match(text), (
                f"{path} names a reaction: {text!r}"
            )


@pytest.mark.parametrize("package", WITHOUT_SLACK_RULES)
def test_no_slack_timestamp_parsing(package):
    """Slack's message ts ("1795338000.000100") becomes a datetime in the Slack layer."""
    for path, tree in trees([package]):
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute):
                assert node.attr not in ("fromtimestamp", "utcfromtimestamp"), (
                    f"{path}:{node.lineno} parses a timestamp"
                )
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "float":
                raise AssertionError(f"{path}:{node.lineno} turns text into a number")


@pytest.mark.parametrize("package", ["bot/incidents", "bot/render", "bot/playbooks.py"])
def test_dialect_sql_lives_in_the_store(package):
    for path, tree in trees([package]):
        for name in imported(tree):
            assert not name.startswith("sqlalchemy.dialects"), f"{path} imports {name}"
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute):
                assert node.attr != "is_sqlite", f"{path}:{node.lineno} branches on the dialect"


def test_the_checks_catch_what_they_look_for():
    """Each rule fails on the thing it forbids, so a passing run means something."""
    offending = ast.parse(
        "def f(db, ts):\n"
        '    """Docs may say <@U1>."""\n'
        '    x = "<@U123>" if db.is_sqlite else "pushpin"\n'
        "    return datetime.fromtimestamp(float(ts))\n"
    )
    found = list(strings(offending))
    assert found == ["<@U123>", "pushpin"]  # the docstring is left out
    assert SLACK_MARKUP.search(found[0]) and EMOJI_NAME.match(found[1])
    attributes = {n.attr for n in ast.walk(offending) if isinstance(n, ast.Attribute)}
    assert {"is_sqlite", "fromtimestamp"} <= attributes


SIMULATOR = Path("bot/simulator")


def test_only_the_demo_imports_the_simulator():
    production = [
        path
        for path in Path("bot").rglob("*.py")
        if SIMULATOR not in path.parents and path != Path("bot/demo.py")
    ]
    assert Path("bot/server.py") in production
    for path in production:
        for name in imported(ast.parse(path.read_text())):
            assert not name.startswith("bot.simulator"), f"{path} imports {name}"


def test_the_simulator_knows_nothing_of_the_bot():
    """It stands for Slack: it may share no code with the app it checks."""
    for path, tree in trees([str(SIMULATOR)]):
        for name in imported(tree):
            assert name.startswith("bot.simulator") or not name.startswith("bot"), (
                f"{path} imports {name}"
            )


# Block Kit builders are literals of Slack's JSON: long, but read as data. Everything else
# (migrations too: a function per table) says what it does in 50 lines or fewer.
LONG_AS_DATA = ("bot/slack/blocks/",)
MAX_FUNCTION_LINES = 50


def long_functions(paths) -> list[str]:
    found = []
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    found.append(f"{path}:{node.lineno} {node.name} ({lines} lines)")
    return found


def test_no_function_is_longer_than_fifty_lines():
    paths = [p for p in python_files("bot") if not str(p).startswith(LONG_AS_DATA)]
    assert long_functions(paths) == []


def test_the_length_check_catches_a_long_function(tmp_path):
    long = tmp_path / "long.py"
    long.write_text("def f():\n" + "    x = 1\n" * MAX_FUNCTION_LINES)
    assert long_functions([long]) == [f"{long}:1 f ({MAX_FUNCTION_LINES + 1} lines)"]
