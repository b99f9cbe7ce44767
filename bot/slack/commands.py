"""`/incident` subcommands: ONE registry. Each entry holds a subcommand's name, usage,
summary, where it may run, its parser and its handler; `help`, usage errors and dispatch
all come from it, so a new subcommand is an entry and a handler.

Parsing is syntax only; the domain judges meaning (is this a valid status now?).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from bot.incidents import IncidentError, IncidentSnapshot
from bot.incidents.stats import DEFAULT_WINDOW, WINDOWS
from bot.slack.flows.numbers import show_numbers
from bot.slack.flows.reply import Reply
from bot.slack.text import for_executives, parse_mention, shortened

if TYPE_CHECKING:
    from bot.slack.listeners import Deps


class UsageError(Exception):
    """The command text does not parse; the message shows the right form."""


@dataclass(frozen=True)
class Ack:
    """What to answer at once, within Slack's 3 s; `finished`: nothing more to do."""

    text: str
    finished: bool = False


@dataclass(frozen=True)
class Request:
    """One run of a subcommand, tidied for its handler."""

    deps: Deps
    reply: Reply
    body: dict
    args: dict
    here: IncidentSnapshot | None = None  # the war room's incident, for war-room subcommands

    @property
    def user(self) -> str:
        return self.body["user_id"]

    @property
    def channel_id(self) -> str | None:
        return self.body.get("channel_id")

    @property
    def incident_id(self) -> int:
        assert self.here is not None, "only war-room subcommands name the incident here"
        return self.here.id


@dataclass(frozen=True)
class Subcommand:
    """One registry entry: everything about a subcommand, in one place."""

    name: str
    arguments: str
    summary: str
    in_war_room: bool  # runs in a war room (its incident is the channel's), else anywhere
    parse: Callable[[str], dict]  # the text after the name -> arguments, or UsageError
    handle: Callable[[Request], Awaitable[None]] | None = None  # after the ack
    acknowledge: Callable[[Deps, dict], Ack | None] | None = None  # on the ack path


@dataclass(frozen=True)
class Command:
    name: str
    args: dict = field(default_factory=dict)

    @property
    def subcommand(self) -> Subcommand:
        return BY_NAME[self.name]


def usage(name: str) -> str:
    sub = BY_NAME[name]
    return f"`/incident {sub.name}{' ' + sub.arguments if sub.arguments else ''}`"


def help_text() -> str:
    lines = ["*`/incident` — run a major incident from Slack*"]
    for sub in SUBCOMMANDS:
        where = "" if not sub.in_war_room else " _(in the war room)_"
        lines.append(f"• {usage(sub.name)} — {sub.summary}{where}")
    return "\n".join(lines)


def parse(text: str) -> Command:
    parts = text.strip().split(None, 1)
    if not parts:
        return Command("help")
    name, rest = parts[0].lower(), (parts[1] if len(parts) > 1 else "")
    if name not in BY_NAME:
        raise UsageError(f"I don't know `{name[:40]}`.")
    return Command(name, BY_NAME[name].parse(rest.strip()))


async def incident_here(deps: Deps, channel_id: str | None) -> IncidentSnapshot:
    snapshot = await deps.service.find_by_channel(channel_id) if channel_id else None
    if snapshot is None:
        raise IncidentError(
            "Run this in an incident's war room. `/incident list` shows the open incidents."
        )
    return snapshot


async def run(deps: Deps, reply: Reply, command: Command, body: dict) -> None:
    """After the ack: the subcommand's handler, in its war room when it needs one."""
    sub = command.subcommand
    here = await incident_here(deps, body.get("channel_id")) if sub.in_war_room else None
    if sub.handle is not None:
        await sub.handle(Request(deps, reply, body, command.args, here))


# -- parsers -------------------------------------------------------------------------------

# Any number, so `declare SEV10 …` is judged (and refused) by the playbook, not taken as title.
_SEVERITY = re.compile(r"^sev\d+$", re.IGNORECASE)


