"""Parsing the after-the-storm subcommands, and the playbook's review sections."""

from datetime import date

import pytest

from bot.playbooks import DEFAULT_REVIEW_SECTIONS, load_playbooks
from bot.settings_errors import ConfigError
from bot.slack.commands import UsageError, parse


def test_action_takes_text_then_an_optional_owner_and_due_date():
    assert parse("action Add alerting <@U123ABC|bob> due 2026-12-01").args == {
        "text": "Add alerting",
        "owner": ("U123ABC", None),
        "due": date(2026, 12, 1),
    }
    assert parse("action Write the runbook @carol").args["owner"] == (None, "carol")
    assert parse("action Review the due diligence").args == {
        "text": "Review the due diligence",
        "owner": (None, None),
        "due": None,
    }
    with pytest.raises(UsageError, match="not a date"):
        parse("action Fix it due 12/01")
    with pytest.raises(UsageError, match="Say what is to be done"):
        parse("action <@U123ABC> due 2026-12-01")


def test_problem_takes_a_ticket_or_the_link_slack_sends():
    assert parse("problem PRB-12").args == {"reference": "PRB-12"}
    assert parse("problem <https://jira.example.com/PRB-12|PRB-12>").args == {
        "reference": "https://jira.example.com/PRB-12"
    }


def test_review_sections_default_and_are_validated(tmp_path):
    folder = tmp_path / "playbooks"
    folder.mkdir()
    minimal = "name: default\nseverities:\n  SEV1:\n    description: Down\n"
    (folder / "default.yaml").write_text(minimal)
    assert tuple(load_playbooks(folder).default.review.sections) == DEFAULT_REVIEW_SECTIONS

    (folder / "default.yaml").write_text(minimal + "review:\n  sections: [Impact, impact]\n")
    with pytest.raises(ConfigError) as raised:
        load_playbooks(folder)
    assert "default.yaml:5: review: sections: 'impact' is named twice" in raised.value.problems[0]

    (folder / "default.yaml").write_text(minimal + "review:\n  sectons: [Impact]\n")
    with pytest.raises(ConfigError) as raised:
        load_playbooks(folder)
    assert "review.sectons: unknown key" in raised.value.problems[0]
