"""Forms stay within Slack's limits and show the playbook's criteria."""

from pathlib import Path

from bot.playbooks import load_playbooks
from bot.slack.blocks import forms as blocks


def test_declare_modal_shows_criteria_and_fits():
    library = load_playbooks(Path("playbooks"))
    view = blocks.declare_modal(
        library, library.default, {"response_url": "https://x", "channel": "C1"}
    )
    assert len(view["private_metadata"]) <= 3000 and len(view["title"]["text"]) <= 24
    severity = next(b for b in view["blocks"] if b.get("block_id") == "severity")
    assert all(len(o["description"]["text"]) <= 75 for o in severity["element"]["options"])
    assert "What counts" in str(view["blocks"])