def parse_declare(rest: str) -> dict:
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


def parse_drill(rest: str) -> dict:
    args = parse_declare(rest)
    if not args["title"]:
        raise UsageError(f"Name a scenario or give the drill a title: {usage('drill')}")
    return args


def parse_assign(rest: str) -> dict:
    words = rest.split()
    if len(words) != 2:
        raise UsageError(f"Name a role and a person: {usage('assign')}")
    user_id, user_name = parse_mention(words[1])
    if not user_id and not user_name:
        raise UsageError(
            f"“{words[1][:40]}” is not a person; mention them with @. {usage('assign')}"
        )
    return {"role": words[0], "user_id": user_id, "user_name": user_name}


def parse_status(rest: str) -> dict:
    if not rest:
        raise UsageError(f"Say which status: {usage('status')}")
    status, *note = rest.split(None, 1)
    return {"status": status.lower(), "note": note[0].strip() if note else ""}


def parse_severity(rest: str) -> dict:
    words = rest.split()
    if len(words) != 1 or not _SEVERITY.match(words[0]):
        raise UsageError(f"Give one severity: {usage('severity')}")
    return {"severity": words[0].upper()}


def parse_summary(rest: str) -> dict:
    return {"summary": rest}


def any_arguments(_: str) -> dict:
    return {}


def no_arguments(name: str):
    def parse_no_arguments(rest: str) -> dict:
        if rest:
            raise UsageError(f"{usage(name)} takes no arguments.")
        return {}

    return parse_no_arguments


def parse_ask(rest: str) -> dict:
    number, _, question = rest.partition(" ")
    match = re.fullmatch(r"(?i)(?:inc-)?(\d+)", number)
    if match and question.strip():
        return {"incident": int(match.group(1)), "question": question.strip()}
    if not rest:
        raise UsageError(f"Write your question: {usage('ask')}")
    return {"incident": None, "question": rest}


def parse_note(rest: str) -> dict:
    if not rest:
        raise UsageError(f"Write the note: {usage('note')}")
    return {"text": rest}


def parse_timeline(rest: str) -> dict:
    if not rest:
        return {"export": False, "page": 1}
    if rest.lower() == "export":
        return {"export": True, "page": 1}
    if rest.isdigit() and int(rest) > 0:
        return {"export": False, "page": int(rest)}
    raise UsageError(f"Give a page number or `export`: {usage('timeline')}")


# `due` and something date-like ends the text (so "the due diligence" stays text).
_DUE = re.compile(r"(?:^|\s)due\s+(\d\S*)\s*$", re.IGNORECASE)


def parse_action(rest: str) -> dict:
    """`<text> [@owner] [due YYYY-MM-DD]`: the owner is the last mention, the due date last."""
    due = None
    if match := _DUE.search(rest):
        try:
            due = date.fromisoformat(match.group(1))
        except ValueError:
            raise UsageError(
                f"“{match.group(1)[:20]}” is not a date; write it as YYYY-MM-DD. {usage('action')}"
            ) from None
        rest = rest[: match.start()]
    words = rest.split()
    owner: tuple[str | None, str | None] = (None, None)
    for index in range(len(words) - 1, -1, -1):
        found = parse_mention(words[index])
        if any(found):
            owner = found
            del words[index]
            break
    if not words:
        raise UsageError(f"Say what is to be done: {usage('action')}")
    return {"text": " ".join(words), "owner": owner, "due": due}


def parse_problem(rest: str) -> dict:
    if not rest or len(rest.split()) != 1:
        raise UsageError(f"Give one ticket ID or URL: {usage('problem')}")
    link = re.fullmatch(r"<(https?://[^|>]+)(?:\|[^>]*)?>", rest)  # Slack wraps links so
    return {"reference": link.group(1) if link else rest}


