"""Slack's text dialect: what people write, as Slack sends it, read into a structure and
rendered for each surface; Block Kit length limits, channel names, mentions and message
timestamps.

**Said text.** Message and slash-command text arrive in Slack's dialect: the person's
words with `&`, `<` and `>` escaped as `&amp;`, `&lt;` and `&gt;`, and Slack's references
in its markup (`<@U…>`, `<#C…|name>`, `<!subteam^S…>`, `<!here>`, `<https://…|label>`).
That form is unambiguous (a typed `<@U1>` arrives as `&lt;@U1&gt;`, a picked person as
`<@U1>`), so it is what warroom stores for everything people write, titles included;
text typed into a modal arrives raw and is brought into that form once, where it comes in
(`from_typed`). Every surface reads it through `parse` and renders it once:
`for_room` (links stay links, people are mentions Slack shows by name, broadcasts do not
ping again), `plain_text` (executives' updates, the status page, exports, the review,
channel names: names and labels, nothing that can ping or link), `visible_length` (limits
count what the person typed).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

MAX_CHANNEL_NAME = 80


def escape(text: str) -> str:
    """Make plain text inert in mrkdwn: `<!channel>`, `<@U…>` and `<url|label>` show as typed."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def unescape(text: str) -> str:
    """Slack's three entities back into characters (`&amp;` last, so `&amp;lt;` is `&lt;`)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


from_typed = escape  # raw modal input into said text: its `<@U1>` is words, not a mention


@dataclass(frozen=True)
class Words:
    text: str  # decoded: what the person typed


@dataclass(frozen=True)
class Person:
    id: str
    label: str | None = None


@dataclass(frozen=True)
class ChannelRef:
    id: str
    label: str | None = None


@dataclass(frozen=True)
class UserGroup:
    id: str
    label: str | None = None  # Slack writes it with its @: `@sre`


@dataclass(frozen=True)
class Broadcast:
    keyword: str  # here, channel, everyone


@dataclass(frozen=True)
class Link:
    url: str
    label: str | None = None


Part = Words | Person | ChannelRef | UserGroup | Broadcast | Link

_REFERENCE = re.compile(r"<([^<>]*)>")


def parse(said: str) -> list[Part]:
    """Said text (Slack's dialect) as the person's words and Slack's references, in order.
    Angle brackets that are no reference Slack makes stay words."""
    parts: list[Part] = []
    last = 0
    for match in _REFERENCE.finditer(said):
        reference = _reference(match[1])
        if reference is None:
            continue
        if match.start() > last:
            parts.append(Words(unescape(said[last : match.start()])))
        parts.append(reference)
        last = match.end()
    if last < len(said):
        parts.append(Words(unescape(said[last:])))
    return parts


def _reference(inner: str) -> Part | None:
    target, _, label = inner.partition("|")
    label = unescape(label) or None
    if re.fullmatch(r"@[UW][A-Z0-9]+", target):
        return Person(target[1:], label)
    if re.fullmatch(r"#C[A-Z0-9]+", target):
        return ChannelRef(target[1:], label)
    if match := re.fullmatch(r"!subteam\^(S[A-Z0-9]+)", target):
        return UserGroup(match[1], label)
    if target in ("!here", "!channel", "!everyone"):
        return Broadcast(target[1:])
    if re.match(r"(https?://|mailto:)\S+$", target):
        return Link(unescape(target), label)
    return None


def plain_text(said: str, names: Mapping[str, str] | None = None) -> str:
    """What was said as plain text: people and channels by name, links by their label.
    Nothing in it is markup: put it in mrkdwn with `escape`, in HTML with html.escape."""
    return "".join(_plain(part, names or {}) for part in parse(said))


def _plain(part: Part, names: Mapping[str, str]) -> str:
    match part:
        case Words(text):
            return text
        case Person(id, label):
            return f"@{names.get(id) or label or id}"
        case ChannelRef(id, label):
            return f"#{label or names.get(id) or id}"
        case UserGroup(id, label):
            return label if label and label.startswith("@") else f"@{label or id}"
        case Broadcast(keyword):
            return f"@{keyword}"
        case Link(url, label):
            return label or url.removeprefix("mailto:")


def for_room(said: str) -> str:
    """What was said, as mrkdwn for the war room: the person's words escaped once, people
    and channels as Slack's references (shown by name), links as links; a broadcast said
    once is not repeated as one."""
    return "".join(_in_room(part) for part in parse(said))


def _in_room(part: Part) -> str:
    match part:
        case Words(text):
            return escape(text)
        case Person(id, _):
            return f"<@{id}>"
        case ChannelRef(id, label):
            return f"<#{id}|{escape(label)}>" if label else f"<#{id}>"
        case Link(url, label):
            return f"<{escape(url)}|{escape(label)}>" if label else f"<{escape(url)}>"
        case _:
            return escape(_plain(part, {}))


def for_executives(said: str, names: Mapping[str, str] | None = None) -> str:
    """Mrkdwn that can neither ping anyone nor link anywhere the words did not."""
    return escape(plain_text(said, names))


def shortened(said: str, limit: int) -> str:
    """Said text cut to at most `limit` characters as it reads, with an ellipsis: whole
    references only, and never half of an escaped `&amp;`."""
    if visible_length(said) <= limit:
        return said
    kept: list[str] = []
    room = limit - 1
    for part, written in zip(parse(said), _written(said), strict=True):
        size = len(_plain(part, {}))
        if size > room:
            if isinstance(part, Words):
                kept.append(escape(part.text[:room]))
            break
        kept.append(written)
        room -= size
    return "".join(kept) + "…"


def _written(said: str) -> list[str]:
    """Each part of `parse(said)` as it was written in `said`."""
    pieces, last = [], 0
    for match in _REFERENCE.finditer(said):
        if _reference(match[1]) is None:
            continue
        if match.start() > last:
            pieces.append(said[last : match.start()])
        pieces.append(match[0])
        last = match.end()
    if last < len(said):
        pieces.append(said[last:])
    return pieces


def visible_length(said: str) -> int:
    """How long said text reads: `R&amp;D` is three characters, as typed."""
    return len(plain_text(said))


def truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def slug(title: str, max_length: int) -> str:
    """A channel-name part from a title (said text): `R&amp;D login down` -> `r-d-login-down`."""
    ascii_title = (
        unicodedata.normalize("NFKD", plain_text(title)).encode("ascii", "ignore").decode()
    )
    words = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")
    return words[:max_length].rstrip("-") or "incident"


def war_room_name(prefix: str, declared_at: datetime, title: str, attempt: int = 0) -> str:
    """`<prefix>-<yyyymmdd>-<slug>`, within Slack's 80 characters; `-2`, `-3`… when taken."""
    suffix = f"-{attempt + 1}" if attempt else ""
    head = f"{prefix}-{declared_at:%Y%m%d}-"
    return head + slug(title, MAX_CHANNEL_NAME - len(head) - len(suffix)) + suffix


_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")  # <@U123> or <@U123|name>
_ESCAPED_MENTION = re.compile(f"^{_MENTION.pattern}$")
_PLAIN_MENTION = re.compile(r"^@([\w.\-]+)$")


def parse_mention(token: str) -> tuple[str | None, str | None]:
    """(user ID, None) for `<@U123|name>`; (None, name) for `@name`; (None, None) otherwise."""
    if match := _ESCAPED_MENTION.match(token):
        return match.group(1), None
    if match := _PLAIN_MENTION.match(token):
        return None, match.group(1)
    if re.fullmatch(r"[UW][A-Z0-9]{4,}", token):
        return token, None
    return None, None


def user(user_id: str | None) -> str:
    return f"<@{user_id}>" if user_id else "_unassigned_"


def channel(channel_id: str) -> str:
    return f"<#{channel_id}>"


def message_time(ts: str) -> datetime:
    """When a message was posted: its ts is seconds since the epoch (plus a sequence)."""
    return datetime.fromtimestamp(float(ts), UTC)


def mentioned(text: str) -> set[str]:
    """The people a message mentions."""
    return {match[1] for match in _MENTION.finditer(text)}


def permalink(
    workspace: str | None, channel: str, ts: str, thread_ts: str | None = None
) -> str | None:
    """Slack's permalink format, built here: chat.getPermalink per message would cost a call."""
    if not workspace:
        return None
    link = f"{workspace.rstrip('/')}/archives/{channel}/p{ts.replace('.', '')}"
    if thread_ts and thread_ts != ts:
        link += f"?thread_ts={thread_ts}&cid={channel}"
    return link
