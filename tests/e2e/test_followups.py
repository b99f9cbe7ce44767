"""After the storm: the review filled in and stored, action items (command, message
shortcut, list with Done / Reassign, owners told and reminded), the problem record, the
close guard and archiving on close."""

import copy
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from sqlmodel import col, select

from bot.incidents.actions import REMINDER_LEASE
from bot.simulator import SlackClient, wait_for
from bot.slack.gateway import SlackCallFailed
from bot.slack.listeners.followups import ADD_AS_ACTION_ITEM
from bot.store.models import ActionItem, ReviewVersion
from tests.conftest import (
    ALICE,
    BOB,
    CAROL,
    SECRET,
    TEST_PLAYBOOK,
)
from tests.e2e.processes import let_time_pass, start_bot, stop
from tests.e2e.reviewing import fill_in_review, open_view, review_message
from tests.e2e.test_scheduling import environment

PLAYBOOK = copy.deepcopy(TEST_PLAYBOOK)
PLAYBOOK["severities"]["SEV1"]["requires_problem_record"] = True


@pytest.fixture
def playbooks() -> list[dict]:
    return [PLAYBOOK]


async def run(bot, room, text, user=ALICE) -> dict:
    answer = await bot.slack.command(user, text, room["id"])
    await bot.settled()
    return answer


async def rows(bot, model, *order) -> list:
    async with bot.runtime.db.snapshot_read() as session:
        return list((await session.exec(select(model).order_by(*order))).all())


def dms(bot, user: str) -> list[str]:
    return [m["text"] for m in bot.fake.messages(bot.fake.workspace.dm_channel(user))]


def last_answer(bot) -> str:
    return bot.fake.responses[-1]["text"]


def uploaded_review(bot) -> str:
    reviews = [f for f in bot.fake.files.values() if f["name"].endswith("review.md")]
    return reviews[-1]["content"].decode()


async def test_review_is_filled_in_stored_in_versions_and_in_the_next_report(bot):
    room = await bot.declare("SEV2 Checkout slow")
    await run(bot, room, f"assign tech <@{BOB}>")  # the review is for the role holders
    await run(bot, room, "resolve Scaled the cart cache")
    first_form = await fill_in_review(
        bot, room, ALICE, {"Root cause": "Cache <evictions> & a cold start"}
    )
    assert [b["label"]["text"] for b in first_form["blocks"]] == [
        "Impact",
        "Root cause",
        "What went well",
        "What went wrong",
        "Where we got lucky",
    ]
    assert "initial_value" not in first_form["blocks"][1]["element"]  # nothing stored yet
    assert any("saved the review (version 1)" in text for text in bot.posts(room["id"]))

    # Bob opens the form again: it holds what Alice wrote; he changes one section.
    await bot.slack.click(BOB, room["id"], review_message(bot, room)["ts"], "review_fill")
    await bot.settled()
    view_id, view = open_view(bot, "review_fill")
    prefilled = {b["label"]["text"]: b["element"].get("initial_value") for b in view["blocks"]}
    assert prefilled["Root cause"] == "Cache <evictions> & a cold start"
    values = {b["block_id"]: {"value": b["element"]["initial_value"]} for b in view["blocks"]} | {
        "section_4": {"value": "It happened at night"}
    }
    await bot.slack.submit(BOB, view_id, values)
    await bot.settled()

    versions = await rows(bot, ReviewVersion, col(ReviewVersion.version))
    assert [(v.version, v.edited_by) for v in versions] == [(1, ALICE), (2, BOB)]
    assert versions[0].sections["Where we got lucky"] == "Where we got lucky: written by the team"
    assert versions[1].sections["Where we got lucky"] == "It happened at night"

    context = review_message(bot, room)["blocks"][1]["elements"][0]["text"]
    assert f"version 2, last edited by <@{BOB}>" in context  # edited in place on saving

    await run(bot, room, "report", CAROL)
    review = uploaded_review(bot)
    assert "## Root cause\n\nCache <evictions> & a cold start" in review
    assert "## Where we got lucky\n\nIt happened at night" in review
    assert "version 2; edited by alice" in review and ", bob (" in review
    context = review_message(bot, room)["blocks"][1]["elements"][0]["text"]
    assert f"version 2, last edited by <@{BOB}>" in context


