"""The fake Slack's `conversations.history` and `conversations.replies` answer as Slack's do:
newest first, a thread's parent first, paged by cursor within oldest/latest, messages shaped
as Slack keeps them, and Tier 3 limits answered 429 with a Retry-After."""

from __future__ import annotations

import pytest
from slack_sdk.errors import SlackApiError

from bot.simulator import Workspace

ALICE, BOB = "U0ALICE01", "U0BOB0001"


@pytest.fixture
def room(fake):
    return fake.add_channel("inc-history", [ALICE, BOB])


async def test_history_is_newest_first_and_pages_by_cursor(fake, client, room):
    said = [fake.workspace.say(room, ALICE, f"message {n}") for n in range(5)]
    first = await client.conversations_history(channel=room, limit=2)
    assert [m["ts"] for m in first["messages"]] == [said[4], said[3]]
    assert first["has_more"] is True
    pages = [first["messages"]]
    cursor = first["response_metadata"]["next_cursor"]
    while cursor:
        page = await client.conversations_history(channel=room, limit=2, cursor=cursor)
        pages.append(page["messages"])
        cursor = page["response_metadata"]["next_cursor"]
    assert [m["text"] for page in pages for m in page] == [f"message {n}" for n in range(4, -1, -1)]
    assert page["has_more"] is False


async def test_history_keeps_within_oldest_and_latest(fake, client, room):
    said = [fake.workspace.say(room, ALICE, f"message {n}") for n in range(4)]
    between = await client.conversations_history(channel=room, oldest=said[0], latest=said[3])
    assert [m["ts"] for m in between["messages"]] == [said[2], said[1]]
    inclusive = await client.conversations_history(
        channel=room, oldest=said[0], latest=said[3], inclusive=True
    )
    assert [m["ts"] for m in inclusive["messages"]] == said[::-1]


async def test_a_thread_shows_in_history_by_its_parent_and_in_full_in_replies(fake, client, room):
    parent = fake.workspace.say(room, ALICE, "what changed?")
    first = fake.workspace.say(room, BOB, "a deploy", thread_ts=parent)
    last = fake.workspace.say(room, ALICE, "rolling back", thread_ts=parent)

    (shown,) = (await client.conversations_history(channel=room))["messages"]
    assert shown["ts"] == parent
    assert shown["reply_count"] == 2
    assert shown["latest_reply"] == last
    assert shown["reply_users"] == [BOB, ALICE]
    assert shown["thread_ts"] == parent

    thread = (await client.conversations_replies(channel=room, ts=parent))["messages"]
    assert [m["ts"] for m in thread] == [parent, first, last]
    assert thread[1]["parent_user_id"] == ALICE
    newer = await client.conversations_replies(channel=room, ts=parent, oldest=first)
    assert [m["ts"] for m in newer["messages"]] == [parent, last]


async def test_messages_are_shaped_as_slack_keeps_them(fake, client, room):
    edited = fake.workspace.say(room, ALICE, "p99 &gt; 5s")
    stamp = fake.workspace.edit(room, edited, "p99 &gt; 9s")
    fake.workspace.say(room, BOB, "graph", files=["latency.png"])
    await client.chat_postMessage(channel=room, text="card")
    gone = fake.workspace.say(room, BOB, "oops")
    fake.workspace.delete(room, gone)

    messages = {
        m["text"]: m for m in (await client.conversations_history(channel=room))["messages"]
    }
    assert set(messages) == {"p99 &gt; 9s", "graph", "card"}
    assert messages["p99 &gt; 9s"]["edited"] == stamp
    assert messages["graph"]["subtype"] == "file_share"
    assert messages["graph"]["files"][0]["name"] == "latency.png"
    assert messages["card"]["bot_id"]
    assert all("channel" not in m and "event_ts" not in m for m in messages.values())


async def test_a_deleted_thread_parent_stays_as_a_tombstone(fake, client, room):
    parent = fake.workspace.say(room, ALICE, "wrong room")
    fake.workspace.say(room, BOB, "a reply", thread_ts=parent)
    fake.workspace.delete(room, parent)
    (shown,) = (await client.conversations_history(channel=room))["messages"]
    assert shown["subtype"] == "tombstone"
    assert shown["reply_count"] == 1


async def test_unknown_threads_and_cursors_are_slacks_errors(fake, client, room):
    with pytest.raises(SlackApiError) as raised:
        await client.conversations_replies(channel=room, ts="1.000001")
    assert raised.value.response["error"] == "thread_not_found"
    with pytest.raises(SlackApiError) as raised:
        await client.conversations_history(channel=room, cursor="not-a-cursor")
    assert raised.value.response["error"] == "invalid_cursor"


async def test_calls_over_the_tier_are_answered_429_with_retry_after(fake, client, room):
    fake.limit_rate("conversations.history", per_minute=3)
    for _ in range(3):
        await client.conversations_history(channel=room)
    with pytest.raises(SlackApiError) as raised:
        await client.conversations_history(channel=room)
    assert raised.value.response.status_code == 429
    assert raised.value.response["error"] == "ratelimited"
    assert int(raised.value.response.headers["Retry-After"]) >= 1
    await client.conversations_replies(channel=room, ts=fake.workspace.say(room, ALICE, "x"))


def test_messages_said_in_a_burst_have_distinct_increasing_timestamps():
    workspace = Workspace()
    stamps = [workspace.next_ts() for _ in range(20000)]
    assert len(set(stamps)) == len(stamps)
    assert stamps == sorted(stamps, key=float)
