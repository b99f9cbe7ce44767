"""The domain never imports Slack (or the web server): it can be driven and tested alone."""

import ast
from pathlib import Path

import pytest

FORBIDDEN = ("slack_bolt", "slack_sdk", "aiohttp", "bot.slack", "bot.web", "bot.server")


@pytest.mark.parametrize("package", ["bot/incidents", "bot/store", "bot/playbooks.py"])
def test_domain_imports_nothing_from_slack(package):
    files = [Path(package)] if package.endswith(".py") else list(Path(package).rglob("*.py"))
    assert files
    for path in files:
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert not name.startswith(FORBIDDEN), f"{path} imports {name}"
