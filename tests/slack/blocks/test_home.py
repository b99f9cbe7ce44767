"""The Home tab stays within Slack's limits however much is open, and private incidents
stay private."""

import json
from pathlib import Path

from bot.incidents import IncidentSnapshot
from bot.incidents.privacy import Viewer
from bot.incidents.updates import Draft
from bot.playbooks import load_playbooks
from bot.simulator.rules import validate_home_view
from bot.slack.blocks import home
from bot.slack.blocks.common import context
from bot.store.models import Incident, StakeholderUpdate

LIBRARY = load_playbooks(Path("playbooks"))
VIEWER, OTHER = "UVIEWER001", "UOTHER0001"


def incident(number: int, commander: str = OTHER, **overrides) -> IncidentSnapshot:
    row = Incident(
        id=number,
        title=overrides.pop("title", "t" * 150),
        severity="SEV1",
        playbook="default",
        declared_by=OTHER,
        channel_id=f"C{number:08d}",
        **overrides,
    )
    return IncidentSnapshot(row, LIBRARY.default, {"commander": commander, "comms": None})


def draft(number: int) -> Draft:
    update = StakeholderUpdate(id=number, incident_id=number, text="u" * 2900)
    return Draft(update, incident(number, commander=VIEWER))


def text_of(view: dict) -> str:
    return json.dumps(view["blocks"], ensure_ascii=False)


def test_everything_at_once_fits_in_100_blocks_with_what_is_left_counted():
    incidents = [incident(n, commander=VIEWER) for n in range(300)]
    view = home.home_view(Viewer(VIEWER), incidents, [draft(n) for n in range(60)])
    validate_home_view(view)  # raises SlackError as Slack would refuse it
    blocks = view["blocks"]
    assert len(blocks) == 100
    approvals = sum(b["type"] == "actions" and b["block_id"] != "home" for b in blocks)
    assert f"…and {60 - approvals} more drafts waiting" in text_of(view)
    rows = sum("INC-" in json.dumps(b) for b in blocks[blocks.index({"type": "divider"}) + 2 :])
    assert blocks[-1]["elements"][0]["text"] == f"…and {300 - rows} more open incidents"
    assert rows >= home.INCIDENT_ROWS_KEPT - 1
    roles = blocks[2]["text"]["text"]
    assert len(roles) <= 3000 and roles.endswith("more roles")
    shown = roles.count("Incident Commander of")
    assert roles.endswith(f"…and {300 - shown} more roles")


def test_a_private_incident_is_only_its_reference_to_others():
    secret = incident(5, title="Customer database exfiltration", private=True)
    view = home.home_view(Viewer(VIEWER), [secret], [])
    assert "INC-5 — a private incident" in text_of(view)
    assert "exfiltration" not in text_of(view) and "C00000005" not in text_of(view)
    for insider in (OTHER, "UDECLARER1"):  # its commander; its declarer
        secret.incident.declared_by = "UDECLARER1"
        assert "exfiltration" in text_of(home.home_view(Viewer(insider), [secret], []))


def test_titles_are_escaped():
    """Titles are stored as Slack sends them: typed `<!channel>` arrives escaped, a picked
    one as Slack's markup; neither pings from the Home tab."""
    for title, shown in [
        ("&lt;!channel&gt; down", "&lt;!channel&gt; down"),
        ("<!channel> down", "@channel down"),
    ]:
        view = home.home_view(Viewer(VIEWER), [incident(1, commander=VIEWER, title=title)], [])
        assert "<!channel>" not in text_of(view) and shown in text_of(view)


def test_fit_keeps_room_for_the_count_of_what_is_left():
    def more(left: int) -> dict:
        return context(f"{left} more")

    items = [[{"n": n}, {"n": n}] for n in range(5)]
    assert home.fit(items, 10, more) == [block for item in items for block in item]
    assert home.fit(items, 9, more) == [*items[0], *items[1], *items[2], *items[3], more(1)]
    assert home.fit(items, 1, more) == [more(5)]
    assert home.fit([], 0, more) == []
