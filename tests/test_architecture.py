"""The domain never imports Slack (or the web server): it can be driven and tested alone.
The fake Slack is for the demo, tests and benchmarks: no production module imports it."""

import ast
from pathlib import Path

import pytest

FORBIDDEN = ("slack_bolt", "slack_sdk", "aiohttp", "bot.slack", "bot.web", "bot.server")


SIMULATOR = Path("bot/simulator")


def imported_modules(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
    return names


@pytest.mark.parametrize("package", ["bot/incidents", "bot/store", "bot/playbooks.py"])
def test_domain_imports_nothing_from_slack(package):
    files = [Path(package)] if package.endswith(".py") else list(Path(package).rglob("*.py"))
    assert files
    for path in files:
        for name in imported_modules(path):
            assert not name.startswith(FORBIDDEN), f"{path} imports {name}"


def test_only_the_demo_imports_the_simulator():
    production = [
        path
        for path in Path("bot").rglob("*.py")
        if SIMULATOR not in path.parents and path != Path("bot/demo.py")
    ]
    assert Path("bot/server.py") in production
    for path in production:
        for name in imported_modules(path):
            assert not name.startswith("bot.simulator"), f"{path} imports {name}"


def test_the_simulator_knows_nothing_of_the_bot():
    """It stands for Slack: it may share no code with the app it checks."""
    files = list(SIMULATOR.rglob("*.py"))
    assert files
    for path in files:
        for name in imported_modules(path):
            assert name.startswith("bot.simulator") or not name.startswith("bot"), (
                f"{path} imports {name}"
            )
