"""Broken config or playbooks stop startup with the file, the line, the field and the reason."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bot.config import load_settings
from bot.playbooks import load_playbooks, parse_duration
from bot.settings_errors import ConfigError

REPO = Path(__file__).resolve().parent.parent
MINIMAL = "name: default\nseverities:\n  SEV1:\n    description: Everything is down\n"


def write_playbook(tmp_path: Path, text: str, name: str = "default.yaml") -> Path:
    folder = tmp_path / "playbooks"
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(text)
    return folder


def problems_for(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        load_playbooks(write_playbook(tmp_path, text))
    return raised.value.problems


def test_a_playbook_of_name_and_severities_works(tmp_path):
    library = load_playbooks(write_playbook(tmp_path, MINIMAL))
    playbook = library.default
    assert set(playbook.roles) == {"commander", "comms", "tech"}
    assert playbook.initial_severity == "SEV1" and playbook.update_template


def test_shipped_playbooks_are_valid():
    assert {"default", "security-breach", "third-party-outage"} <= set(
        load_playbooks(REPO / "playbooks").names
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            MINIMAL + "    major: ture\n",
            "default.yaml:5: severities.SEV1.major: Input should be a valid boolean",
        ),
        (
            MINIMAL + "    majr: true\n",
            "default.yaml:5: severities.SEV1.majr: unknown key (check the spelling)",
        ),
        (MINIMAL + "    update_every: 30\n", "severities.SEV1.update_every: 30 is not a duration"),
        (
            MINIMAL + "    update_every: 10 minutes\n",
            "'10 minutes' is not a duration; write it like 45s",
        ),
        (
            MINIMAL + "    major: true\n",
            "default.yaml:3: severities.SEV1: a major severity needs update_every",
        ),
        (MINIMAL + "    invite: [bob]\n", "'bob' is not a Slack user ID"),
        (MINIMAL + "update_template: '{title} {eta}'\n", "update_template: unknown field {eta}"),
        (MINIMAL + "default_severity: SEV2\n", "default_severity: 'SEV2' is not one of SEV1"),
        ("name: default\n", "default.yaml: severities: required key is missing"),
        (MINIMAL + "roles:\n  comms: {title: C, duty: d}\n", "a 'commander' role is required"),
        ("name: [unclosed\n", "default.yaml:2: not valid YAML"),
    ],
)
def test_broken_playbooks_say_where_and_why(tmp_path, text, expected):
    problems = problems_for(tmp_path, text)
    assert any(expected in p for p in problems), problems


def test_parse_duration():
    assert parse_duration("1h30m").total_seconds() == 5400
    assert parse_duration("45s").total_seconds() == 45
    with pytest.raises(ValueError):
        parse_duration("0m")


def settings_env(tmp_path: Path, config: dict) -> dict:
    write_playbook(tmp_path, MINIMAL)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return {"BOT_CONFIG": str(path)}


def test_config_playbooks_dir_is_relative_to_the_config(tmp_path):
    settings = load_settings(settings_env(tmp_path, {"playbooks_dir": "playbooks"}))
    assert settings.playbooks.names == ["default"]


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        (
            {"broadcast_channel": "#exec-updates"},
            "config.yaml:1: broadcast_channel: '#exec-updates' is not a channel ID",
        ),
        ({"chanel_prefix": "inc"}, "chanel_prefix: unknown key"),
        ({"channel_prefix": "INC!"}, "channel_prefix: use 1-20 lowercase letters"),
        ({"default_playbook": "nope"}, "default_playbook: 'nope' is not one of default"),
        ({"playbooks_dir": "missing"}, "playbooks_dir does not exist"),
    ],
)
def test_broken_config_says_where_and_why(tmp_path, config, expected):
    with pytest.raises(ConfigError) as raised:
        load_settings(settings_env(tmp_path, {"playbooks_dir": "playbooks"} | config))
    assert any(expected in p for p in raised.value.problems), raised.value.problems


def run_bot(*args: str, env: dict, cwd: Path) -> subprocess.CompletedProcess:
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "BOT_", "DATABASE_"))
    }
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env=clean | env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_check_reports_every_broken_file_and_exits_non_zero(tmp_path):
    write_playbook(tmp_path, MINIMAL + "    majr: true\n")
    write_playbook(
        tmp_path,
        "name: other\nseverities: {SEV1: {description: x, update_every: soon}}\n",
        "other.yaml",
    )
    (tmp_path / "config.yaml").write_text("playbooks_dir: playbooks\n")
    result = run_bot("check", env={"BOT_CONFIG": str(tmp_path / "config.yaml")}, cwd=tmp_path)
    assert result.returncode == 2
    assert "default.yaml:5: severities.SEV1.majr: unknown key" in result.stderr
    assert "other.yaml:2: severities.SEV1.update_every: 'soon' is not a duration" in result.stderr
    assert "Traceback" not in result.stderr


def test_check_passes_on_the_shipped_example(tmp_path):
    result = run_bot("check", env={"BOT_CONFIG": str(REPO / "config.example.yaml")}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "default, security-breach, third-party-outage" in result.stdout


def test_serving_without_secrets_names_the_variables_and_the_demo(tmp_path):
    result = run_bot(env={}, cwd=tmp_path)
    assert result.returncode == 2
    assert "SLACK_BOT_TOKEN" in result.stderr and "SLACK_SIGNING_SECRET" in result.stderr
    assert "python -m bot demo" in result.stderr and "Traceback" not in result.stderr


def test_manifest_is_valid_against_slacks_schema():
    jsonschema = pytest.importorskip("jsonschema")
    schema_path = REPO / "tests" / "data" / "slack-manifest.schema.2.0.0.json"
    manifest = yaml.safe_load((REPO / "manifest.yaml").read_text())
    jsonschema.validate(manifest, json.loads(schema_path.read_text()))
    assert manifest["features"]["slash_commands"][0]["command"] == "/incident"
    assert manifest["features"]["slash_commands"][0]["should_escape"] is True
    events = set(manifest["settings"]["event_subscriptions"]["bot_events"])
    assert {"message.channels", "message.groups"} <= events
    assert "user_change" in events  # keeps the people directory current
