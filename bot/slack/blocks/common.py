"""What every surface shares: text objects, Block Kit limits, the incident headline.

Every user-supplied string goes through `escape` and is cut to Block Kit's limits here.
"""

from __future__ import annotations

import re
from datetime import datetime

from bot.incidents import IncidentSnapshot
from bot.incidents.privacy import Viewer, private_label, shown_to
from bot.slack.text import escape, for_executives, truncate

SECTION_LIMIT = 3000
HEADER_LIMIT = 150
OPTION_LIMIT = 75

STATUS_EMOJI = {
    "investigating": "🔍",
    "identified": "🎯",
    "monitoring": "👀",
    "resolved": "✅",
    "closed": "📁",
}


def mrkdwn(text: str) -> dict:
    # verbatim: Slack must not auto-link names or mentions in text we did not mark up.
    return {"type": "mrkdwn", "text": truncate(text, SECTION_LIMIT), "verbatim": True}


def plain(text: str, limit: int = OPTION_LIMIT) -> dict:
    return {"type": "plain_text", "text": truncate(text, limit), "emoji": True}


def mention(entry: str) -> str:
    """A user (U…/W…) or a user group (S…) as Slack shows them, by name."""
    return f"<!subteam^{entry}>" if entry.startswith("S") else f"<@{entry}>"


def section(text: str) -> dict:
    return {"type": "section", "text": mrkdwn(text)}


def context(text: str) -> dict:
    return {"type": "context", "elements": [mrkdwn(text)]}


def option(label: str, value: str, description: str | None = None) -> dict:
    item = {"text": plain(label), "value": value}
    if description:
        item["description"] = plain(description)
    return item


def slack_date(when: datetime, style: str = "{date_short_pretty} {time}") -> str:
    """A date Slack shows in each reader's own timezone."""
    return f"<!date^{int(when.timestamp())}^{style}|{when:%Y-%m-%d %H:%M} UTC>"


DRILL_MARK = "🧪 DRILL"


def drill_mark(snapshot: IncidentSnapshot) -> str:
    """What starts every post about a drill, so no one takes an exercise for the real thing."""
    return f"{DRILL_MARK} · " if snapshot.is_drill else ""


def headline(snapshot: IncidentSnapshot, viewer: Viewer) -> str:
    """The incident in one line, as `viewer` may see it (a private one: its reference only)."""
    incident = snapshot.incident
    if not shown_to(snapshot, viewer):
        return f"{drill_mark(snapshot)}{private_headline(incident.reference)}"
    return (
        f"{drill_mark(snapshot)}{incident.reference} · {incident.severity} · "
        f"{for_executives(incident.title)}"
    )


def room_headline(snapshot: IncidentSnapshot) -> str:
    """The headline in the incident's own war room (and what only its people see)."""
    return headline(snapshot, Viewer.in_room(snapshot.incident.channel_id))


def private_headline(reference: str) -> str:
    return f"🔒 {private_label(reference)}"


def link_or_text(reference: str) -> str:
    """A URL as a link; anything else (a ticket ID) as plain, escaped text."""
    if re.fullmatch(r"https?://[^\s<>|]+", reference):
        return f"<{reference}>"
    return escape(reference)
