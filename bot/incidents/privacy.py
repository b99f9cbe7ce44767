"""Who may see a private incident's details. Everyone else sees only that a private
incident exists, with its reference.

For now the people who may are its current role holders and its declarer: the rest of its
war room's members are Slack's to know, not the domain's.
"""

from __future__ import annotations

from bot.incidents.service import IncidentSnapshot


def shown_to(snapshot: IncidentSnapshot, user: str) -> bool:
    incident = snapshot.incident
    if not incident.private:
        return True
    return user == incident.declared_by or user in snapshot.roles.values()
