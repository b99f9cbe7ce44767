"""Holes found by attacking private incidents from outside.

An outsider replays the bot's buttons and forms with the id of a private incident (or of
its update draft, action item) in the value or the form's metadata: the server judges the
person against THAT incident, so they learn nothing about it and change nothing in it,
not even an empty role they could take to get in.

DAVE is the outsider (in #general, not in INC-1's war room); the `secret` fixture is
test_privacy's: INC-1 private, ALICE commands, BOB is its comms lead."""

import json

import pytest
from sqlmodel import select

from bot.store.models import ActionItem, ReviewVersion, StakeholderUpdate
from tests.conftest import ALICE, BOB, DAVE, ONCALL
from tests.e2e import test_privacy
from tests.e2e.test_privacy import SECRET, dumped, leaks
from tests.e2e.test_web import get

bot_config, secret = test_privacy.bot_config, test_privacy.secret  # its fixtures

SEEN = "the private incident's words, people or room"


async def prepared(bot, room: dict) -> tuple[int, int]:
    """A draft update and an action item in the private incident: (update id, item id)."""
    await bot.slack.command(ALICE, "update", room["id"])
    await bot.slack.command(ALICE, f"action Rotate the exfiltrated keys <@{BOB}>", room["id"])
    await bot.settled()
    async with bot.runtime.db.snapshot_read() as session:
        update = (await session.exec(select(StakeholderUpdate))).all()[-1]
        item = (await session.exec(select(ActionItem))).one()
    return update.id, item.id


def seen_by(bot, user: str) -> list:
    """Everything the bot showed `user`: private answers, forms, direct messages."""
    ephemeral = [
        m
        for channel in list(bot.fake.channels)
        for m in bot.fake.messages(channel)
        if m.get("for_user") == user
    ]
    dm = bot.fake.channel_named(f"dm-{user}")
    return [
        *ephemeral,
        *bot.fake.responses,
        *bot.fake.views.values(),
        *(dm["messages"] if dm else []),
    ]


async def forged_click(bot, user: str, action_id: str, value: str, selected: bool = False):
    """A button (or select option) of the bot's, clicked in #general with a forged value."""
    action = {"action_id": action_id, "block_id": "", "action_ts": "1.0"}
    if selected:
        action |= {"type": "static_select", "selected_option": {"value": value}}
    else:
        action |= {"type": "button", "value": value}
    ts = bot.fake.messages(bot.general)[-1]["ts"] if bot.fake.messages(bot.general) else "1.0"
    await bot.slack.interact(
        {
            "type": "block_actions",
            "user": {"id": user},
            "channel": {"id": bot.general},
            "container": {"type": "message", "message_ts": ts, "channel_id": bot.general},
            "trigger_id": bot.fake.new_trigger_id(),
            "response_url": bot.fake.new_response_url(),
            "actions": [action],
        }
    )
    await bot.settled()


async def forged_submit(bot, user: str, callback_id: str, metadata: dict, values: dict):
    """A form of the bot's, submitted with forged private_metadata."""
    view = {
        "id": "VFORGED01",
        "type": "modal",
        "callback_id": callback_id,
        "private_metadata": json.dumps(metadata),
        "state": {"values": {block: {"value": state} for block, state in values.items()}},
    }
    await bot.slack.interact(
        {
            "type": "view_submission",
            "user": {"id": user},
            "view": view,
            "trigger_id": bot.fake.new_trigger_id(),
        }
    )
    await bot.settled()


def told(bot, user: str, before: list) -> list:
    """What `user` was shown since `before` (pages to the duty manager aside: not theirs)."""
    earlier = {dumped(x) for x in before}
    return [
        x for x in seen_by(bot, user) if dumped(x) not in earlier and "📟" not in str(x.get("text"))
    ]


@pytest.mark.parametrize(
    ("action_id", "value"),
    [
        ("timeline_page", "1:1"),
        ("card_catchup", "1"),
        ("card_handover", "1"),
        ("review_fill", "1"),
        ("card_status", "1:monitoring"),
        ("card_severity", "1:SEV2"),
    ],
)
async def test_a_forged_incident_button_shows_an_outsider_nothing(bot, secret, action_id, value):
    before = seen_by(bot, DAVE)
    select_menu = action_id in ("card_status", "card_severity")
    await forged_click(bot, DAVE, action_id, value, selected=select_menu)
    answers = told(bot, DAVE, before)
    assert answers, "the outsider is answered"
    assert leaks(dumped(answers), secret) == [], SEEN
    assert "⚠️ INC-1 — a private incident: only its members can see it" in dumped(answers)
    snapshot = await bot.service.get(1)
    assert (snapshot.incident.status, snapshot.incident.severity) == ("investigating", "SEV1")


@pytest.mark.parametrize("action_id", ["update_approve", "update_edit", "update_skip"])
async def test_a_forged_update_button_shows_an_outsider_nothing(bot, secret, action_id):
    update_id, _ = await prepared(bot, secret)
    before = seen_by(bot, DAVE)
    await forged_click(bot, DAVE, action_id, str(update_id))
    answers = told(bot, DAVE, before)
    assert answers and leaks(dumped(answers), secret) == [], SEEN
    async with bot.runtime.db.snapshot_read() as session:
        assert (await session.get(StakeholderUpdate, update_id)).status == "draft"