async def test_action_items_by_command_listed_done_and_reassigned(bot):
    room = await bot.declare("SEV2 Login errors")
    await run(bot, room, f"assign comms <@{CAROL}>")  # Done and Reassign: the role holders'
    await run(bot, room, f"action Add alerting on 5xx <@{BOB}|bob> due 2030-01-15")
    await run(bot, room, "action Write the runbook")
    (item, unowned) = await rows(bot, ActionItem, col(ActionItem.id))
    assert (item.text, item.owner, item.due, item.state) == (
        "Add alerting on 5xx",
        BOB,
        date(2030, 1, 15),
        "open",
    )
    assert unowned.owner is None and unowned.due is None
    assert any("added action item" in text for text in bot.posts(room["id"]))
    assert any("gave you an action item from INC-1" in text for text in dms(bot, BOB))

    answer = await run(bot, room, "actions", CAROL)
    assert answer == {}  # the list comes after the ack, privately
    listed = bot.fake.responses[-1]
    assert "Add alerting on 5xx" in json.dumps(listed["blocks"])
    buttons = [e for b in listed["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert [b["action_id"] for b in buttons] == ["action_done", "action_reassign"] * 2

    # Done replaces the private list in place; the room hears of it.
    card_message = {"ts": "1.0", "blocks": listed["blocks"], "text": listed["text"]}
    bot.fake.workspace.add_message(room["id"], card_message)
    await bot.slack.click(CAROL, room["id"], "1.0", "action_done", value=str(item.id))
    await bot.settled()
    assert bot.fake.responses[-1].get("replace_original") is True
    assert "✅" in json.dumps(bot.fake.responses[-1]["blocks"], ensure_ascii=False)
    assert any("marked done" in text for text in bot.posts(room["id"]))
    assert (await rows(bot, ActionItem, col(ActionItem.id)))[0].state == "done"

    await bot.slack.click(CAROL, room["id"], "1.0", "action_reassign", value=str(unowned.id))
    await bot.settled()
    view_id, _ = open_view(bot, "action_reassign")
    await bot.slack.submit(CAROL, view_id, {"owner": {"selected_user": ALICE}})
    await bot.settled()
    assert (await rows(bot, ActionItem, col(ActionItem.id)))[1].owner == ALICE
    assert any("gave you an action item" in text for text in dms(bot, ALICE))

    await run(bot, room, "resolve Fixed")
    await run(bot, room, "report")
    review = uploaded_review(bot)
    assert "| Add alerting on 5xx | bob | 2030-01-15 | done |" in review
    assert "| Write the runbook | alice | — | open |" in review


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("action", "Say what is to be done"),
        ("action Fix it due 2030-13-01", "is not a date; write it as YYYY-MM-DD"),
        ("problem", "Give one ticket ID or URL"),
        ("problem PRB 1", "Give one ticket ID or URL"),
        ("actions now", "takes no arguments"),
    ],
)
async def test_malformed_follow_up_commands_get_the_usage(bot, text, answer):
    room = await bot.declare("SEV3 Slow search")
    reply = await bot.slack.command(ALICE, text, room["id"])
    assert answer in reply["text"]


async def test_message_shortcut_turns_a_war_room_message_into_an_action_item(bot):
    room = await bot.declare("SEV2 Payments failing")
    ts = await bot.slack.say(CAROL, room["id"], "We must add a canary for the payments deploy")
    await bot.slack.shortcut(BOB, room["id"], ts, ADD_AS_ACTION_ITEM)
    await bot.settled()
    view_id, view = open_view(bot, "action_add")
    text_block = next(b for b in view["blocks"] if b.get("block_id") == "text")
    assert text_block["element"]["initial_value"] == "We must add a canary for the payments deploy"

    await bot.slack.submit(
        BOB,
        view_id,
        {
            "text": {"value": "Add a canary stage to the payments deploy"},
            "owner": {"type": "users_select", "selected_user": CAROL},
            "due": {"type": "datepicker", "selected_date": "2030-02-01"},
        },
    )
    await bot.settled()
    (item,) = await rows(bot, ActionItem)
    assert (item.text, item.owner, item.due, item.created_by) == (
        "Add a canary stage to the payments deploy",
        CAROL,
        date(2030, 2, 1),
        BOB,
    )
    assert item.permalink.endswith(f"/archives/{room['id']}/p{ts.replace('.', '')}")
    assert any("gave you an action item" in text for text in dms(bot, CAROL))

    # Anywhere else it says where it works, and opens nothing.
    ts = await bot.slack.say(CAROL, bot.general, "lunch?")
    views = len(bot.fake.views)
    await bot.slack.shortcut(CAROL, bot.general, ts, ADD_AS_ACTION_ITEM)
    await bot.settled()
    assert "works on messages in an incident's war room" in last_answer(bot)
    assert len(bot.fake.views) == views


