"""`/incident` subcommands: the registry (which renders `help`) and the parser.

Parsing is syntax only; the domain judges meaning (is this a valid status now?).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.slack.text import parse_mention


@dataclass(frozen=True)
class Subcommand:
    name: str
    arguments: str
    summary: str
    in_war_room: bool = True


SUBCOMMANDS = (
    Subcommand(
        "declare", "[SEVn] [title] [playbook=name]", "open a war room (no title: a form)", False
    ),
    Subcommand("assign", "<commander|comms|tech> @user", "hand a role over (aliases ic, cl, tl)"),
    Subcommand(
        "status", "<investigating|identified|monitoring|resolved> [note]", "move the incident on"
    ),
    Subcommand("severity", "<SEVn>", "re-rate the incident"),
    Subcommand("update", "", "draft a stakeholder update now (comms lead approves it)"),
    Subcommand(
        "ask", "[incident number] <question>", "ask the comms lead, not the responders", False
    ),
    Subcommand("resolve", "[summary]", "mark the incident resolved"),
    Subcommand("close", "", "close a resolved incident, once its review is done"),
    Subcommand("note", "<text>", "add a key note to the timeline"),
    Subcommand(
        "timeline", "[page|export]", "show the timeline (export: as a Markdown file in the room)"
    ),
    Subcommand("report", "", "draft the post-incident review from the record (once resolved)"),
    Subcommand("list", "", "open incidents", False),
    Subcommand("oncall", "", "who is the duty MIM manager now, and who is next", False),
    Subcommand("help", "", "this help", False),
)
BY_NAME = {s.name: s for s in SUBCOMMANDS}


def usage(name: str) -> str:
    sub = BY_NAME[name]
    return f"`/incident {sub.name}{' ' + sub.arguments if sub.arguments else ''}`"


def help_text() -> str:
    lines = ["*`/incident` — run a major incident from Slack*"]
    for sub in SUBCOMMANDS:
        where = "" if not sub.in_war_room else " _(in the war room)_"
        lines.append(f"• {usage(sub.name)} — {sub.summary}{where}")
    return "\n".join(lines)


class UsageError(Exception):
    """The command text does not parse; the message shows the right form."""


@dataclass(frozen=True)
class Command:
    name: str
    args: dict = field(default_factory=dict)

    @property
    def in_war_room(self) -> bool:
        return BY_NAME[self.name].in_war_room


_SEVERITY = re.compile(r"^sev\d$", re.IGNORECASE)


def parse(text: str) -> Command:
    parts = text.strip().split(None, 1)
    if not parts:
        return Command("help")
    name, rest = parts[0].lower(), (parts[1] if len(parts) > 1 else "")
    if name not in BY_NAME:
        raise UsageError(f"I don't know `{name[:40]}`.")
    parser = _PARSERS.get(name)
    return Command(name, parser(rest.strip()) if parser else {})


def _declare(rest: str) -> dict:
    words = rest.split()
    severity = playbook = None
    title: list[str] = []
    for word in words:
        if severity is None and not title and _SEVERITY.match(word):
            severity = word.upper()
        elif word.lower().startswith("playbook="):
            playbook = word.split("=", 1)[1]
            if not playbook:
                raise UsageError(f"Name the playbook: {usage('declare')}")
        else:
            title.append(word)
    return {"severity": severity, "title": " ".join(title), "playbook": playbook}


def _assign(rest: str) -> dict:
    words = rest.split()
    if len(words) != 2:
        raise UsageError(f"Name a role and a person: {usage('assign')}")
    user_id, user_name = parse_mention(words[1])
    if not user_id and not user_name:
        raise UsageError(
            f"“{words[1][:40]}” is not a person; mention them with @. {usage('assign')}"
        )
    return {"role": words[0], "user_id": user_id, "user_name": user_name}


def _status(rest: str) -> dict:
    if not rest:
        raise UsageError(f"Say which status: {usage('status')}")
    status, *note = rest.split(None, 1)
    return {"status": status.lower(), "note": note[0].strip() if note else ""}


def _severity(rest: str) -> dict:
    words = rest.split()
    if len(words) != 1 or not _SEVERITY.match(words[0]):
        raise UsageError(f"Give one severity: {usage('severity')}")
    return {"severity": words[0].upper()}


def _summary(rest: str) -> dict:
    return {"summary": rest}


def _nothing(name: str):
    def parse_no_arguments(rest: str) -> dict:
        if rest:
            raise UsageError(f"{usage(name)} takes no arguments.")
        return {}

    return parse_no_arguments


def _ask(rest: str) -> dict:
    number, _, question = rest.partition(" ")
    match = re.fullmatch(r"(?i)(?:inc-)?(\d+)", number)
    if match and question.strip():
        return {"incident": int(match.group(1)), "question": question.strip()}
    if not rest:
        raise UsageError(f"Write your question: {usage('ask')}")
    return {"incident": None, "question": rest}


def _note(rest: str) -> dict:
    if not rest:
        raise UsageError(f"Write the note: {usage('note')}")
    return {"text": rest}


def _timeline(rest: str) -> dict:
    if not rest:
        return {"export": False, "page": 1}
    if rest.lower() == "export":
        return {"export": True, "page": 1}
    if rest.isdigit() and int(rest) > 0:
        return {"export": False, "page": int(rest)}
    raise UsageError(f"Give a page number or `export`: {usage('timeline')}")


_PARSERS = {
    "declare": _declare,
    "assign": _assign,
    "status": _status,
    "severity": _severity,
    "resolve": _summary,
    "close": _nothing("close"),
    "list": _nothing("list"),
    "oncall": _nothing("oncall"),
    "note": _note,
    "timeline": _timeline,
    "report": _nothing("report"),
    "update": _nothing("update"),
    "ask": _ask,
}
