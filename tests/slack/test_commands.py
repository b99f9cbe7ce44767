import pytest

from bot.slack.commands import SUBCOMMANDS, UsageError, help_text, parse


def test_help_lists_every_subcommand():
    text = help_text()
    assert all(f"/incident {s.name}" in text for s in SUBCOMMANDS)


def test_every_subcommand_is_answered_or_handled():
    assert all(s.handle or s.acknowledge for s in SUBCOMMANDS)
    assert len({s.name for s in SUBCOMMANDS}) == len(SUBCOMMANDS)


@pytest.mark.parametrize(
    ("text", "name", "args"),
    [
        ("", "help", {}),
        ("declare", "declare", {"severity": None, "title": "", "playbook": None}),
        (
            "declare sev1 Checkout down",
            "declare",
            {"severity": "SEV1", "title": "Checkout down", "playbook": None},
        ),
        (
            "drill sev2 checkout-meltdown Friday practice",  # the scenario is judged later
            "drill",
            {"severity": "SEV2", "title": "checkout-meltdown Friday practice", "playbook": None},
        ),
        (
            "declare SEV10 checkout down",  # any number: the playbook judges it, not the title
            "declare",
            {"severity": "SEV10", "title": "checkout down", "playbook": None},
        ),
        (
            "declare Checkout SEV1 down playbook=third-party-outage",
            "declare",
            {"severity": None, "title": "Checkout SEV1 down", "playbook": "third-party-outage"},
        ),
        (
            "assign ic <@U123ABC|al>",
            "assign",
            {"role": "ic", "user_id": "U123ABC", "user_name": None},
        ),
        ("assign tl @carol.b", "assign", {"role": "tl", "user_id": None, "user_name": "carol.b"}),
        (
            "STATUS Identified bad  deploy",
            "status",
            {"status": "identified", "note": "bad  deploy"},
        ),
        ("severity sev2", "severity", {"severity": "SEV2"}),
        ("resolve", "resolve", {"summary": ""}),
        ("report", "report", {}),
        ("help me", "help", {}),
    ],
)
def test_parse(text, name, args):
    command = parse(text)
    assert (command.name, command.args) == (name, args)


@pytest.mark.parametrize(
    "text",
    [
        "frobnicate",
        "assign",
        "assign comms",
        "assign comms bob",
        "severity",
        "severity high",
        "close now",
        "report please",
        "status",
        "declare x playbook=",
    ],
)
def test_usage_errors(text):
    with pytest.raises(UsageError):
        parse(text)


def test_a_drill_needs_a_scenario_or_a_title():
    with pytest.raises(UsageError, match="Name a scenario or give the drill a title"):
        parse("drill SEV1")
