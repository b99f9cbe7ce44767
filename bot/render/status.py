"""The status page as HTML, JSON and an Atom feed: pure functions of the domain's status
data (bot.incidents.status), which has already redacted private incidents.

Every string is escaped: HTML by Jinja's autoescaping, Atom by ElementTree. Update text can
still hold Slack markup such as `<@U123>`; it is shown as the plain text it is.
"""

from __future__ import annotations

from datetime import datetime
from xml.etree import ElementTree

from jinja2 import DictLoader, Environment, select_autoescape

from bot.incidents.status import FeedEntry, IncidentHistory, PublicIncident, StatusBoard

REFRESH_SECONDS = 60
ATOM = "http://www.w3.org/2005/Atom"
PRIVATE = "a private incident"

_LAYOUT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="{{ refresh }}">
<title>{% block title %}Incident status{% endblock %}</title>
<link rel="alternate" type="application/atom+xml" title="Stakeholder updates" href="/status.atom">
<style>
body{font-family:system-ui,sans-serif;margin:0 auto;padding:1rem;max-width:48rem;line-height:1.4;color:#222}
h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:2rem}
.incident{border:1px solid #ddd;border-radius:.5rem;padding:.8rem;margin:.8rem 0}
.incident h3{margin:0 0 .3rem;font-size:1rem}.meta{color:#555;font-size:.9rem}
.sev{font-weight:bold}.update{white-space:pre-wrap;background:#f6f6f6;padding:.6rem;border-radius:.3rem}
.private{color:#666;font-style:italic}footer{color:#777;font-size:.8rem;margin-top:2rem}
</style></head>
<body>{% block body %}{% endblock %}
<footer>Updated {{ at | utc }}; this page refreshes itself every minute.
<a href="/status.atom">Subscribe (Atom)</a> · <a href="/status.json">JSON</a></footer>
</body></html>"""

_INCIDENT = """{% macro card(incident, at, link=True) %}
<section class="incident" id="{{ incident.reference }}">
{% if incident.private %}
<h3>{{ incident.reference }} · <span class="private">{{ private }}</span></h3>
{% else %}
<h3>{% if link %}<a href="/status/{{ incident.reference }}">{{ incident.reference }}</a>{% else %}{{ incident.reference }}{% endif %}
 · <span class="sev">{{ incident.severity }}</span> · {{ incident.title }}</h3>
<div class="meta">{{ incident.status | capitalize }} · declared {{ incident.declared_at | ago(at) }} ago
({{ incident.declared_at | utc }}){% if incident.resolved_at %} · resolved {{ incident.resolved_at | utc }}{% endif %}</div>
{% if incident.last_update %}
<p class="meta">Latest update, {{ incident.last_update.at | utc }}:</p>
<div class="update">{{ incident.last_update.text }}</div>
{% else %}<p class="meta">No update published yet.</p>{% endif %}
{% if incident.next_update_due %}<p class="meta">Next update due {{ incident.next_update_due | utc }}{% if incident.next_update_due <= at %} (being prepared){% endif %}.</p>{% endif %}
{% endif %}
</section>
{% endmacro %}"""

_BOARD = """{% extends "layout" %}{% from "incident" import card %}
{% block body %}<h1>Incident status</h1>
<h2>Open incidents</h2>
{% for incident in board.open %}{{ card(incident, at) }}{% else %}<p>No open incidents.</p>{% endfor %}
<h2>Resolved in the last 7 days</h2>
{% for incident in board.recently_resolved %}{{ card(incident, at) }}{% else %}<p>None.</p>{% endfor %}
{% endblock %}"""

_HISTORY = """{% extends "layout" %}{% from "incident" import card %}
{% block title %}{{ history.incident.reference }} · Incident status{% endblock %}
{% block body %}<p><a href="/status">All incidents</a></p>
<h1>{{ history.incident.reference }}</h1>
{{ card(history.incident, at, link=False) }}
{% if history.updates %}<h2>Published updates</h2>
{% for update in history.updates %}<p class="meta">{{ update.at | utc }}{% if update.final %} · final update{% endif %}</p>
<div class="update">{{ update.text }}</div>{% endfor %}{% endif %}
{% endblock %}"""


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
    loader=DictLoader(
        {"layout": _LAYOUT, "incident": _INCIDENT, "board": _BOARD, "history": _HISTORY}
    ),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
_templates.filters.update(utc=utc, ago=ago)
_templates.globals.update(private=PRIVATE, refresh=REFRESH_SECONDS)


def status_page(board: StatusBoard) -> str:
    return _templates.get_template("board").render(board=board, at=board.at)


def incident_page(history: IncidentHistory, now: datetime) -> str:
    return _templates.get_template("history").render(history=history, at=now)


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
