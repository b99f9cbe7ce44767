"""Slack's text dialect: escaping user input, Block Kit length limits, channel names,
mentions and message timestamps."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime

MAX_CHANNEL_NAME = 80


def escape(text: str) -> str:
    """Make user text inert in mrkdwn: `<!channel>`, `<@U…>` and `<url|label>` show as typed."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def slug(title: str, max_length: int) -> str:
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
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


def with_names(text: str, names: dict[str, str]) -> str:
    """Mentions written as `@name` for readers outside Slack (unknown people left as sent)."""
    return _MENTION.sub(lambda m: f"@{names[m[1]]}" if m[1] in names else m[0], text)


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
