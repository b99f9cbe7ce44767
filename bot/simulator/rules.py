"""Slack's rules the fake enforces: its error answers, the Block Kit limits that bite, and
the parameter names its published Web API accepts."""

from __future__ import annotations

import json
import re
from importlib.resources import files

# method -> parameter names, from Slack's published Web API spec (2021)
_PARAMS: dict[str, list[str]] = json.loads(
    files("bot.simulator").joinpath("web_api_params.json").read_text()
)["methods"]
# Newer methods the 2021 spec lacks.
_PARAMS |= {
    "files.getUploadURLExternal": ["filename", "length", "alt_txt", "snippet_type"],
    "files.completeUploadExternal": ["files", "channel_id", "initial_comment", "thread_ts"],
    "apps.connections.open": [],  # Socket Mode; takes the app-level token, nothing else
}
_PARAMS["auth.test"] = ["team_id"]  # sent by Bolt, newer than the spec
# Message metadata (2022) and the parameters that read it back, newer than the spec.
_PARAMS["chat.postMessage"] = [*_PARAMS["chat.postMessage"], "metadata"]
_PARAMS["conversations.history"] = [*_PARAMS["conversations.history"], "include_all_metadata"]
_PARAMS["conversations.list"] = [*_PARAMS["conversations.list"], "team_id"]

CHANNEL_NAME = re.compile(r"^[a-z0-9_-]{1,80}$")
METADATA_EVENT_TYPE = re.compile(r"^[A-Za-z0-9_]{1,255}$")  # "a human readable alphanumeric string"
MESSAGE_BLOCKS, VIEW_BLOCKS = 50, 100
HOME_VIEW_BYTES = 250_000
_TEXT_LIMITS = {"header": 150, "section": 3000, "context": 2000}


class SlackError(Exception):
    """An answer Slack gives instead of `ok: true`: its error name, HTTP status, headers."""

    def __init__(self, error: str, status: int = 200, headers: dict | None = None):
        super().__init__(error)
        self.error, self.status, self.headers = error, status, headers or {}


def check_params(method: str, params: dict) -> None:
    """`unknown_method` for a method Slack does not have; `invalid_arguments` naming any
    parameter it does not take."""
    known = _PARAMS.get(method)
    if known is None:
        raise SlackError("unknown_method")
    unknown = set(params) - set(known) - {"token"}
    if unknown:
        raise SlackError(f"invalid_arguments: {', '.join(sorted(unknown))}")


def validate_blocks(blocks, limit: int) -> None:
    """Slack's invalid_blocks for the limits that bite: block count, text lengths, block IDs
    (at most 255 characters, each used once) and the buttons' limits."""
    if not blocks:
        return
    if not isinstance(blocks, list) or len(blocks) > limit:
        raise SlackError("invalid_blocks")
    block_ids = [b.get("block_id") for b in blocks if isinstance(b, dict) and b.get("block_id")]
    if len(block_ids) != len(set(block_ids)):
        raise SlackError("invalid_blocks")
    for block in blocks:
        if not isinstance(block, dict):
            raise SlackError("invalid_blocks")
        kind = block.get("type")
        texts = (
            [block.get("text")]
            + block.get("fields", [])
            + (block.get("elements", []) if kind == "context" else [])
        )
        for text in filter(None, texts):
            if len(text.get("text", "")) > _TEXT_LIMITS.get(kind, 3000):
                raise SlackError("invalid_blocks")
        if len(block.get("block_id", "")) > 255:
            raise SlackError("invalid_blocks")
        if kind == "actions":
            _validate_elements(block.get("elements", []))


def _validate_elements(elements: list) -> None:
    """An actions block: 1 to 25 elements, action IDs within 255 characters and used once,
    button labels within 75 and values within 2000."""
    action_ids = [e.get("action_id") for e in elements if e.get("action_id")]
    if not 0 < len(elements) <= 25 or len(action_ids) != len(set(action_ids)):
        raise SlackError("invalid_blocks")
    for element in elements:
        if len(element.get("action_id", "")) > 255 or len(element.get("value", "")) > 2000:
            raise SlackError("invalid_blocks")
        if element.get("type") == "button" and len(element["text"]["text"]) > 75:
            raise SlackError("invalid_blocks")


def validate_metadata(metadata) -> dict | None:
    """A message's `metadata` as Slack keeps it: an object (or its JSON text) with an
    alphanumeric `event_type` and an object `event_payload`; else invalid_metadata_format."""
    if metadata is None or metadata == "":
        return None
    if isinstance(metadata, str):
        try:
            metadata = json.loads(metadata)
        except json.JSONDecodeError as error:
            raise SlackError("invalid_metadata_format") from error
    if not isinstance(metadata, dict):
        raise SlackError("invalid_metadata_format")
    event_type, payload = metadata.get("event_type"), metadata.get("event_payload", {})
    if not isinstance(event_type, str) or not METADATA_EVENT_TYPE.match(event_type):
        raise SlackError("invalid_metadata_format")
    if not isinstance(payload, dict):
        raise SlackError("invalid_metadata_format")
    return {"event_type": event_type, "event_payload": payload}


def validate_home_view(view) -> None:
    """What `views.publish` refuses: a view that is not a Home tab, over 100 blocks or
    the other view limits, or over 250 kB."""
    if not isinstance(view, dict) or view.get("type") != "home":
        raise SlackError("invalid_arguments")
    if len(json.dumps(view)) > HOME_VIEW_BYTES:
        raise SlackError("view_too_large")
    validate_view(view)


def validate_view(view) -> None:
    """What `views.open` and `views.update` refuse: blocks over the limits, a title over 24
    characters, private_metadata over 3000."""
    if not isinstance(view, dict):
        raise SlackError("invalid_arguments")
    validate_blocks(view.get("blocks"), limit=VIEW_BLOCKS)
    if len(view.get("title", {}).get("text", "")) > 24:
        raise SlackError("invalid_arguments")
    if len(view.get("private_metadata", "")) > 3000:
        raise SlackError("invalid_arguments")


def truthy(value) -> bool:
    """A boolean parameter as Slack reads it from a form or a JSON body."""
    return value in (True, "true", "True", "1", 1)
