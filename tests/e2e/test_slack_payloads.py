"""Slack's own request bodies, replayed end to end: every file in ../shared/slack-payloads
(published by Slack and slackapi, with SOURCES.md), retargeted at a war room, signed and
posted to the real app. Each is stored right, once, or ignored; none is answered 500."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from urllib.parse import urlencode

import pytest
from sqlmodel import col, select

from bot.store.models import TimelineEntry
from tests.conftest import ALICE, BOB

REPO = Path(__file__).resolve().parents[2]


def payloads_folder() -> Path | None:
    """../shared/slack-payloads next to the repository (its main checkout, for a worktree)."""
    common = subprocess.run(
        ["git", "rev-parse", "--path-format=absolute", "--git-common-dir"],
        cwd=REPO,
        capture_output=True,
        text=True,
    ).stdout.strip()
    checkouts = [REPO] + ([Path(common).parent] if common else [])
    for checkout in checkouts:
        folder = checkout / ".." / "shared" / "slack-payloads"
        if folder.is_dir():
            return folder.resolve()
    return None


FOLDER = payloads_folder()
FILES = sorted(
    str(p.relative_to(FOLDER))
    for p in (FOLDER.rglob("*.json") if FOLDER else [])
    if not p.parent.name.startswith("_")
)
pytestmark = pytest.mark.skipif(
    FOLDER is None, reason="../shared/slack-payloads (Slack's published payloads) is absent"
)

# What each event should do to the war room's timeline; every other file is ignored.
STORED = {  # a new entry with the payload's text (Slack's dialect, stored as sent)
    "events/message/plain_bolt_py_2.json",
    "events/message/plain_org_app_enterprise.json",
    "events/message/plain_with_blocks_bolt_py.json",
    "events/message/user_message_with_blocks.json",
    "events/message_bot/bot_message_other_app.json",
    "events/message_bot/bot_message_response_url.json",
    "events/message_bot/classic_bot_message.json",
    "events/message_bot/modern_bot_message_no_subtype.json",
    "events/file_share/file_share_bolt_py_events.json",
    "events/file_share/file_share_png_rich_text.json",
    "events/thread_broadcast/thread_broadcast_bolt_py.json",
    "docs/thread_broadcast.json",
    "events-bare/thread_reply_channel_user_message.json",
}
EDITED = {  # the message said earlier now reads as the payload's text
    "events/message_changed/message_changed_authorize_test.json",
    "events/message_changed/message_changed_bolt_py.json",
    "events/message_changed/message_changed_bolt_py_sync.json",
    "events-bare/message_changed_channel_assistant_test.json",
}
HIDDEN = {"events/message_deleted/message_deleted_bolt_py.json"}
TS = re.compile(r"^\d{9,10}\.\d{6}$")
PEOPLE_KEYS = {"user", "item_user", "parent_user_id"}
CHANNEL_KEYS = {"channel", "channel_id"}


def load(name: str) -> dict:
    body = json.loads((FOLDER / name).read_text())
    if name.startswith("events-bare/"):
        envelope = json.loads(
            (FOLDER / "_envelope/bolt_python_message_changed_envelope.json").read_text()
        )
        return envelope | {"event": body}
    return body


def subject_ts(event: dict) -> str | None:
    """The ts of the message an event is about (edited, deleted, replied to, reacted to)."""
    message = event.get("message") or {}
    return (
        event.get("deleted_ts")
        or (message.get("ts") if event.get("subtype") != "thread_broadcast" else None)
        or (event.get("previous_message") or {}).get("ts")
        or (event.get("item") or {}).get("ts")
        or event.get("thread_ts")
    )


def retarget(value, room: str, said_ts: str, timestamps: dict, fresh_ts):
    """The payload moved into the war room: its channel is the room, its people are ours,
    the message it is about is the one said there, and its other timestamps are fresh."""
    if isinstance(value, list):
        return [retarget(v, room, said_ts, timestamps, fresh_ts) for v in value]
    if not isinstance(value, dict):
        if isinstance(value, str) and TS.match(value):
            return timestamps.setdefault(value, said_ts if value == "subject" else fresh_ts())
        return value
    moved = {}
    for key, item in value.items():
        if key in CHANNEL_KEYS and isinstance(item, str):
            moved[key] = room
        elif key == "channel" and isinstance(item, dict):
            moved[key] = {**item, "id": room}
        elif key in PEOPLE_KEYS and isinstance(item, str) and item[:1] in "UW":
            moved[key] = BOB
        else:
            moved[key] = retarget(item, room, said_ts, timestamps, fresh_ts)
    return moved


async def timeline(bot) -> list[tuple]:
    async with bot.runtime.db.transaction() as session:
        rows = await session.exec(
            select(TimelineEntry)
            .where(TimelineEntry.kind == "message")
            .order_by(col(TimelineEntry.id))
        )
        return [(e.message_ts, e.text, e.deleted, e.key, e.thread_ts, tuple(e.files)) for e in rows]


async def test_the_payload_folder_is_replayed_whole():
    assert FILES and set(FILES) >= STORED | EDITED | HIDDEN


@pytest.mark.parametrize(
    "name", [f for f in FILES if f.split("/")[0] in ("events", "docs", "events-bare")]
)
async def test_event(bot, name):
    room = await bot.declare("SEV2 Replaying Slack")
    said_ts = await bot.slack.say(BOB, room["id"], "said before the replay")
    envelope = load(name)
    event = envelope["event"]
    subject = subject_ts(event)
    timestamps = {subject: said_ts} if subject else {}
    envelope = retarget(envelope, room["id"], said_ts, timestamps, bot.fake.workspace.next_ts)
    envelope["event_id"] = f"EvReplay{abs(hash(name)) % 10**8:08d}"
    before = await timeline(bot)

    body = json.dumps(envelope)
    first = await bot.slack.send(body, "application/json")
    retried = await bot.slack.send(
        body,
        "application/json",
        headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"},
    )
    assert (first.status, retried.status) == (200, 200)
    after = await timeline(bot)
    said = [row for row in after if row[0] == said_ts][0]
    new = [row for row in after if row[0] != said_ts]
    text = (envelope["event"].get("message") or envelope["event"]).get("text")
    if name in STORED:
        assert [row[1] for row in new] == [text]  # once, with its text as Slack sent it
        if envelope["event"].get("thread_ts"):
            assert new[0][4] == said_ts
        if envelope["event"].get("files"):
            assert new[0][5]
    elif name in EDITED:
        assert (new, said[1]) == ([], text)
    elif name in HIDDEN:
        assert (new, said[2]) == ([], True)
    else:
        assert after == before


@pytest.mark.parametrize("name", [f for f in FILES if f.startswith("slash_commands/")])
async def test_slash_command(bot, name):
    room = await bot.declare("SEV2 Replaying commands")
    form = load(name) | {
        "channel_id": room["id"],
        "user_id": ALICE,
        "command": "/incident",
        "response_url": bot.fake.new_response_url(),
        "trigger_id": bot.fake.new_trigger_id(),
    }
    before = await timeline(bot)
    response = await bot.slack.send(urlencode(form), "application/x-www-form-urlencoded")
    assert response.status == 200
    await bot.settled()
    if "ssl_check" not in form:  # Slack's certificate check gets an empty 200, nothing else
        answer = (await response.text()) + json.dumps(bot.fake.responses)
        assert "/incident declare" in answer  # `Hi` is no subcommand: the usage
    assert await timeline(bot) == before


@pytest.mark.parametrize("name", [f for f in FILES if f.startswith("interactive/")])
async def test_interaction(bot, name):
    """Other apps' buttons and forms: not ours, so ignored, and never a 500."""
    room = await bot.declare("SEV2 Replaying interactions")
    payload = retarget(load(name), room["id"], "0", {}, bot.fake.workspace.next_ts)
    before = await timeline(bot)
    response = await bot.slack.send(
        urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded"
    )
    assert response.status in (200, 404)  # 404: Bolt's "no listener for this", not an error
    await bot.settled()
    assert await timeline(bot) == before


@pytest.mark.parametrize("name", [f for f in FILES if f.startswith("url_verification/")])
async def test_url_verification(bot, name):
    body = load(name)
    response = await bot.slack.send(json.dumps(body), "application/json")
    assert response.status == 200 and body["challenge"] in await response.text()
