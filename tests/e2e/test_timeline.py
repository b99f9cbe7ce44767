"""The timeline through signed event deliveries, as Slack sends them."""

import json

from sqlmodel import col, select

from bot.simulator import BOT_ID, message_event, wait_for
from bot.store.models import ProcessedEvent, TimelineEntry
from tests.conftest import ALICE, BOB, CAROL


async def messages(bot, include_deleted=True) -> list[TimelineEntry]:
    async with bot.runtime.db.transaction() as session:
        query = select(TimelineEntry).where(TimelineEntry.kind.in_(["message", "note"]))
        if not include_deleted:
            query = query.where(col(TimelineEntry.deleted).is_(False))
        return list((await session.exec(query.order_by(col(TimelineEntry.id)))).all())


async def test_plain_message_thread_reply_and_file_share(bot):
    room = await bot.declare("SEV2 Chatty")
    first = await bot.slack.say(BOB, room["id"], "Error rate is 40% since 14:02")
    await bot.slack.say(CAROL, room["id"], "Looking at the deploy log", thread_ts=first)
    await bot.slack.say(BOB, room["id"], "graph attached", files=["errors.png"])

    said, reply, share = await messages(bot)
    assert (said.actor, said.text, said.message_ts) == (BOB, "Error rate is 40% since 14:02", first)
    assert said.at.tzinfo is not None and abs(said.at.timestamp() - float(first)) < 0.001
    assert (
        said.permalink
        == f"https://warroom-demo.slack.com/archives/{room['id']}/p{first.replace('.', '')}"
    )
    assert reply.thread_ts == first and f"thread_ts={first}" in reply.permalink
    assert share.files == ["errors.png"]


async def test_edit_keeps_the_previous_text_and_delete_hides_but_keeps(bot):
    room = await bot.declare("SEV2 Edits")
    ts = await bot.slack.say(BOB, room["id"], "Root cause: DNS")
    assert (
        await bot.slack.edit(BOB, room["id"], ts, "Root cause: expired TLS certificate")
    ).status == 200
    (entry,) = await messages(bot)
    assert entry.text == "Root cause: expired TLS certificate"
    assert [e["previous"] for e in entry.edits] == ["Root cause: DNS"]

    assert (await bot.slack.delete(room["id"], ts)).status == 200
    (entry,) = await messages(bot)
    assert entry.deleted  # kept for audit
    assert await bot.runtime.deps.timeline.entries(entry.incident_id) == [
        e for e in await bot.runtime.deps.timeline.entries(entry.incident_id) if not e.deleted
    ]
    assert all(
        e.message_ts != ts for e in await bot.runtime.deps.timeline.entries(entry.incident_id)
    )


async def test_edit_or_delete_of_an_unseen_message_is_fine(bot):
    room = await bot.declare("SEV2 Unseen")
    assert (await bot.slack.delete(room["id"], "1700000000.000100")).status == 200
    assert (
        await bot.slack.edit(BOB, room["id"], "1700000000.000200", "said before we joined")
    ).status == 200
    (entry,) = await messages(bot)
    assert entry.text == "said before we joined" and entry.edits[0]["previous"] is None


async def test_retried_deliveries_store_once(bot):
    room = await bot.declare("SEV2 Retries")
    event = message_event(room["id"], BOB, "Failing over to eu-west-2", "1800000000.000100")
    for retry in (None, 1, 2):
        response = await bot.slack.event(event, event_id="EvSAME000001", retry=retry)
        assert response.status == 200
    # The same message under a different event ID (e.g. after a reinstall) is still one entry.
    assert (await bot.slack.event(event, event_id="EvOTHER00001")).status == 200
    assert [e.text for e in await messages(bot)] == ["Failing over to eu-west-2"]


async def test_a_late_retry_of_an_edit_does_not_undo_a_newer_one(bot):
    room = await bot.declare("SEV2 Late edit")
    ts = await bot.slack.say(BOB, room["id"], "Error rate 40%")
    first = bot.slack.edit_event(BOB, room["id"], ts, "Error rate 30%")
    second = bot.slack.edit_event(BOB, room["id"], ts, "Error rate 20%")
    assert (await bot.slack.event(first, event_id="EvEDIT000001")).status == 200
    assert (await bot.slack.event(second, event_id="EvEDIT000002")).status == 200
    # Slack retries the first edit late, and the same edit arrives under another event ID.
    assert (await bot.slack.event(first, event_id="EvEDIT000001", retry=2)).status == 200
    assert (await bot.slack.event(second, event_id="EvEDIT0000XX")).status == 200
    (entry,) = await messages(bot)
    assert entry.text == "Error rate 20%"
    assert [e["previous"] for e in entry.edits] == ["Error rate 40%", "Error rate 30%"]


