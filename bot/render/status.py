"""The status page as HTML, JSON and an Atom feed: pure functions of the domain's status
data (bot.incidents.status), which has already redacted private incidents.

Every string is escaped: HTML by Jinja's autoescaping, Atom by ElementTree. Titles and
update text arrive as plain text (the reader made them readable: names, link labels).
"""

from __future__ import annotations

from datetime import datetime
from xml.etree import ElementTree

from jinja2 import Environment, PackageLoader, select_autoescape

from bot.incidents.privacy import PRIVATE
from bot.incidents.status import FeedEntry, IncidentHistory, PublicIncident, StatusBoard

REFRESH_SECONDS = 60
ATOM = "http://www.w3.org/2005/Atom"


def utc(moment: datetime) -> str:
    return moment.isoformat(" ", "minutes")[:16] + " UTC"  # 3x faster than strftime


def ago(moment: datetime, now: datetime) -> str:
    """How long since `moment`, coarsely: 45 s, 12 min, 3 h 5 min, 2 d 4 h."""
    seconds = max(0, int((now - moment).total_seconds()))
    minutes, hours, days = seconds // 60, seconds // 3600, seconds // 86400
    if seconds < 60:
        return f"{seconds} s"
    if hours < 1:
        return f"{minutes} min"
    if days < 1:
        return f"{hours} h {minutes % 60} min"
    return f"{days} d {hours % 24} h"


_templates = Environment(
    loader=PackageLoader("bot.render", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
_templates.filters.update(utc=utc, ago=ago)
_templates.globals.update(private=PRIVATE, refresh=REFRESH_SECONDS)


def status_page(board: StatusBoard) -> str:
    return _templates.get_template("status.html").render(board=board, at=board.at)


def incident_page(history: IncidentHistory, now: datetime) -> str:
    return _templates.get_template("incident_history.html").render(history=history, at=now)


def incident_json(incident: PublicIncident) -> dict:
    if incident.private:
        return {"reference": incident.reference, "private": True, "title": PRIVATE}
    update = incident.last_update
    return {
        "reference": incident.reference,
        "private": False,
        "title": incident.title,
        "severity": incident.severity,
        "status": incident.status,
        "declared_at": incident.declared_at.isoformat(),
        "resolved_at": incident.resolved_at.isoformat() if incident.resolved_at else None,
        "last_update": {"at": update.at.isoformat(), "text": update.text, "final": update.final}
        if update
        else None,
        "next_update_due": _iso(incident.next_update_due),
    }


def status_json(board: StatusBoard) -> dict:
    return {
        "at": board.at.isoformat(),
        "open": [incident_json(i) for i in board.open],
        "recently_resolved": [incident_json(i) for i in board.recently_resolved],
    }


def atom_feed(entries: list[FeedEntry], base_url: str, now: datetime) -> str:
    """One Atom entry per published update, newest first (RFC 4287)."""
    ElementTree.register_namespace("", ATOM)
    feed = ElementTree.Element(f"{{{ATOM}}}feed")
    _text(feed, "id", f"{base_url}/status.atom")
    _text(feed, "title", "Incident status: stakeholder updates")
    _text(feed, "updated", (entries[0].update.at if entries else now).isoformat())
    _link(feed, f"{base_url}/status.atom", "self")
    _link(feed, f"{base_url}/status", "alternate")
    _text(ElementTree.SubElement(feed, f"{{{ATOM}}}author"), "name", "warroom")
    for item in entries:
        incident, page = item.incident, f"{base_url}/status/{item.incident.reference}"
        entry = ElementTree.SubElement(feed, f"{{{ATOM}}}entry")
        _text(entry, "id", f"{page}#update-{item.update_id}")
        final = " (final update)" if item.update.final else ""
        _text(entry, "title", f"{incident.reference} {incident.severity}: {incident.title}{final}")
        _text(entry, "updated", item.update.at.isoformat())
        _link(entry, page, "alternate")
        _text(entry, "content", item.update.text).set("type", "text")
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ElementTree.tostring(
        feed, encoding="unicode"
    )


def _text(parent: ElementTree.Element, tag: str, text: str) -> ElementTree.Element:
    element = ElementTree.SubElement(parent, f"{{{ATOM}}}{tag}")
    element.text = text
    return element


def _link(parent: ElementTree.Element, href: str, rel: str) -> None:
    ElementTree.SubElement(parent, f"{{{ATOM}}}link", href=href, rel=rel)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None
