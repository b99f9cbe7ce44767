"""Block Kit builders stay within Slack's limits whatever people type."""

from pathlib import Path

from bot.incidents import IncidentSnapshot
from bot.playbooks import load_playbooks
from bot.simulator import SlackError, validate_blocks
from bot.slack import blocks
from bot.store.models import Incident


def snapshot(**overrides) -> IncidentSnapshot:
    library = load_playbooks(Path("playbooks"))
    incident = Incident(
        id=7,
        title="t" * 150,
        impact="i" * 5000,
        severity="SEV1",
        playbook="default",
        declared_by="U1",
        channel_id="C1",
        summary="s" * 5000,
        status="resolved",
        **overrides,
    )
    return IncidentSnapshot(
        incident, library.default, {"commander": "U1", "comms": None, "tech": None}
    )


def test_card_within_limits_for_huge_input():
    text, card = blocks.incident_card(snapshot(), "https://meet.example.com/x")
    validate_blocks(card, limit=50)  # raises SlackError("invalid_blocks") if over a limit
    assert card[0]["type"] == "header" and len(card[0]["text"]["text"]) <= 150


def test_validate_blocks_catches_overlong_sections():
    try:
        validate_blocks(
            [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}], limit=50
        )
    except SlackError as error:
        assert error.error == "invalid_blocks"
    else:
        raise AssertionError("an overlong section must be refused")


def test_declare_modal_shows_criteria_and_fits():
    library = load_playbooks(Path("playbooks"))
    view = blocks.declare_modal(
        library, library.default, {"response_url": "https://x", "channel": "C1"}
    )
    assert len(view["private_metadata"]) <= 3000 and len(view["title"]["text"]) <= 24
    severity = next(b for b in view["blocks"] if b.get("block_id") == "severity")
    assert all(len(o["description"]["text"]) <= 75 for o in severity["element"]["options"])
    assert "What counts" in str(view["blocks"])