def parse_list(rest: str) -> dict:
    if not rest:
        return {"page": 1}
    if re.fullmatch(r"[0-9]{1,6}", rest) and int(rest) > 0:
        return {"page": int(rest)}
    raise UsageError(f"Give a page number: {usage('list')}")


def parse_search(rest: str) -> dict:
    if not rest:
        raise UsageError(f"Say what to look for: {usage('search')}")
    return {"words": rest}


def parse_stats(rest: str) -> dict:
    window = rest.lower() or DEFAULT_WINDOW
    if window not in WINDOWS:
        raise UsageError(f"Pick a window: {usage('stats')}")
    return {"window": window}


# -- what each subcommand acknowledges at once -----------------------------------------------


def ack_help(_: Deps, __: dict) -> Ack:
    return Ack(help_text(), finished=True)


def ack_oncall(deps: Deps, _: dict) -> Ack:
    return Ack(deps.paging.on_call(), finished=True)  # the rota is config: no I/O


def ack_drill(_: Deps, __: dict) -> Ack:
    return Ack("⏳ Opening a war room for the drill…")


def ack_declare(_: Deps, args: dict) -> Ack | None:
    if not args["title"]:
        return None
    return Ack(f"⏳ Opening a war room for *{for_executives(shortened(args['title'], 150))}*…")


# -- handlers: each calls one flow ------------------------------------------------------------


async def declare(r: Request) -> None:
    args = r.args
    if args["title"]:
        await r.deps.declaring.declare(
            r.reply, title=args["title"], severity=args["severity"], playbook=args["playbook"]
        )
        return
    metadata = {"response_url": r.body.get("response_url"), "channel": r.channel_id}
    await r.deps.declaring.open_form(
        r.body["trigger_id"], metadata, args["severity"], args["playbook"]
    )


async def drill(r: Request) -> None:
    args = r.args
    await r.deps.drills.declare(r.reply, args["title"], args["severity"], args["playbook"])


async def assign(r: Request) -> None:
    args = r.args
    await r.deps.changes.assign_named(
        r.incident_id, args["role"], args["user_id"], args["user_name"], by=r.user
    )


async def status(r: Request) -> None:
    await r.deps.changes.set_status(r.incident_id, r.args["status"], r.user, r.args["note"])


async def severity(r: Request) -> None:
    await r.deps.changes.set_severity(r.incident_id, r.args["severity"], r.user)


async def resolve(r: Request) -> None:
    await r.deps.changes.resolve(r.incident_id, r.user, r.args["summary"])


async def close(r: Request) -> None:
    await r.deps.changes.close(r.incident_id, r.user)


async def update(r: Request) -> None:
    await r.deps.updates.draft(r.incident_id)


async def ask(r: Request) -> None:
    await r.deps.stakeholders.ask(r.reply, r.args["incident"], r.channel_id, r.args["question"])


async def note(r: Request) -> None:
    await r.deps.timeline_views.note(r.here, r.user, r.args["text"])


async def timeline(r: Request) -> None:
    if r.args["export"]:
        await r.deps.timeline_views.export(r.here, r.user)
    else:
        await r.deps.timeline_views.show(r.reply, r.incident_id, r.args["page"])


async def report(r: Request) -> None:
    await r.deps.reviewing.report(r.here, r.user)


async def action(r: Request) -> None:
    args = r.args
    await r.deps.followups.add_named(r.here, args["text"], r.user, args["owner"], args["due"])


async def actions(r: Request) -> None:
    await r.deps.followups.show(r.reply, r.incident_id)


async def problem(r: Request) -> None:
    await r.deps.followups.set_problem(r.here, r.args["reference"], r.user)


async def search(r: Request) -> None:
    await r.deps.knowledge.search(r.reply, r.args["words"])


async def stats(r: Request) -> None:
    await show_numbers(r.reply, r.deps.service, r.args["window"])


async def list_open(r: Request) -> None:
    await r.deps.stakeholders.list_open(r.reply, r.args["page"])


