"""The one privacy rule: who sees what a private incident is about."""

from pathlib import Path

from bot.incidents import IncidentSnapshot
from bot.incidents.privacy import EVERYONE, Viewer, members, private_label, shown_to
from bot.playbooks import load_playbooks
from bot.store.models import Incident

LIBRARY = load_playbooks(Path("playbooks"))
DECLARER, COMMS, INSIDE, OUTSIDER = "UDECLARER1", "UCOMMS0001", "UINSIDE001", "UOUTSIDE01"


def snapshot(private: bool) -> IncidentSnapshot:
    row = Incident(
        id=5,
        title="Breach",
        severity="SEV1",
        playbook="default",
        declared_by=DECLARER,
        channel_id="CROOM00005",
        private=private,
    )
    return IncidentSnapshot(row, LIBRARY.default, {"commander": DECLARER, "comms": COMMS})


def test_a_public_incident_is_shown_to_everyone():
    public = snapshot(private=False)
    assert shown_to(public, EVERYONE) and shown_to(public, Viewer(OUTSIDER))


def test_a_private_incident_is_shown_to_its_members_only():
    secret = snapshot(private=True)
    assert members(secret) == {DECLARER, COMMS}
    assert not shown_to(secret, EVERYONE) and not shown_to(secret, Viewer(OUTSIDER))
    assert shown_to(secret, Viewer(COMMS)) and shown_to(secret, Viewer(DECLARER))
    # In its room by Slack's word; the room itself; another room does not count.
    assert shown_to(secret, Viewer(INSIDE, frozenset({"CROOM00005"})))
    assert shown_to(secret, Viewer.in_room("CROOM00005"))
    assert not shown_to(secret, Viewer(INSIDE, frozenset({"COTHER0001"})))


def test_without_its_role_holders_only_the_declarer_and_the_room_count():
    row = snapshot(private=True).incident
    assert shown_to(row, Viewer(DECLARER)) and not shown_to(row, Viewer(COMMS))
    assert shown_to(row, Viewer(COMMS, frozenset({"CROOM00005"})))
    assert private_label(row.reference) == "INC-5 — a private incident"
