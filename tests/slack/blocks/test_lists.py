"""`/incident list` pages and the executives' pointer: within Slack's limits whatever the
titles, private incidents as their reference to outsiders."""

from pathlib import Path

from bot.incidents import IncidentSnapshot
from bot.incidents.privacy import Viewer
from bot.playbooks import load_playbooks
from bot.simulator.rules import MESSAGE_BLOCKS, validate_blocks
from bot.slack.blocks import lists
from bot.store.models import Incident

LIBRARY = load_playbooks(Path("playbooks"))
OUTSIDER, COMMS = "UOUTSIDE01", "UCOMMS0001"


def incident(number: int, private: bool = False, title: str = "&amp;" * 150) -> IncidentSnapshot:
    row = Incident(
        id=number,
        title=title,
        severity="SEV1",
        playbook="default",
        declared_by="UDECLARE01",
        channel_id=f"C{number:08d}",
        private=private,
    )
    return IncidentSnapshot(row, LIBRARY.default, {"commander": "UDECLARE01", "comms": COMMS})


def test_a_full_page_of_the_longest_titles_fits_in_one_message():
    every = [incident(n) for n in range(1, 46)]
    text, blocks = lists.open_incidents(every, 1, Viewer(OUTSIDER))
    validate_blocks(blocks, limit=MESSAGE_BLOCKS)  # raises SlackError as Slack would refuse it
    assert len(blocks) == 1 + lists.PAGE_SIZE + 1 and text.endswith("page 1 of 3")
    assert blocks[-1]["elements"][0]["text"] == "…and 25 more: `/incident list 2`"


def test_the_pointer_names_the_most_severe_and_counts_the_rest():
    every = [incident(1, private=True, title="Breach")] + [incident(n) for n in range(2, 14)]
    pointer = lists.broadcast_pointer(every, Viewer(OUTSIDER))
    assert "🔒 INC-1 — a private incident*: its comms lead — `/incident ask 1" in pointer
    assert "Breach" not in pointer and pointer.count(f"<@{COMMS}>") == 9
    assert pointer.endswith("…and 3 more: `/incident list` shows them.")
    assert "Breach" in lists.broadcast_pointer(every, Viewer(COMMS))
