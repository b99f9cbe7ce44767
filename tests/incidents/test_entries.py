"""Typed timeline payloads read what the database has always stored."""

from datetime import UTC, datetime

import pytest

from bot.incidents.entries import (
    PAYLOADS,
    Declared,
    EntryKind,
    Noted,
    RoleHandedOver,
    Said,
    SeverityChanged,
    StatusChanged,
    UpdateSent,
    UpdateSkipped,
    entry_row,
    new_entry,
    payload,
)
from bot.incidents.lifecycle import IncidentStatus, UpdateStatus
from bot.store.models import TimelineEntry

AT = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)

# (kind, data) exactly as rows written before the types existed hold them.
STORED = [
    ("declared", {"severity": "SEV1", "playbook": "default", "impact": ""}),
    ("status", {"from": "investigating", "to": "identified", "note": "x", "reopened": False}),
    ("status", {"from": "investigating", "to": "identified", "note": ""}),  # before reopening
    ("severity", {"from": "SEV2", "to": "SEV1"}),
    ("role", {"role": "comms", "from": None, "to": "U2"}),
    ("note", {}),
    ("message", {}),
    ("message", {"key_by": ["pin", "reaction:U1"]}),
    ("update", {"update": 3, "final": True}),
    ("update_skipped", {"update": 4, "reason": "Nothing new"}),
]


@pytest.mark.parametrize(("kind", "data"), STORED)
def test_stored_rows_read_back_as_typed_payloads_and_write_the_same_keys(kind, data):
    read = payload(TimelineEntry(incident_id=1, at=AT, kind=kind, data=data))
    assert read.kind == kind
    written = read.to_data()
    assert {k: written[k] for k in data} == data  # same keys, same values


def test_each_kind_has_one_payload_type():
    assert set(PAYLOADS) == set(EntryKind)
    assert payload(TimelineEntry(incident_id=1, at=AT, kind="role", data=STORED[4][1])) == (
        RoleHandedOver(role="comms", previous=None, to="U2")
    )
    assert StatusChanged.from_data(STORED[2][1]).reopened is False  # missing: the default


def test_one_constructor_makes_every_kind():
    payloads = [
        Declared("SEV1", "default"),
        StatusChanged("investigating", "identified"),
        SeverityChanged("SEV2", "SEV1"),
        RoleHandedOver("comms", None, "U2"),
        Noted(),
        Said(),
        UpdateSent(1),
        UpdateSkipped(1, "why"),
    ]
    for what in payloads:
        entry = new_entry(7, AT, what, actor="U1", text="t", key=True)
        assert (entry.kind, entry.incident_id, entry.at, entry.key) == (what.kind, 7, AT, True)
        assert payload(entry) == what
    row = entry_row(7, AT, Said(), actor="U1", text="hi", message_ts="1.2")
    assert row["data"] == {} and row["files"] == [] and row["edits"] == []
    assert row["message_ts"] == "1.2" and row["deleted"] is False


def test_statuses_are_the_stored_strings():
    assert [s.value for s in IncidentStatus] == [
        "investigating",
        "identified",
        "monitoring",
        "resolved",
        "closed",
    ]
    assert UpdateStatus("superseded") == "superseded"
