"""The response team, the duty rota and alert intake keys: every problem, with file and line."""

from pathlib import Path

import pytest

from bot.config import load_settings
from bot.settings_errors import ConfigError

MINIMAL = "name: default\nseverities:\n  SEV1:\n    description: Everything is down\n"

BROKEN = """\
playbooks_dir: playbooks
response_team: [UMIM1, mim-team]
ack_within: 5
alerts_channel: '#alerts'
alert_severity_map:
  critical: P1
duty_rota:
  time_zone: Europe/London
  shifts:
    - user: UANNA
      start: 2026-11-23 09:00
      end: tomorrow
    - user: UBEN
      start: 2026-11-24 09:00
      ende: 2026-11-25 09:00
"""


def write_config(tmp_path: Path, text: str) -> dict:
    (tmp_path / "playbooks").mkdir()
    (tmp_path / "playbooks" / "default.yaml").write_text(MINIMAL)
    (tmp_path / "config.yaml").write_text(text)
    return {"BOT_CONFIG": str(tmp_path / "config.yaml")}


def test_every_broken_key_is_reported_at_once_with_its_line(tmp_path):
    with pytest.raises(ConfigError) as raised:
        load_settings(write_config(tmp_path, BROKEN))
    problems = [p.removeprefix(str(tmp_path) + "/") for p in raised.value.problems]
    expected = [
        "config.yaml:2: response_team.1: 'mim-team' is not a Slack user ID",
        "config.yaml:3: ack_within: 5 is not a duration",
        "config.yaml:4: alerts_channel: '#alerts' is not a channel ID",
        "config.yaml:5: alert_severity_map: critical: 'P1' is not a severity name",
        "config.yaml:12: duty_rota.shifts.0.end: 'tomorrow' is not a date and time",
        "config.yaml:15: duty_rota.shifts.1.ende: unknown key",
    ]
    for start in expected:
        assert any(p.startswith(start) for p in problems), (start, problems)


def test_a_whole_rota_problem_points_at_the_rota(tmp_path):
    text = "playbooks_dir: playbooks\nduty_rota:\n  time_zone: UTC\n  people: [UANNA]\n"
    with pytest.raises(ConfigError) as raised:
        load_settings(write_config(tmp_path, text))
    (problem,) = raised.value.problems
    assert problem.endswith(
        "config.yaml:2: duty_rota: a weekly rotation needs people, start and handover "
        "(or give shifts instead)"
    )


def test_defaults_page_nobody_and_take_no_alerts(tmp_path):
    config = load_settings(write_config(tmp_path, "playbooks_dir: playbooks\n")).config
    assert config.duty_rota is None and config.response_team == []
    assert config.ack_within.total_seconds() == 300 and config.alerts_channel is None
    assert config.alert_severity_label == "severity"
