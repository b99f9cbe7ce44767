"""`conversations.history` and `conversations.replies` as Slack answers them: messages as
Slack keeps them (no event-only fields; thread parents with `reply_count`, `reply_users`
and `latest_reply`), newest first in a channel's history, parent first in a thread, paged
by an opaque cursor, within `oldest`/`latest` (`inclusive` or not)."""

from __future__ import annotations

import base64
import time

from bot.simulator.rules import SlackError, truthy

DEFAULT_LIMIT, MAX_LIMIT = 100, 999
_EVENT_ONLY = ("channel", "event_ts", "channel_type")


def history(messages: list[dict], params: dict) -> dict:
    """The channel's own messages (replies only when also sent to the channel), newest first."""
    in_channel = [
        m
        for m in messages
        if m.get("thread_ts") in (None, m["ts"]) or m.get("subtype") == "thread_broadcast"
    ]
    in_channel = [m for m in in_channel if m.get("subtype") != "ephemeral"]
    window = sorted(_within(in_channel, params), key=_ts, reverse=True)
    after = _cursor(params)
    if after is not None:
        window = [m for m in window if _ts(m) <= after]
    return _page(window, params, messages, with_metadata=truthy(params.get("include_all_metadata")))


def replies(messages: list[dict], params: dict) -> dict:
    """A thread: its parent first (on the first page), then its replies oldest first."""
    parent = next((m for m in messages if m["ts"] == params.get("ts")), None)
    if parent is None:
        raise SlackError("thread_not_found")
    thread = [m for m in messages if m.get("thread_ts") == parent["ts"] and m is not parent]
    window = sorted(_within(thread, params), key=_ts)
    after = _cursor(params)
    window = [parent, *window] if after is None else [m for m in window if _ts(m) >= after]
    return _page(window, params, messages)


def _page(
    window: list[dict], params: dict, messages: list[dict], with_metadata: bool = False
) -> dict:
    limit = _limit(params)
    page, rest = window[:limit], window[limit:]
    cursor = _encode(rest[0]["ts"]) if rest else ""
    shown = [as_slack_shows(m, messages) for m in page]
    if not with_metadata:  # Slack returns message metadata only when asked for all of it
        shown = [{k: v for k, v in m.items() if k != "metadata"} for m in shown]
    return {
        "messages": shown,
        "has_more": bool(rest),
        "pin_count": 0,
        "response_metadata": {"next_cursor": cursor},
    }


def as_slack_shows(message: dict, messages: list[dict]) -> dict:
    """A stored message as the Web API returns it, with its thread's summary if a parent."""
    shown = {k: v for k, v in message.items() if k not in _EVENT_ONLY}
    if shown.get("files"):
        shown["files"] = [
            {"id": f"F{i}", "name": f, "title": f} if isinstance(f, str) else f
            for i, f in enumerate(shown["files"])
        ]
    replies_to = [m for m in messages if m.get("thread_ts") == message["ts"] and m is not message]
    if replies_to:
        shown |= {
            "thread_ts": message["ts"],
            "reply_count": len(replies_to),
            "reply_users": list(dict.fromkeys(m.get("user") for m in replies_to)),
            "reply_users_count": len({m.get("user") for m in replies_to}),
            "latest_reply": max(m["ts"] for m in replies_to),
        }
    return shown


def _within(messages: list[dict], params: dict) -> list[dict]:
    oldest = float(params.get("oldest") or 0)
    latest = float(params.get("latest") or time.time() + 1)
    if truthy(params.get("inclusive")):
        return [m for m in messages if oldest <= _ts(m) <= latest]
    return [m for m in messages if oldest < _ts(m) < latest]


def _limit(params: dict) -> int:
    try:
        limit = int(params.get("limit") or DEFAULT_LIMIT)
    except ValueError as error:
        raise SlackError("invalid_limit") from error
    return min(max(limit, 1), MAX_LIMIT)


def _ts(message: dict) -> float:
    return float(message["ts"])


def _encode(ts: str) -> str:
    return encode_cursor("next_ts", ts)


def encode_cursor(kind: str, position: str) -> str:
    """An opaque cursor as Slack's look: base64 of `kind:position`."""
    return base64.b64encode(f"{kind}:{position}".encode()).decode()


def decode_cursor(cursor: str, kind: str) -> str:
    """The position a cursor of `kind` continues from; `invalid_cursor` for one not given."""
    try:
        found, _, position = base64.b64decode(cursor).decode().partition(":")
    except ValueError as error:
        raise SlackError("invalid_cursor") from error
    if found != kind:
        raise SlackError("invalid_cursor")
    return position


def _cursor(params: dict) -> float | None:
    """The ts a cursor continues from; Slack answers `invalid_cursor` for one it did not give."""
    cursor = params.get("cursor")
    if not cursor:
        return None
    try:
        return float(decode_cursor(cursor, "next_ts"))
    except ValueError as error:
        raise SlackError("invalid_cursor") from error