async def test_owner_is_reminded_of_overdue_items_once_a_week(bot):
    room = await bot.declare("SEV3 Reports late")
    await run(bot, room, f"action Fix the report job <@{BOB}|bob> due 2020-01-01")
    await run(bot, room, f"action Add a test <@{BOB}|bob> due 2099-01-01")
    reminders = await wait_for(
        lambda: [t for t in dms(bot, BOB) if "overdue action item" in t], what="the reminder"
    )
    assert "Fix the report job" in reminders[0] and "Add a test" not in reminders[0]
    next_week = datetime.now(UTC) + timedelta(days=6)

    async def moved_on_a_week() -> bool:
        return (await rows(bot, ActionItem, col(ActionItem.id)))[0].remind_at > next_week

    await wait_for(moved_on_a_week, what="the next reminder a week away")

    # A week on (a controlled clock), it comes again, once.
    later = datetime.now(UTC) + timedelta(days=7, hours=1)
    bot.runtime.deps.followups.items.clock = lambda: later
    await wait_for(
        lambda: len([t for t in dms(bot, BOB) if "overdue action item" in t]) == 2,
        what="next week's reminder",
    )
    await bot.runtime.scheduler.tick()
    assert len([t for t in dms(bot, BOB) if "overdue action item" in t]) == 2


async def test_a_reminder_slack_refused_is_sent_when_its_lease_runs_out(bot, caplog):
    room = await bot.declare("SEV3 Reports late")
    await run(bot, room, f"action Fix the report job <@{BOB}|bob> due 2099-01-01")
    items = bot.runtime.deps.followups.items
    overdue = datetime(2099, 1, 2, 9, 0, tzinfo=UTC)

    def attempts() -> int:
        return len([c for c in bot.fake.calls_to("chat.postMessage") if c["channel"] == BOB])

    # It falls due, and Slack refuses the owner's direct message.
    assigned = attempts()
    bot.fake.fail("chat.postMessage", "fatal_error", channel=BOB)
    items.clock = lambda: overdue
    await wait_for(lambda: attempts() > assigned, what="the reminder's first attempt")
    await bot.runtime.scheduler.tick()
    assert attempts() == assigned + 1  # leased: not tried again at once
    assert not [t for t in dms(bot, BOB) if "overdue" in t]
    (refused,) = [r for r in caplog.records if "remind" in r.getMessage() and BOB in r.getMessage()]
    assert refused.levelname == "WARNING" and refused.exc_info is None  # one line
    assert "fatal_error" in refused.getMessage()

    # Once the lease has run out, any tick sends it, once.
    items.clock = lambda: overdue + REMINDER_LEASE + timedelta(seconds=1)
    await wait_for(lambda: [t for t in dms(bot, BOB) if "overdue" in t], what="the reminder")
    await bot.runtime.scheduler.tick()
    assert len([t for t in dms(bot, BOB) if "overdue" in t]) == 1


async def test_close_waits_for_the_review_and_the_problem_record(bot):
    room = await bot.declare("SEV1 Checkout down")
    await run(bot, room, f"assign comms <@{BOB}>")
    await run(bot, room, "resolve Rolled back")
    await run(bot, room, "close")
    refusal = last_answer(bot)
    assert "INC-1 cannot close yet" in refusal
    assert "the review has not been filled in" in refusal and "needs a problem record" in refusal

    await fill_in_review(bot, room, ALICE, {"What went wrong": ""})
    await run(bot, room, "close")
    refusal = last_answer(bot)
    assert "What went wrong still empty" in refusal and "needs a problem record" in refusal

    await fill_in_review(bot, room, BOB)
    await run(bot, room, "problem <https://jira.example.com/browse/PRB-7>")
    card = bot.fake.messages(room["id"])[0]
    assert "<https://jira.example.com/browse/PRB-7>" in json.dumps(card["blocks"])
    await run(bot, room, "close")
    assert (await bot.service.get(1)).incident.status == "closed"
    assert not room.get("is_archived")  # archive_on_close is off by default

    await run(bot, room, "report")
    review = uploaded_review(bot)
    assert "Problem record: https://jira.example.com/browse/PRB-7" in review


