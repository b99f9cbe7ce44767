"""The incident card stays within Slack's limits whatever people type."""

from bot.simulator import SlackError, validate_blocks
from bot.slack.blocks import card as blocks
from tests.slack.blocks.samples import snapshot


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