# -- the registry ------------------------------------------------------------------------------

ANYWHERE, IN_WAR_ROOM = False, True
SUBCOMMANDS = (
    Subcommand(
        "declare",
        "[SEVn] [title] [playbook=name]",
        "open a war room (no title: a form)",
        ANYWHERE,
        parse_declare,
        declare,
        ack_declare,
    ),
    Subcommand(
        "drill",
        "[SEVn] [scenario] <title> [playbook=name]",
        "rehearse: a war room marked DRILL, the scenario's injects, a scorecard at the end",
        ANYWHERE,
        parse_drill,
        drill,
        ack_drill,
    ),
    Subcommand(
        "assign",
        "<commander|comms|tech> @user",
        "hand a role over (aliases ic, cl, tl)",
        IN_WAR_ROOM,
        parse_assign,
        assign,
    ),
    Subcommand(
        "status",
        "<investigating|identified|monitoring|resolved> [note]",
        "move the incident on",
        IN_WAR_ROOM,
        parse_status,
        status,
    ),
    Subcommand("severity", "<SEVn>", "re-rate the incident", IN_WAR_ROOM, parse_severity, severity),
    Subcommand(
        "update",
        "",
        "draft a stakeholder update now (comms lead approves it)",
        IN_WAR_ROOM,
        no_arguments("update"),
        update,
    ),
    Subcommand(
        "ask",
        "[incident number] <question>",
        "ask the comms lead, not the responders",
        ANYWHERE,
        parse_ask,
        ask,
    ),
    Subcommand(
        "resolve", "[summary]", "mark the incident resolved", IN_WAR_ROOM, parse_summary, resolve
    ),
    Subcommand(
        "close",
        "",
        "close a resolved incident, once its review is done",
        IN_WAR_ROOM,
        no_arguments("close"),
        close,
    ),
    Subcommand("note", "<text>", "add a key note to the timeline", IN_WAR_ROOM, parse_note, note),
    Subcommand(
        "timeline",
        "[page|export]",
        "show the timeline (export: as a Markdown file in the room)",
        IN_WAR_ROOM,
        parse_timeline,
        timeline,
    ),
    Subcommand(
        "report",
        "",
        "draft the post-incident review from the record (once resolved)",
        IN_WAR_ROOM,
        no_arguments("report"),
        report,
    ),
    Subcommand(
        "action",
        "<text> [@owner] [due YYYY-MM-DD]",
        "add a follow-up action item (its owner is told)",
        IN_WAR_ROOM,
        parse_action,
        action,
    ),
    Subcommand(
        "actions",
        "",
        "list the action items, to mark them done or reassign them",
        IN_WAR_ROOM,
        no_arguments("actions"),
        actions,
    ),
    Subcommand(
        "problem",
        "<ticket ID or URL>",
        "record the problem-management case for the root cause",
        IN_WAR_ROOM,
        parse_problem,
        problem,
    ),
    Subcommand(
        "search",
        "<words>",
        "find past incidents (title, impact, resolution, review, timeline)",
        ANYWHERE,
        parse_search,
        search,
    ),
    Subcommand(
        "list",
        "[page]",
        "open incidents, most severe first (then newest), a page at a time",
        ANYWHERE,
        parse_list,
        list_open,
    ),
    Subcommand(
        "oncall",
        "",
        "who is the duty MIM manager now, and who is next",
        ANYWHERE,
        no_arguments("oncall"),
        acknowledge=ack_oncall,
    ),
    Subcommand(
        "stats",
        "[30d|90d|365d]",
        "the numbers: is the process working? (default: 30 days)",
        ANYWHERE,
        parse_stats,
        stats,
    ),
    Subcommand("help", "", "this help", ANYWHERE, any_arguments, acknowledge=ack_help),
)
BY_NAME = {s.name: s for s in SUBCOMMANDS}