class TestArchiveOnClose:
    @pytest.fixture
    def bot_config(self) -> dict:
        return {"archive_on_close": True}

    async def test_the_war_room_is_archived_after_the_final_post(self, bot):
        room = await bot.declare("SEV3 Flaky builds")
        await run(bot, room, "resolve Pinned the runner image")
        await run(bot, room, f"action Cache the runner image <@{BOB}|bob>")
        await run(bot, room, "actions", BOB)
        listed = bot.fake.responses[-1]
        await fill_in_review(bot, room, ALICE)
        await run(bot, room, "close")
        assert room["is_archived"]
        assert "closed" in bot.fake.messages(room["id"])[-1]["text"]

        # The follow-ups outlive the room: Bob's list still marks his item done.
        bot.fake.workspace.add_message(bot.general, {"ts": "1.0", **listed})
        await bot.slack.click(BOB, bot.general, "1.0", "action_done")
        await bot.settled()
        assert (await rows(bot, ActionItem))[0].state == "done"
        assert "✅" in json.dumps(bot.fake.responses[-1]["blocks"], ensure_ascii=False)
        # Slack refuses anything more in an archived channel, as the fake does.
        with pytest.raises(SlackCallFailed, match="is_archived"):
            await bot.runtime.gateway.post(room["id"], "too late")


def test_manifest_offers_the_message_shortcut():
    jsonschema = pytest.importorskip("jsonschema")
    repo = Path(__file__).resolve().parents[2]
    manifest = yaml.safe_load((repo / "manifest.yaml").read_text())
    schema = json.loads((repo / "tests/data/slack-manifest.schema.2.0.0.json").read_text())
    jsonschema.validate(manifest, schema)
    (shortcut,) = manifest["features"]["shortcuts"]
    assert (shortcut["type"], shortcut["callback_id"]) == ("message", ADD_AS_ACTION_ITEM)
    assert {"channels:manage", "groups:write"} <= set(manifest["oauth_config"]["scopes"]["bot"])


async def test_two_replicas_on_one_database_send_each_reminder_once(fake, tmp_path):
    """Two bot processes tick every second on one database; each owner hears once."""
    general = fake.add_channel("general", [ALICE, BOB, CAROL])
    env = await environment(fake, tmp_path, update_every="30m")  # one shared database
    first, first_url = await start_bot(env)
    second, second_url = await start_bot(env)
    try:
        async with (
            SlackClient(fake, first_url, SECRET) as a,
            SlackClient(fake, second_url, SECRET) as b,
        ):
            await a.command(ALICE, "declare SEV3 Reports late", general)
            room = await wait_for(lambda: fake.channel_named("inc-"), what="the war room")
            await wait_for(lambda: room["pins"], what="the card")
            for n, (slack, owner) in enumerate([(a, BOB), (b, CAROL), (a, BOB), (b, CAROL)]):
                await slack.command(ALICE, f"action Fix {n} <@{owner}> due 2020-01-01", room["id"])

            def reminders(owner: str) -> list[str]:
                return [
                    m["text"]
                    for m in fake.messages(fake.workspace.dm_channel(owner))
                    if "overdue action item" in m["text"]
                ]

            await wait_for(lambda: reminders(BOB) and reminders(CAROL), timeout=10, what="both")
            await let_time_pass(3)  # both replicas tick three more times
            sent = reminders(BOB) + reminders(CAROL)
            # Items added within one tick share a message; never one item in two.
            mentioned = [f"Fix {n}" for text in sent for n in range(4) if f"Fix {n}" in text]
            assert sorted(mentioned) == ["Fix 0", "Fix 1", "Fix 2", "Fix 3"]
    finally:
        await stop(first)
        await stop(second)
