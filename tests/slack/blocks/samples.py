"""A snapshot with everything people can type set far past Slack's limits."""

from pathlib import Path

from bot.incidents import IncidentSnapshot
from bot.playbooks import load_playbooks
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
