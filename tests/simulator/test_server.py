"""The fake Slack answers as Slack does: its error names, its limits, its parameters."""

from __future__ import annotations

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.simulator import BOT_USER, FakeSlack


@pytest.fixture
async def fake():
    slack = await FakeSlack().start()
    yield slack
    await slack.stop()


@pytest.fixture
async def client(fake):
    client = AsyncWebClient(token="xoxb-test", base_url=fake.api_url)
    yield client


async def slack_error(call) -> str:
    with pytest.raises(SlackApiError) as raised:
        await call
    return raised.value.response["error"]


async def test_a_method_the_bot_never_calls_is_unknown(client):
    assert await slack_error(client.api_call("bookmarks.add", json={})) == "unknown_method"
    assert await slack_error(client.api_call("no.such.method")) == "unknown_method"


async def test_a_parameter_slack_does_not_take_is_named(fake, client):
    general = fake.add_channel("general")
    error = await slack_error(client.chat_postMessage(channel=general, text="hi", colour="red"))
    assert error == "invalid_arguments: colour"
    assert fake.messages(general) == []


async def test_blocks_that_are_not_json_get_slacks_error(fake):
    general = fake.add_channel("general")
    async with aiohttp.ClientSession() as session:
        response = await session.post(
            f"{fake.api_url}chat.postMessage",
            data={"channel": general, "blocks": "[{not json"},
            headers={"Authorization": "Bearer xoxb-test"},
        )
        body = await response.json()
    assert body == {"ok": False, "error": "invalid_blocks_format"}


async def test_block_kit_limits(fake, client):
    general = fake.add_channel("general")
    too_many = [{"type": "divider"}] * 51
    assert await slack_error(
        client.chat_postMessage(channel=general, text="x", blocks=too_many)
    ) == ("invalid_blocks")
    long_title = {"type": "modal", "title": {"type": "plain_text", "text": "x" * 25}}
    trigger = fake.new_trigger_id()
    assert await slack_error(client.views_open(trigger_id=trigger, view=long_title)) == (
        "invalid_arguments"
    )


async def test_a_trigger_id_opens_one_view(fake, client):
    view = {"type": "modal", "title": {"type": "plain_text", "text": "Declare"}, "blocks": []}
    trigger = fake.new_trigger_id()
    opened = await client.views_open(trigger_id=trigger, view=view)
    assert fake.views[opened["view"]["id"]]["title"]["text"] == "Declare"
    assert await slack_error(client.views_open(trigger_id=trigger, view=view)) == (
        "expired_trigger_id"
    )


async def test_a_planned_fault_answers_once_with_retry_after(fake, client):
    general = fake.add_channel("general")
    fake.fail("chat.postMessage", "ratelimited", status=429, retry_after=3)
    with pytest.raises(SlackApiError) as raised:
        await client.chat_postMessage(channel=general, text="first")
    assert raised.value.response.status_code == 429
    assert raised.value.response.headers["Retry-After"] == "3"
    await client.chat_postMessage(channel=general, text="second")
    assert [m["text"] for m in fake.messages(general)] == ["second"]
    assert [c["text"] for c in fake.calls_to("chat.postMessage")] == ["first", "second"]


async def test_tokens_slack_refuses(fake):
    fake.revoked_tokens.add("xoxb-revoked")
    revoked = AsyncWebClient(token="xoxb-revoked", base_url=fake.api_url)
    assert await slack_error(revoked.auth_test()) == "token_revoked"
    app_token = AsyncWebClient(token="xapp-1", base_url=fake.api_url)
    assert await slack_error(app_token.auth_test()) == "not_authed"


async def test_the_bot_posts_only_where_it_is_a_member(fake, client):
    elsewhere = fake.add_channel("elsewhere")
    fake.channels[elsewhere]["members"].discard(BOT_USER)
    assert await slack_error(client.chat_postMessage(channel=elsewhere, text="hi")) == (
        "not_in_channel"
    )


async def test_history_pages_newest_first_without_thread_replies(fake, client):
    general = fake.add_channel("general")
    said = [fake.workspace.next_ts() for _ in range(5)]
    for n, ts in enumerate(said):
        reply_to = {"thread_ts": said[0]} if n == 4 else {}
        fake.workspace.add_message(general, {"ts": ts, "text": f"m{n}", **reply_to})
    first = await client.conversations_history(channel=general, limit=2)
    assert [m["text"] for m in first["messages"]] == ["m3", "m2"] and first["has_more"]
    cursor = first["response_metadata"]["next_cursor"]
    rest = await client.conversations_history(channel=general, limit=2, cursor=cursor)
    assert [m["text"] for m in rest["messages"]] == ["m1", "m0"]
    assert (
        rest["messages"][1]["reply_count"] == 1 and rest["messages"][1]["latest_reply"] == said[4]
    )
    thread = await client.conversations_replies(channel=general, ts=said[0], oldest=said[3])
    assert [m["text"] for m in thread["messages"]] == ["m0", "m4"]  # the parent, then new replies


async def test_a_rate_limited_method_answers_429_with_retry_after(fake):
    fake.rate_limits.per_minute["conversations.history"] = 1
    general = fake.add_channel("general")
    client = AsyncWebClient(token="xoxb-test", base_url=fake.api_url)  # no retry handlers
    await client.conversations_history(channel=general)
    with pytest.raises(SlackApiError) as refused:
        await client.conversations_history(channel=general)
    assert refused.value.response.status_code == 429
    assert 1 <= int(refused.value.response.headers["Retry-After"]) <= 60


async def test_views_publish_keeps_each_persons_home_tab_under_slacks_rules(fake, client):
    fake.add_user("UALICE0001", "alice")
    home = {
        "type": "home",
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}],
    }
    first = await client.views_publish(user_id="UALICE0001", view=home)
    assert fake.home_views["UALICE0001"]["blocks"] == home["blocks"]
    again = await client.views_publish(user_id="UALICE0001", view=home, hash=first["view"]["hash"])
    assert again["view"]["id"] == first["view"]["id"]  # one Home tab per person
    assert fake.views == {}  # not a modal

    stale = client.views_publish(user_id="UALICE0001", view=home, hash=first["view"]["hash"])
    assert await slack_error(stale) == "hash_conflict"
    assert await slack_error(client.api_call("views.publish", json={"view": home})) == (
        "invalid_arguments"
    )
    for nobody in ("UNOBODY001", BOT_USER):
        assert await slack_error(client.views_publish(user_id=nobody, view=home)) == (
            "invalid_arguments"
        )
    modal = {**home, "type": "modal", "title": {"type": "plain_text", "text": "x"}}
    assert await slack_error(client.views_publish(user_id="UALICE0001", view=modal)) == (
        "invalid_arguments"
    )
    too_many = {"type": "home", "blocks": [{"type": "divider"}] * 101}
    assert await slack_error(client.views_publish(user_id="UALICE0001", view=too_many)) == (
        "invalid_blocks"
    )
    twice = {"type": "home", "blocks": [{"type": "divider", "block_id": "a"}] * 2}
    assert await slack_error(client.views_publish(user_id="UALICE0001", view=twice)) == (
        "invalid_blocks"
    )
    huge = {"type": "home", "blocks": [{"type": "divider", "block_id": "x" * 200}] * 2000}
    assert await slack_error(client.views_publish(user_id="UALICE0001", view=huge)) == (
        "view_too_large"
    )
    assert fake.home_views["UALICE0001"]["hash"] == again["view"]["hash"]  # refusals change nothing