async def test_a_late_retry_of_a_reaction_does_not_undo_what_came_after(bot):
    room = await bot.declare("SEV2 Late retry")
    ts = await bot.slack.say(BOB, room["id"], "Decision: fail over")
    item = {"type": "message", "channel": room["id"], "ts": ts}
    added = {"type": "reaction_added", "user": BOB, "reaction": "pushpin", "item": item}
    removed = {**added, "type": "reaction_removed"}
    assert (await bot.slack.event(added, event_id="EvPINADD0001")).status == 200
    assert (await bot.slack.event(removed, event_id="EvPINDEL0001")).status == 200
    # Slack retries the first delivery (it did not see our 200 in time): recognised by its ID.
    assert (await bot.slack.event(added, event_id="EvPINADD0001", retry=1)).status == 200
    (entry,) = await messages(bot)
    assert entry.key is False
    async with bot.runtime.db.transaction() as session:
        remembered = (await session.exec(select(ProcessedEvent.event_id))).all()
    assert sorted(remembered) == ["EvPINADD0001", "EvPINDEL0001"]


async def test_other_channels_and_our_own_posts_are_not_logged(bot):
    room = await bot.declare("SEV2 Quiet")
    await bot.slack.say(BOB, bot.general, "lunch?")
    ours = message_event(room["id"], "UBOT000001", "🔄 status", "1800000000.000300", bot_id=BOT_ID)
    assert (await bot.slack.event(ours)).status == 200
    joined = message_event(
        room["id"], BOB, "<@UBOB000001> has joined", "1800000000.000400", subtype="channel_join"
    )
    assert (await bot.slack.event(joined)).status == 200
    assert await messages(bot) == []


async def test_pins_and_pushpin_reactions_mark_key_events(bot):
    room = await bot.declare("SEV2 Keys")
    ts = await bot.slack.say(BOB, room["id"], "Decision: roll back")
    other = await bot.slack.say(BOB, room["id"], "ok")

    async def key():
        return [e.key for e in await messages(bot)]

    await bot.slack.react(ALICE, room["id"], ts)
    await bot.slack.react(CAROL, room["id"], ts)
    await bot.slack.react(ALICE, room["id"], other, reaction="thumbsup")
    assert await key() == [True, False]
    await bot.slack.react(ALICE, room["id"], ts, added=False)
    assert await key() == [True, False]  # Carol's pushpin still marks it
    await bot.slack.react(CAROL, room["id"], ts, added=False)
    assert await key() == [False, False]
    await bot.slack.pin(ALICE, room["id"], other)
    assert await key() == [False, True]
    await bot.slack.pin(ALICE, room["id"], other, added=False)
    assert await key() == [False, False]


async def test_note_command(bot):
    room = await bot.declare("SEV2 Notes")
    await bot.slack.command(ALICE, "note Decided to fail over <!here>", room["id"])
    await bot.settled()
    (note,) = await messages(bot)
    assert (note.kind, note.key, note.actor) == ("note", True, ALICE)
    echoed = bot.fake.messages(room["id"])[-1]["text"]  # said once: not a second ping
    assert "Decided to fail over @here" in echoed and "<!here>" not in echoed


async def test_timeline_command_shows_key_events_first_in_the_viewers_zone(bot):
    room = await bot.declare("SEV1 Timeline view")
    ts = await bot.slack.say(CAROL, room["id"], "Found it: <!channel> cert expired at 03:00")
    await bot.slack.say(CAROL, room["id"], "just chatter")
    await bot.slack.react(ALICE, room["id"], ts)
    await bot.slack.command(BOB, "timeline", room["id"])
    await bot.settled()
    answer = bot.fake.responses[-1]
    page = json.dumps(answer["blocks"])
    assert answer["response_type"] == "ephemeral"
    assert "Europe/London" in page  # Bob's timezone, from users.info
    assert page.index("Key events") < page.index("cert expired") < page.index("Full log")
    assert "Found it: @channel cert expired" in page and "<!channel>" not in page


