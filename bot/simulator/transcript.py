"""Channels and messages as a person reads them in Slack: Block Kit flattened to lines,
mentions and links shown by name. Used by the demo's printout."""

from __future__ import annotations

import re

from bot.simulator.workspace import Workspace


def render_channel(workspace: Workspace, channel_id: str) -> str:
    """The channel oldest first, without ephemeral messages (only their addressee sees them)."""
    channel = workspace.channels[channel_id]
    lines = []
    for message in channel["messages"]:
        if message.get("subtype") == "ephemeral":
            continue
        author = workspace.users.get(message.get("user", ""), {}).get("name", "warroom")
        pinned = " 📌" if message["ts"] in channel["pins"] else ""
        edited = " (edited)" if message.get("edited") else ""
        body = render_message(message, workspace).replace("\n", "\n    ")
        lines.append(f"  {author}{pinned}{edited}: {body}")
    return "\n".join(lines)


def render_message(message: dict, workspace: Workspace) -> str:
    """Block Kit to plain lines, roughly as Slack shows them."""
    parts = [line for block in message.get("blocks") or [] for line in _block_lines(block)]
    if not parts:
        parts.append(message.get("text", ""))
    if message.get("files"):
        parts.append("📎 " + ", ".join(message["files"]))
    return _readable("\n".join(parts), workspace)


def _block_lines(block: dict) -> list[str]:
    kind = block.get("type")
    if kind == "header":
        return [f"== {block['text']['text']} =="]
    if kind in ("section", "context"):
        lines = [block["text"]["text"]] if block.get("text") else []
        lines.extend(f["text"].replace("\n", ": ", 1) for f in block.get("fields", []))
        if kind == "context":
            lines.extend(e.get("text", "") for e in block.get("elements", []))
        return lines
    if kind == "actions":
        labels = [
            e.get("text", e.get("placeholder", {})).get("text", "") for e in block["elements"]
        ]
        return [" ".join(f"[{label}]" for label in labels)]
    return []


def _readable(text: str, workspace: Workspace) -> str:
    users, channels = workspace.users, workspace.channels
    text = re.sub(r"<!date\^\d+\^[^|]*\|([^>]*)>", r"\1", text)
    text = re.sub(
        r"<@(\w+)(\|[^>]*)?>", lambda m: "@" + users.get(m[1], {}).get("name", m[1]), text
    )
    text = re.sub(
        r"<#(\w+)(\|[^>]*)?>", lambda m: "#" + channels.get(m[1], {}).get("name", m[1]), text
    )
    text = re.sub(r"<(https?://[^|>]+)\|([^>]+)>", r"\2 (\1)", text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
