"""Drill scenarios: the shipped ones load, and a broken one stops startup (and `check`) with
the file, the line, the field and the reason, together with the playbooks' problems."""

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from bot.config import load_settings
from bot.playbooks import load_playbooks
from bot.scenarios import InjectKind, load_scenarios
from bot.settings_errors import ConfigError

REPO = Path(__file__).resolve().parent.parent
PLAYBOOK = (
    "name: default\nseverities:\n  SEV1:\n    description: Down\n    major: true\n"
    "    update_every: 30m\n  SEV2:\n    description: Slow\n"
)
SCENARIO = """\
name: checkout-fire
description: Checkout errors at peak
default_severity: SEV1
injects:
  - offset: 10m
    kind: question
    text: The VP asks for an ETA
  - offset: 2m
    text: Error rate 35%
  - offset: 15m
    kind: offline
    role: tl
    text: The tech lead goes offline
"""


def write(tmp_path: Path, scenarios: dict[str, str], playbook: str = PLAYBOOK) -> Path:
    folder = tmp_path / "playbooks"
    (folder / "scenarios").mkdir(parents=True, exist_ok=True)
    (folder / "default.yaml").write_text(playbook)
    for name, text in scenarios.items():
        (folder / "scenarios" / name).write_text(text)
    config = tmp_path / "config.yaml"
    config.write_text("playbooks_dir: playbooks\n")
    return config


def problems(tmp_path: Path, scenarios: dict[str, str], playbook: str = PLAYBOOK) -> list[str]:
    config = write(tmp_path, scenarios, playbook)
    with pytest.raises(ConfigError) as raised:
        load_settings({"BOT_CONFIG": str(config)})
    return raised.value.problems


def test_the_shipped_scenarios_fit_the_shipped_playbooks():
    scenarios = load_scenarios(REPO / "playbooks/scenarios", load_playbooks(REPO / "playbooks"))
    assert {"checkout-meltdown", "leaked-credentials"} <= set(scenarios.names)


def test_a_scenario_loads_with_its_injects_in_time_order(tmp_path):
    settings = load_settings({"BOT_CONFIG": str(write(tmp_path, {"fire.yaml": SCENARIO}))})
    scenario = settings.scenarios.get("checkout-fire")
    assert [(i.offset, i.kind) for i in scenario.injects] == [
        (timedelta(minutes=2), InjectKind.MESSAGE),
        (timedelta(minutes=10), InjectKind.QUESTION),
        (timedelta(minutes=15), InjectKind.OFFLINE),
    ]


def test_no_scenarios_folder_means_no_scenarios(tmp_path):
    config = write(tmp_path, {})
    (tmp_path / "playbooks" / "scenarios").rmdir()
    assert load_settings({"BOT_CONFIG": str(config)}).scenarios.names == []


@pytest.mark.parametrize(
    ("broken", "expected"),
    [
        (
            SCENARIO.replace("offset: 2m", "offset: soon"),
            "fire.yaml:8: injects.1.offset: 'soon' is not a duration; write it like 45s",
        ),
        (
            SCENARIO.replace("kind: question", "kind: phone"),
            "fire.yaml:6: injects.0.kind: Input should be 'message', 'question' or 'offline'",
        ),
        (
            SCENARIO.replace("    role: tl\n", ""),
            "fire.yaml:10: injects.2: an offline inject names the role whose holder drops out",
        ),
        (
            SCENARIO.replace("role: tl", "role: janitor"),
            "fire.yaml:12: injects.2.role: 'janitor' is not a role of the default playbook; "
            "use one of commander, comms, tech",
        ),
        (
            SCENARIO.replace("default_severity: SEV1", "default_severity: SEV7"),
            "fire.yaml:3: default_severity: 'SEV7' is not a severity of the default playbook; "
            "use one of SEV1, SEV2",
        ),
        (
            SCENARIO + "playbook: nope\n",
            "fire.yaml:14: playbook: 'nope' is not a playbook; use one of default",
        ),
        (
            SCENARIO.replace("    text: Error rate 35%\n", "    txt: Error rate 35%\n"),
            "fire.yaml:9: injects.1.txt: unknown key (check the spelling)",
        ),
        (
            SCENARIO.replace("name: checkout-fire", "name: Checkout Fire"),
            "fire.yaml:1: name: 'Checkout Fire' cannot be typed as playbook=NAME",
        ),
    ],
)
def test_broken_scenarios_say_where_and_why(tmp_path, broken, expected):
    found = problems(tmp_path, {"fire.yaml": broken})
    assert any(expected in problem for problem in found), found


def test_every_problem_of_playbooks_and_scenarios_at_once(tmp_path):
    found = problems(
        tmp_path,
        {
            "a.yaml": SCENARIO.replace("offset: 2m", "offset: 0s"),
            "b.yaml": SCENARIO.replace("name: checkout-fire", "name: other\nlength: 1h"),
        },
        playbook=PLAYBOOK + "    majr: true\n",
    )
    assert len(found) == 3, found
    assert "default.yaml:9: severities.SEV2.majr: unknown key" in found[0]
    assert "a.yaml:8: injects.1.offset: '0s' must be longer than zero" in found[1]
    assert "b.yaml:2: length: unknown key (check the spelling)" in found[2]


def check(config: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bot", "check"],
        env={"BOT_CONFIG": str(config), "PATH": ""},
        cwd=config.parent,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_check_validates_scenarios(tmp_path):
    config = write(tmp_path, {"fire.yaml": SCENARIO.replace("role: tl", "role: janitor")})
    result = check(config)
    assert result.returncode == 2
    assert "fire.yaml:12: injects.2.role: 'janitor' is not a role" in result.stderr
    assert "Traceback" not in result.stderr

    result = check(write(tmp_path, {"fire.yaml": SCENARIO}))
    assert result.returncode == 0, result.stderr
    assert "drill scenarios checkout-fire" in result.stdout


def test_drill_targets_are_checked_like_the_rest_of_the_playbook(tmp_path):
    found = problems(tmp_path, {}, playbook=PLAYBOOK + "drill_targets:\n  approval: soon\n")
    assert any(
        "default.yaml:10: drill_targets.approval: 'soon' is not a duration" in p for p in found
    )
    config = write(tmp_path, {}, playbook=PLAYBOOK + "drill_targets:\n  first_update: 20m\n")
    targets = load_settings({"BOT_CONFIG": str(config)}).playbooks.default.drill_targets
    assert (targets.first_update, targets.approval) == (timedelta(minutes=20), timedelta(minutes=5))