@pytest.mark.parametrize("action_id", ["action_done", "action_reassign"])
async def test_a_forged_action_item_button_shows_an_outsider_nothing(bot, secret, action_id):
    _, item_id = await prepared(bot, secret)
    before = seen_by(bot, DAVE)
    await forged_click(bot, DAVE, action_id, str(item_id))
    answers = told(bot, DAVE, before)
    assert answers and leaks(dumped(answers), secret) == [], SEEN
    async with bot.runtime.db.snapshot_read() as session:
        assert (await session.get(ActionItem, item_id)).state == "open"


async def test_a_forged_handover_form_does_not_let_an_outsider_take_an_empty_role(bot, secret):
    """Taking an unheld role is open to all, in the incidents one may see: not a way in."""
    values = {"role": {"selected_option": {"value": "tech"}}, "user": {"selected_user": DAVE}}
    before = seen_by(bot, DAVE)
    await forged_submit(bot, DAVE, "handover", {"incident": 1, "channel": bot.general}, values)
    assert (await bot.service.get(1)).roles.get("tech") is None
    assert DAVE not in secret["members"]
    assert leaks(dumped(told(bot, DAVE, before)), secret) == [], SEEN


async def test_forged_forms_change_nothing_in_a_private_incident(bot, secret):
    update_id, item_id = await prepared(bot, secret)
    room_before = len(bot.fake.messages(secret["id"]))
    before = seen_by(bot, DAVE)
    text = {"value": "Nothing to see here"}
    general = {"channel": bot.general}
    await forged_submit(bot, DAVE, "action_add", {"incident": 1, **general}, {"text": text})
    await forged_submit(bot, DAVE, "update_edit", {"update": update_id}, {"text": text})
    await forged_submit(bot, DAVE, "update_skip", {"update": update_id}, {"reason": text})
    reassigned = {"owner": {"selected_user": DAVE}}
    await forged_submit(bot, DAVE, "action_reassign", {"item": item_id, **general}, reassigned)
    review = {"incident": 1, "sections": ["Summary"], **general}
    await forged_submit(bot, DAVE, "review_fill", review, {"section_0": text})
    async with bot.runtime.db.snapshot_read() as session:
        assert (await session.get(StakeholderUpdate, update_id)).status == "draft"
        items = (await session.exec(select(ActionItem))).all()
        assert (await session.exec(select(ReviewVersion))).all() == []
    assert [(i.id, i.owner) for i in items] == [(item_id, BOB)]
    assert len(bot.fake.messages(secret["id"])) == room_before
    answers = told(bot, DAVE, before)
    assert len(answers) >= 5 and leaks(dumped(answers), secret) == [], SEEN


def draft_message(bot, room: dict) -> dict:
    return [m for m in bot.fake.messages(room["id"]) if "update_approve" in dumped(m)][-1]


async def test_what_the_executives_read_of_a_private_incident_stays_its_reference(bot, secret):
    """Every change, and a draft the comms lead approves as the bot wrote it, reach the
    executives' channel without the title, severity, people or words from inside."""
    room = secret["id"]
    finding = "Attacker used the leaked payroll key"
    for user, text in (
        (ALICE, f"status identified {finding}"),
        (ALICE, "severity SEV2"),
        (ALICE, f"assign comms <@{ALICE}>"),
        (ALICE, "update"),
    ):
        await bot.slack.command(user, text, room)
        await bot.settled()
    await bot.slack.click(ALICE, room, draft_message(bot, secret)["ts"], "update_approve")
    await bot.settled()
    executives = dumped([m for m in bot.fake.messages(bot.broadcast) if "INC-1" in m["text"]])
    assert "📣" in executives and "identified" in executives  # the update went out
    assert leaks(executives, secret) == [] and "payroll" not in executives
    assert "SEV" not in executives
    for path in ("/status", "/status.json", "/status.atom", "/status/INC-1", "/metrics"):
        status, page = await get(bot, path)
        assert status == 200 and leaks(page, secret) == [] and "payroll" not in page, path
    status, feed = await get(bot, "/status.atom")
    assert "INC-1" not in feed  # none of its updates


async def test_a_member_without_a_role_still_reads_it_from_its_buttons(bot, secret):
    """ONCALL is in the war room (Slack's member list says so) but holds no role."""
    room = secret["id"]
    await bot.slack.command(ONCALL, "timeline", room)
    await bot.settled()
    assert SECRET in dumped(bot.fake.responses[-1])
    card = bot.fake.messages(room)[0]
    await bot.slack.click(ONCALL, room, card["ts"], "card_catchup")
    await bot.settled()
    caught_up = [m for m in bot.fake.messages(room) if m.get("for_user") == ONCALL]
    assert caught_up and "only its members" not in dumped(caught_up)
    assert BOB in dumped(caught_up)  # the roles, as a member sees them
