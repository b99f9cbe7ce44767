"""When a Slack step after a stored change fails, whoever asked hears what was done and what
was not ("Done: … Not done: …"), never that nothing changed."""

from sqlmodel import select

from bot.simulator import wait_for
from bot.store.models import ActionItem, Incident, Question, StakeholderUpdate, TimelineEntry
from tests.conftest import ALICE, BOB, CAROL
from tests.e2e.reviewing import open_view, review_message


async def run(bot, room, text, user=ALICE) -> str:
    await bot.slack.command(user, text, room["id"])
    await bot.settled()
    return bot.fake.responses[-1]["text"]


async def stored(bot, model) -> list:
    async with bot.runtime.db.snapshot_read() as session:
        return list((await session.exec(select(model))).all())


def private_answer(bot, room, user) -> str:
    return [m for m in bot.fake.messages(room["id"]) if m.get("for_user") == user][-1]["text"]


async def with_a_draft(bot) -> tuple[dict, dict]:
    """A major incident with a comms lead and an update draft in its room."""
    room = await bot.declare("SEV2 Checkout errors")
    await run(bot, room, f"assign comms <@{BOB}>")
    await run(bot, room, "update")
    drafts = [m for m in bot.fake.messages(room["id"]) if "update draft" in m["text"]]
    return room, drafts[-1]


async def test_resolving_in_an_archived_room_says_it_was_resolved_and_broadcast(bot):
    room = await bot.declare("SEV2 Checkout errors")
    room["is_archived"] = True  # someone archived the war room by hand
    answer = await run(bot, room, "resolve Rolled back")
    assert answer.startswith("⚠️ Done: resolved INC-1")
    assert f"broadcast to <#{bot.broadcast}>" in answer
    assert "Not done: " in answer
    for missing in (
        "the room was not told (is_archived)",
        "the card could not be updated (is_archived)",
        "the topic could not be set (is_archived)",
        "the draft is not in the room yet",
    ):
        assert missing in answer, missing
    assert "Nothing else was changed" not in answer
    (incident,) = await stored(bot, Incident)
    assert incident.status == "resolved"
    assert "is resolved" in bot.fake.messages(bot.broadcast)[-1]["text"]


async def test_a_card_slack_refuses_is_the_one_step_not_done(bot):
    room = await bot.declare("SEV2 Checkout errors")
    card_ts = bot.fake.messages(room["id"])[0]["ts"]
    bot.fake.fail("chat.update", "channel_not_found", ts=card_ts)
    answer = await run(bot, room, "status identified Bad deploy")
    assert answer == (
        "⚠️ Done: moved INC-1 to identified, posted in the room, set the topic, "
        f"broadcast to <#{bot.broadcast}>. "
        "Not done: the card could not be updated (channel_not_found)."
    )


async def test_everything_done_says_nothing_more(bot):
    room = await bot.declare("SEV3 Quiet")
    answers = len(bot.fake.responses)
    await run(bot, room, "status identified")
    assert len(bot.fake.responses) == answers  # the room's post is the confirmation


async def test_a_handover_whose_invitation_fails(bot):
    room = await bot.declare("SEV3 Handover")
    bot.fake.fail("conversations.invite", "user_is_restricted")
    answer = await run(bot, room, f"assign comms <@{CAROL}>")
    assert f"Done: made <@{CAROL}> the Comms Lead of INC-1" in answer
    assert f"Not done: <@{CAROL}> could not be invited (user_is_restricted)." in answer


async def test_an_approved_update_slack_would_not_broadcast_is_a_draft_again(bot):
    room, draft = await with_a_draft(bot)
    bot.fake.fail("chat.postMessage", "channel_not_found", channel=bot.broadcast)
    await bot.slack.click(BOB, room["id"], draft["ts"], "update_approve")
    await bot.settled()
    answer = private_answer(bot, room, BOB)
    assert answer.startswith("⚠️ Not done: the update was not sent")
    assert "it is a draft again, to approve once more (channel_not_found)" in answer
    assert [u.status for u in await stored(bot, StakeholderUpdate)] == ["draft"]

    card_ts = bot.fake.messages(room["id"])[0]["ts"]
    bot.fake.fail("chat.update", "is_archived", ts=card_ts)
    await bot.slack.click(BOB, room["id"], draft["ts"], "update_approve")
    await bot.settled()
    answer = private_answer(bot, room, BOB)
    assert answer.startswith(f"⚠️ Done: sent the update to <#{bot.broadcast}>")
    assert "marked the draft in the room" in answer
    assert answer.endswith("Not done: the card could not be updated (is_archived).")
    assert [u.status for u in await stored(bot, StakeholderUpdate)] == ["sent"]