async def test_a_long_timeline_paginates_within_block_kit_limits(bot):
    room = await bot.declare("SEV2 Long one")
    incident_id = (await bot.service.find_by_channel(room["id"])).id
    async with bot.runtime.db.transaction() as session:
        for n in range(60 * 25 - 1):
            session.add(
                TimelineEntry(
                    incident_id=incident_id,
                    kind="message",
                    actor=BOB,
                    text=f"line {n} " + "x" * 400,
                    message_ts=f"1800000000.{n:06d}",
                )
            )
    await bot.slack.command(BOB, "timeline", room["id"])
    await bot.settled()
    first = bot.fake.responses[-1]  # the fake refuses blocks over Slack's limits
    assert "page 1" in json.dumps(first["blocks"]) and "line 23 " in json.dumps(first["blocks"])

    await bot.slack.command(BOB, "timeline 60", room["id"])
    await bot.settled()
    last = bot.fake.responses[-1]
    assert "page 60" in json.dumps(last["blocks"]) and "line 1498 " in json.dumps(last["blocks"])
    (earlier,) = (e for b in last["blocks"] if b["type"] == "actions" for e in b["elements"])
    assert earlier["text"]["text"] == "◀ Earlier"
    # Where page 60 begins ("line 1474": the declaration is the log's first entry)
    # travels in the button: turning is a seek from there.
    begins = await entry_said(bot, incident_id, "line 1474 ")
    assert earlier["value"].startswith(f"{incident_id}:59:earlier:")
    assert earlier["value"].endswith(f":{begins.id}")

    turned = await turn_page(bot, room["id"], earlier["value"])
    assert turned["replace_original"] is True and "page 59" in json.dumps(turned["blocks"])
    shown = json.dumps(turned["blocks"])
    assert "line 1449 " in shown and "line 1473 " in shown and "line 1474 " not in shown
    buttons = [e for b in turned["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert [b["text"]["text"] for b in buttons] == ["◀ Earlier", "Later ▶"]

    again = await turn_page(bot, room["id"], buttons[1]["value"])
    assert "page 60" in json.dumps(again["blocks"]) and "line 1474 " in json.dumps(again["blocks"])


async def test_a_timeline_shown_before_turns_carried_places_still_turns(bot):
    """Buttons in answers given before an upgrade carry `<incident>:<page>`."""
    room = await bot.declare("SEV2 Old buttons")
    incident_id = (await bot.service.find_by_channel(room["id"])).id
    turned = await turn_page(bot, room["id"], f"{incident_id}:1")
    assert "page 1" in json.dumps(turned["blocks"]) and "Key events" in json.dumps(turned["blocks"])


async def entry_said(bot, incident_id: int, text: str) -> TimelineEntry:
    async with bot.runtime.db.snapshot_read() as session:
        query = select(TimelineEntry).where(
            TimelineEntry.incident_id == incident_id, col(TimelineEntry.text).startswith(text)
        )
        return (await session.exec(query)).one()


async def turn_page(bot, channel: str, value: str) -> dict:
    await bot.slack.interact(
        {
            "type": "block_actions",
            "user": {"id": BOB},
            "channel": {"id": channel},
            "container": {"type": "message", "is_ephemeral": True},
            "response_url": bot.fake.new_response_url(),
            "trigger_id": bot.fake.new_trigger_id(),
            "actions": [{"action_id": "timeline_page", "type": "button", "value": value}],
        }
    )
    await bot.settled()
    return bot.fake.responses[-1]


async def test_export_uploads_markdown_to_the_room(bot, tmp_path, monkeypatch):
    # The worker process is spawned per document: it writes its temporary file here.
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    room = await bot.declare("SEV2 Export me")
    await bot.slack.say(BOB, room["id"], "Mitigated by scaling out")
    await bot.slack.command(ALICE, "timeline export", room["id"])
    # A worker process writes it: spawning one takes seconds on a busy machine.
    await wait_for(lambda: bot.fake.files, timeout=60, what="the uploaded document")
    await bot.settled()
    (uploaded,) = bot.fake.files.values()
    content = uploaded["content"].decode()
    assert uploaded["name"] == "INC-1-timeline.md"
    assert (
        content.startswith("# INC-1: Export me")
        and "bob" in content
        and "Mitigated by scaling out" in content
    )
    assert any(m.get("files") == ["INC-1-timeline.md"] for m in bot.fake.messages(room["id"]))
    # Written by a worker process into a temporary file, which is gone once uploaded.
    assert not list(tmp_path.glob("warroom-*.md"))


async def test_catch_me_up(bot):
    room = await bot.declare("SEV1 Late joiner")
    ts = await bot.slack.say(CAROL, room["id"], "Rolled back at 14:20")
    await bot.slack.pin(ALICE, room["id"], ts)
    await bot.slack.command(ALICE, "status monitoring Watching error rates", room["id"])
    await bot.settled()
    room["members"].add(BOB)
    card = bot.fake.messages(room["id"])[0]
    await bot.slack.click(BOB, room["id"], card["ts"], "card_catchup")
    await bot.settled()
    answer = bot.fake.messages(room["id"])[-1]
    text = json.dumps(answer["blocks"])
    assert answer["for_user"] == BOB
    assert (
        "monitoring" in text and "Watching error rates" in text and "Rolled back at 14:20" in text
    )
