"""The knowledge base in Slack: search results and similar past incidents."""

from __future__ import annotations

from bot.incidents.knowledge import Found
from bot.slack.blocks.common import SECTION_LIMIT, context, section
from bot.slack.text import escape, permalink, truncate

SUMMARY_LIMIT = 300


def room_link(workspace_url: str | None, channel_id: str | None) -> str:
    if not channel_id:
        return "no war room"
    if not workspace_url:
        return f"<#{channel_id}>"
    return f"<{workspace_url.rstrip('/')}/archives/{channel_id}|war room>"


def review_link(workspace_url: str | None, found: Found) -> str:
    channel_id = found.incident.channel_id
    if not found.review_ts or not channel_id:
        return "no review posted"
    link = permalink(workspace_url, channel_id, found.review_ts)
    return f"<{link}|review>" if link else "review in the war room"


def found_line(found: Found, workspace_url: str | None) -> str:
    incident = found.incident
    summary = incident.summary or "no resolution summary"
    return (
        f"• *{incident.reference} · {incident.severity} · {escape(incident.title)}*"
        f"{' 🔒' if found.private else ''} — {incident.status}, declared "
        f"{incident.declared_at:%Y-%m-%d} · {room_link(workspace_url, incident.channel_id)} · "
        f"{review_link(workspace_url, found)}\n"
        f"    _Resolution:_ {escape(truncate(summary, SUMMARY_LIMIT))}"
    )


def search_results(words: str, found: list[Found], workspace_url: str | None) -> tuple[str, list]:
    text = f"Past incidents matching “{truncate(words, 100)}”"
    if not found:
        return text, [section(f"No past incident matches “{escape(truncate(words, 100))}”.")]
    lines = [found_line(f, workspace_url) for f in found]
    return text, [
        section(f"*{escape(text)}*, best first"),
        *(section(truncate(line, SECTION_LIMIT)) for line in lines),
    ]


def similar_incidents(found: list[Found], workspace_url: str | None) -> tuple[str, list]:
    text = "📚 Similar past incidents: start from what worked last time"
    return text, [
        section(f"*{text}*"),
        *(section(truncate(found_line(f, workspace_url), SECTION_LIMIT)) for f in found),
        context("Found by `/incident search` on this incident's title and impact."),
    ]
