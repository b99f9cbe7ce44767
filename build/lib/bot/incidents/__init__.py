"""The incident domain: lifecycle, roles, timeline, stakeholder updates. No Slack imports."""

from bot.incidents.errors import IncidentError, InvalidRequest, NotFound
from bot.incidents.service import Change, IncidentService, IncidentSnapshot

__all__ = [
    "Change",
    "IncidentError",
    "IncidentService",
    "IncidentSnapshot",
    "InvalidRequest",
    "NotFound",
]