async def test_a_skip_whose_draft_message_cannot_be_edited(bot):
    room, draft = await with_a_draft(bot)
    await bot.slack.click(BOB, room["id"], draft["ts"], "update_skip")
    view_id = await wait_for(lambda: next(iter(bot.fake.views), None), what="the skip form")
    bot.fake.fail("chat.update", "message_not_found", ts=draft["ts"])
    await bot.slack.submit(BOB, view_id, {"reason": {"value": "Exec call in 5 minutes"}})
    await bot.settled()
    answer = bot.fake.channel_named(f"dm-{BOB}")["messages"][-1]["text"]
    assert "Done: skipped the update, updated the card." in answer
    assert "Not done: the draft in the room still shows its buttons (message_not_found)." in answer


async def test_a_note_in_an_archived_room_is_kept_and_says_the_room_was_not_told(bot):
    room = await bot.declare("SEV3 Notes")
    room["is_archived"] = True
    answer = await run(bot, room, "note Customers in EU affected")
    assert answer == (
        "⚠️ Done: added the note to INC-1's timeline. Not done: the room was not told (is_archived)."
    )
    assert any(e.text == "Customers in EU affected" for e in await stored(bot, TimelineEntry))


async def test_an_action_item_whose_owner_cannot_be_told(bot):
    room = await bot.declare("SEV3 Actions")
    bot.fake.fail("chat.postMessage", "cannot_dm_bot", channel=CAROL)
    answer = await run(bot, room, f"action Add an alert on 5xx <@{CAROL}>")
    assert answer == (
        "⚠️ Done: added action item 1 to INC-1, posted in the room. "
        f"Not done: <@{CAROL}> was not told (cannot_dm_bot)."
    )
    assert len(await stored(bot, ActionItem)) == 1


async def test_a_problem_record_whose_card_cannot_be_updated(bot):
    room = await bot.declare("SEV3 Problem")
    bot.fake.fail("chat.update", "is_archived", ts=bot.fake.messages(room["id"])[0]["ts"])
    answer = await run(bot, room, "problem PRB-42")
    assert answer == (
        "⚠️ Done: recorded the problem record for INC-1, posted in the room. "
        "Not done: the card could not be updated (is_archived)."
    )


async def test_a_review_saved_while_the_room_refuses_posts(bot):
    room = await bot.declare("SEV3 Review")
    await run(bot, room, "resolve")
    await run(bot, room, "report")
    await bot.slack.click(ALICE, room["id"], review_message(bot, room)["ts"], "review_fill")
    await bot.settled()
    view_id, view = open_view(bot, "review_fill")
    bot.fake.fail("chat.postMessage", "restricted_action", channel=room["id"])
    values = {b["block_id"]: {"value": "written"} for b in view["blocks"]}
    await bot.slack.submit(ALICE, view_id, values)
    await bot.settled()
    answer = private_answer(bot, room, ALICE)
    assert answer == (
        "⚠️ Done: saved the review of INC-1 (version 1), updated the review's Fill in message. "
        "Not done: the room was not told (restricted_action)."
    )


async def test_a_form_slack_would_not_open_changed_nothing_and_says_so(bot):
    room = await bot.declare("SEV3 Forms")
    bot.fake.fail("views.open", "expired_trigger_id")
    card = bot.fake.messages(room["id"])[0]
    await bot.slack.click(ALICE, room["id"], card["ts"], "card_handover")
    await bot.settled()
    assert private_answer(bot, room, ALICE) == "❌ Not done: open the form (expired_trigger_id)."


async def test_a_question_the_comms_lead_cannot_be_told_of_is_still_kept(bot):
    room = await bot.declare("SEV2 Questions")
    await run(bot, room, f"assign comms <@{BOB}>")
    bot.fake.fail("chat.postMessage", "cannot_dm_bot", channel=BOB)
    await bot.slack.command(CAROL, "ask 1 When is checkout back?", bot.general)
    await bot.settled()
    assert bot.fake.responses[-1]["text"] == (
        "⚠️ Done: kept your question for INC-1's next update. "
        "Not done: its comms lead was not told (cannot_dm_bot)."
    )
    assert [q.text for q in await stored(bot, Question)] == ["When is checkout back?"]


async def test_approving_in_an_archived_room_answers_by_direct_message(bot):
    room, draft = await with_a_draft(bot)
    room["is_archived"] = True
    await bot.slack.click(BOB, room["id"], draft["ts"], "update_approve")
    await bot.settled()
    answer = bot.fake.channel_named(f"dm-{BOB}")["messages"][-1]["text"]
    assert answer == (
        f"⚠️ Done: sent the update to <#{bot.broadcast}>. Not done: the card could not be "
        "updated (is_archived); the draft in the room still shows its buttons (is_archived)."
    )
    assert [u.status for u in await stored(bot, StakeholderUpdate)] == ["sent"]
