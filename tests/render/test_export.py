"""The timeline export: pure Markdown from entries, with names from the reader's side."""

from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.incidents import IncidentSnapshot
from bot.incidents.entries import Noted, RoleHandedOver, Said, StatusChanged, new_entry
from bot.playbooks import load_playbooks
from bot.render.export import timeline_markdown
from bot.render.readers import Readers
from bot.slack.text import plain_text
from bot.store.models import Incident

AT = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
NAMES = {"UALICE0001": "alice", "UBOB000001": "bob"}


def snapshot() -> IncidentSnapshot:
    playbook = load_playbooks(Path("playbooks")).get("default")
    incident = Incident(
        id=4, title="Checkout down", severity="SEV1", playbook="default", declared_by="U1"
    )
    return IncidentSnapshot(incident, playbook, {})


def test_export_lists_key_events_first_with_names_in_the_readers_zone():
    entries = [
        new_entry(
            4,
            AT,
            StatusChanged("investigating", "identified"),
            actor="UALICE0001",
            text="investigating → identified",
            key=True,
        ),
        new_entry(
            4,
            AT,
            RoleHandedOver("comms", "UALICE0001", "UBOB000001"),
            actor="UALICE0001",
            text="Comms Lead: UBOB000001 (was UALICE0001)",
        ),
        new_entry(
            4,
            AT,
            Said(),
            actor="UBOB000001",
            text="ask <@UALICE0001|al>\nplease",
            thread_ts="1.1",
            files=["log.txt"],
            permalink="https://x/p1",
        ),
        new_entry(4, AT, Noted(), actor=None, text="<@UNKNOWN01> said so", key=True),
    ]
    readers = Readers(ZoneInfo("Europe/Paris"), NAMES, partial(plain_text, names=NAMES))
    document = timeline_markdown(snapshot(), entries, readers)
    key, full = document.split("## Full timeline")
    assert "Times in Europe/Paris." in key
    assert "- **2026-11-22 10:00:00** alice [status] investigating → identified" in key
    assert "- **2026-11-22 10:00:00** warroom [note] @UNKNOWN01 said so" in key
    assert "Comms Lead" not in key
    assert "alice [role] Comms Lead: @bob (was @alice)" in full
    assert "bob [message] ask @alice please _(in thread; files: log.txt)_ [↗](https://x/p1)" in full


def test_without_names_people_stay_as_recorded():
    entries = [
        new_entry(
            4,
            AT,
            RoleHandedOver("comms", None, "UBOB000001"),
            actor="U1",
            text="Comms Lead: UBOB000001",
        )
    ]
    document = timeline_markdown(snapshot(), entries, Readers(UTC))
    assert "U1 [role] Comms Lead: UBOB000001\n" in document
    assert "- none marked" in document
