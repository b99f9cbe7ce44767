"""Who may do what: the incident's role holders and the incident admins (by user ID and by
user group) steer; a playbook narrows or widens each action; anyone else is refused
privately with the names of who can; bots, apps, Slackbot and deactivated accounts cannot
hold roles; notes, questions, taking an empty role and talking stay open to all."""

import json

import pytest
from sqlmodel import select

from bot.simulator.workspace import BOT_USER, SLACKBOT
from bot.store.models import ActionItem, ProblemRecord, ReviewVersion, StakeholderUpdate
from tests.conftest import ALICE, BOB, CAROL, DAVE, SRE_GROUP, SRE_LEAD, TEST_PLAYBOOK
from tests.e2e.reviewing import open_view, review_message

MIM = "UMIM000001"  # an incident admin by user ID
ERIN = "UERIN00001"  # in STATUS_GROUP, which the strict playbook lets change the status
APP = "UAPP000001"  # a workflow app's user
GONE = "UGONE00001"  # a deactivated account
STATUS_GROUP = "SSTATUS001"

STRICT = {
    "name": "strict",
    "description": "Fewer hands on the wheel",
    "default_severity": "SEV3",
    "severities": {
        "SEV1": {"description": "Down", "major": True, "update_every": "30m"},
        "SEV3": {"description": "Degraded"},
    },
    "permissions": {
        "close": ["commander"],
        "severity": ["commander", "tech"],
        "status": ["roles", DAVE, STATUS_GROUP],
    },
}


@pytest.fixture
def bot_config() -> dict:
    return {"incident_admins": [MIM, SRE_GROUP]}


@pytest.fixture
def playbooks() -> list[dict]:
    return [TEST_PLAYBOOK, STRICT]


@pytest.fixture
async def people(fake):
    fake.add_user(MIM, "mim")
    fake.add_user(ERIN, "erin")
    fake.add_user(APP, "workflow")
    fake.users[APP]["is_app_user"] = True
    fake.add_user(GONE, "gone")
    fake.users[GONE]["deleted"] = True
    fake.add_usergroup(STATUS_GROUP, [ERIN])


async def run(bot, room: dict, user: str, text: str) -> dict:
    answer = await bot.slack.command(user, text, room["id"])
    await bot.settled()
    return answer


def privately(bot, room: dict, user: str) -> list[str]:
    """What the bot told `user` alone in the room (ephemeral messages)."""
    return [
        m["text"]
        for m in bot.fake.messages(room["id"])
        if m.get("subtype") == "ephemeral" and m.get("for_user") == user
    ]


def said(bot, room: dict) -> list[str]:
    """What everyone in the room sees."""
    return [m["text"] for m in bot.fake.messages(room["id"]) if m.get("subtype") != "ephemeral"]


async def here(bot, room: dict):
    return await bot.service.find_by_channel(room["id"])


async def stored(bot, model) -> list:
    async with bot.runtime.db.snapshot_read() as session:
        return list((await session.exec(select(model))).all())


async def war_room(bot, text: str = "SEV2 Checkout slow") -> dict:
    """Alice declares (she commands) and names Bob tech lead; Carol watches from inside."""
    room = await bot.declare(text)
    await run(bot, room, ALICE, f"assign tech <@{BOB}>")
    room["members"].add(CAROL)
    return room


WHO_CAN = "Only the Incident Commander <@{a}>, the Tech Lead <@{b}> or an incident admin"


@pytest.mark.parametrize(
    ("command", "verb"),
    [
        ("status identified", "change the status of"),
        ("severity SEV1", "change the severity of"),
        ("resolve Fixed it", "resolve"),
        ("close", "close"),
        (f"assign commander <@{CAROL}>", "hand over roles in"),
        (f"assign comms <@{DAVE}>", "hand over roles in"),  # an empty role, for someone else
        ("problem PRB-7", "record the problem record of"),
    ],
)
async def test_a_non_holder_is_refused_privately_naming_who_can(bot, command, verb):
    room = await war_room(bot)
    before, room_before = await here(bot, room), said(bot, room)
    await run(bot, room, CAROL, command)

    answer = bot.fake.responses[-1]
    who = WHO_CAN.format(a=ALICE, b=BOB)
    reference = before.incident.reference
    assert answer["response_type"] == "ephemeral"
    assert answer["text"] == f"⛔ {who} can {verb} {reference}. Nothing was changed."
    after = await here(bot, room)
    assert (after.incident.status, after.incident.severity, after.roles) == (
        before.incident.status,
        before.incident.severity,
        before.roles,
    )
    assert said(bot, room) == room_before
    assert await stored(bot, ProblemRecord) == []


async def test_the_card_refuses_a_non_holder_and_serves_a_role_holder(bot):
    room = await war_room(bot)
    card = bot.fake.messages(room["id"])[0]
    incident = (await here(bot, room)).id
    await bot.slack.click(
        CAROL, room["id"], card["ts"], "card_status", selected=f"{incident}:identified"
    )
    await bot.settled()  # each click is answered after its ack: in turn, for a fixed order
    await bot.slack.click(
        CAROL, room["id"], card["ts"], "card_severity", selected=f"{incident}:SEV1"
    )
    await bot.settled()
    assert privately(bot, room, CAROL) == [
        f"⛔ {WHO_CAN.format(a=ALICE, b=BOB)} can change the status of INC-{incident}. "
        "Nothing was changed.",
        f"⛔ {WHO_CAN.format(a=ALICE, b=BOB)} can change the severity of INC-{incident}. "
        "Nothing was changed.",
    ]
    assert (await here(bot, room)).incident.status == "investigating"

    # The tech lead may: a role holder, not only the commander.
    await bot.slack.click(
        BOB, room["id"], card["ts"], "card_status", selected=f"{incident}:identified"
    )
    await bot.settled()
    assert (await here(bot, room)).incident.status == "identified"


async def handover_form(bot, room: dict, user: str, role: str, holder: str) -> None:
    """Hand over from the card: its button opens the form, `user` submits it."""
    card = bot.fake.messages(room["id"])[0]
    await bot.slack.click(user, room["id"], card["ts"], "card_handover")
    await bot.settled()
    view_id, _ = open_view(bot, "handover")
    await bot.slack.submit(
        user,
        view_id,
        {"role": {"selected_option": {"value": role}}, "user": {"selected_user": holder}},
    )
    await bot.settled()


async def test_the_handover_form_refuses_a_non_holder_but_anyone_takes_an_empty_role(bot):
    room = await war_room(bot)
    await handover_form(bot, room, CAROL, "commander", CAROL)
    assert privately(bot, room, CAROL) == [
        f"⛔ {WHO_CAN.format(a=ALICE, b=BOB)} can hand over roles in INC-1. Nothing was changed."
    ]
    await handover_form(bot, room, CAROL, "comms", CAROL)  # no one holds it: she takes it
    roles = (await here(bot, room)).roles
    assert roles == {"commander": ALICE, "comms": CAROL, "tech": BOB}

    await handover_form(bot, room, CAROL, "commander", DAVE)  # now a holder: she may
    assert (await here(bot, room)).roles["commander"] == DAVE
    assert any(f"from <@{ALICE}> to <@{DAVE}>" in text for text in said(bot, room))


async def test_incident_admins_by_user_id_and_by_user_group_may_act(bot, people):
    room = await war_room(bot)
    await run(bot, room, MIM, "severity SEV1")  # by user ID
    await run(bot, room, SRE_LEAD, "status identified")  # by user group
    await run(bot, room, SRE_LEAD, f"assign commander <@{MIM}>")
    snapshot = await here(bot, room)
    assert (snapshot.incident.severity, snapshot.incident.status) == ("SEV1", "identified")
    assert snapshot.roles["commander"] == MIM
    assert not [r for r in bot.fake.responses if "⛔" in r.get("text", "")]
    assert bot.fake.calls_to("usergroups.users.list")  # the group was asked who is in it


async def test_a_role_holder_may_and_a_group_not_named_grants_nothing(bot, people):
    room = await war_room(bot)
    await run(bot, room, BOB, "resolve Scaled the cart cache")  # the tech lead
    assert (await here(bot, room)).incident.status == "resolved"
    await run(bot, room, ERIN, "status identified")  # not in an admin group
    assert "⛔ Only the Incident Commander" in bot.fake.responses[-1]["text"]


async def test_update_decisions_stay_with_the_comms_lead_and_commander(bot, people):
    room = await war_room(bot)
    await run(bot, room, ALICE, f"assign comms <@{DAVE}>")
    await run(bot, room, CAROL, "update")  # drafting is open; deciding is not
    draft = [m for m in bot.fake.messages(room["id"]) if "update_approve" in json.dumps(m)][-1]
    for action in ("update_approve", "update_edit", "update_skip"):
        await bot.slack.click(BOB, room["id"], draft["ts"], action)  # the tech lead
    await bot.settled()
    refusal = (
        f"⛔ Only the Incident Commander <@{ALICE}>, the Comms Lead <@{DAVE}> or an incident "
        "admin can approve, edit or skip the stakeholder updates of INC-1. Nothing was changed."
    )
    assert privately(bot, room, BOB) == [refusal] * 3
    assert not [v for v in bot.fake.views.values() if v["callback_id"] == "update_edit"]
    assert [u.status for u in await stored(bot, StakeholderUpdate)] == ["draft"]

    broadcast_before = len(bot.fake.messages(bot.broadcast))
    await bot.slack.click(MIM, room["id"], draft["ts"], "update_approve")  # an admin
    await bot.settled()
    assert [(u.status, u.decided_by) for u in await stored(bot, StakeholderUpdate)] == [
        ("sent", MIM)
    ]
    assert len(bot.fake.messages(bot.broadcast)) == broadcast_before + 1


async def test_the_review_is_filled_in_by_role_holders_and_admins(bot, people):
    room = await war_room(bot)
    await run(bot, room, ALICE, "resolve Scaled the cart cache")
    await run(bot, room, CAROL, "report")  # drafting the review is open
    fill_in = review_message(bot, room)["ts"]
    await bot.slack.click(CAROL, room["id"], fill_in, "review_fill")
    await bot.settled()
    assert privately(bot, room, CAROL) == [
        f"⛔ {WHO_CAN.format(a=ALICE, b=BOB)} can fill in the review of INC-1. Nothing was changed."
    ]
    assert not [v for v in bot.fake.views.values() if v["callback_id"] == "review_fill"]

    await bot.slack.click(SRE_LEAD, room["id"], fill_in, "review_fill")  # an admin, by group
    await bot.settled()
    view_id, view = open_view(bot, "review_fill")
    values = {b["block_id"]: {"value": "written"} for b in view["blocks"]}
    await bot.slack.submit(SRE_LEAD, view_id, values)
    await bot.settled()
    assert [v.edited_by for v in await stored(bot, ReviewVersion)] == [SRE_LEAD]


async def test_action_items_done_by_holders_admins_and_the_owner_only(bot, people):
    room = await war_room(bot)
    await run(bot, room, CAROL, f"action Add alerting on 5xx <@{DAVE}>")  # adding is open
    await run(bot, room, CAROL, "action Write the runbook")
    (owned, unowned) = sorted(await stored(bot, ActionItem), key=lambda item: item.id)
    await run(bot, room, CAROL, "actions")
    listed = bot.fake.responses[-1]
    bot.fake.workspace.add_message(
        room["id"], {"ts": "1.0", "blocks": listed["blocks"], "text": listed["text"]}
    )
    await bot.slack.click(CAROL, room["id"], "1.0", "action_done", value=str(owned.id))
    await bot.settled()
    assert bot.fake.responses[-1]["text"] == (
        f"⛔ Only the Incident Commander <@{ALICE}>, the Tech Lead <@{BOB}>, its owner "
        f"<@{DAVE}> or an incident admin can mark done or reassign the action items of INC-1. "
        "Nothing was changed."
    )
    await bot.slack.click(CAROL, room["id"], "1.0", "action_reassign", value=str(unowned.id))
    await bot.settled()
    assert "⛔ Only the Incident Commander" in privately(bot, room, CAROL)[-1]
    assert not [v for v in bot.fake.views.values() if v["callback_id"] == "action_reassign"]

    await bot.slack.click(DAVE, room["id"], "1.0", "action_done", value=str(owned.id))
    await bot.slack.click(MIM, room["id"], "1.0", "action_reassign", value=str(unowned.id))
    await bot.settled()
    view_id, _ = open_view(bot, "action_reassign")
    await bot.slack.submit(MIM, view_id, {"owner": {"selected_user": CAROL}})
    await bot.settled()
    items = sorted(await stored(bot, ActionItem), key=lambda item: item.id)
    assert [(i.state, i.owner) for i in items] == [("done", DAVE), ("open", CAROL)]


async def test_a_playbook_narrows_and_widens_who_may(bot, people):
    room = await bot.declare("SEV3 Disk filling up playbook=strict")
    await run(bot, room, ALICE, f"assign comms <@{BOB}>")
    await run(bot, room, ALICE, f"assign tech <@{CAROL}>")

    await run(bot, room, BOB, "severity SEV1")  # narrowed: not the comms lead
    assert bot.fake.responses[-1]["text"] == (
        f"⛔ Only the Incident Commander <@{ALICE}>, the Tech Lead <@{CAROL}> or an incident "
        "admin can change the severity of INC-1. Nothing was changed."
    )
    await run(bot, room, BOB, "close")
    assert bot.fake.responses[-1]["text"] == (
        f"⛔ Only the Incident Commander <@{ALICE}> or an incident admin can close INC-1. "
        "Nothing was changed."
    )
    await run(bot, room, CAROL, "severity SEV1")  # the tech lead may
    assert (await here(bot, room)).incident.severity == "SEV1"

    await run(bot, room, DAVE, "status identified")  # widened: named by user ID
    await run(bot, room, ERIN, "status monitoring")  # widened: by user group
    assert (await here(bot, room)).incident.status == "monitoring"
    await run(bot, room, BOB, "status identified")  # `roles`: every role holder
    assert (await here(bot, room)).incident.status == "identified"


@pytest.mark.parametrize(
    ("who", "why"),
    [
        (BOT_USER, "is a bot or an app, not a person"),  # warroom itself
        (APP, "is a bot or an app, not a person"),
        (SLACKBOT, "is a system account, not a person"),
        (GONE, "is deactivated"),
    ],
)
async def test_bots_apps_slackbot_and_deactivated_users_cannot_hold_roles(bot, people, who, why):
    room = await war_room(bot)
    refusal = f"⛔ <@{who}> {why}; only active people can hold incident roles. Nothing was changed."
    await run(bot, room, ALICE, f"assign comms <@{who}>")
    assert bot.fake.responses[-1]["text"] == refusal
    await handover_form(bot, room, ALICE, "commander", who)  # the card's form
    assert privately(bot, room, ALICE) == [refusal]
    assert (await here(bot, room)).roles == {"commander": ALICE, "comms": None, "tech": BOB}


async def test_open_actions_stay_open_to_everyone(bot, people):
    room = await war_room(bot, "SEV1 Payments down")
    await run(bot, room, CAROL, f"assign comms <@{CAROL}>")  # an empty role, for herself
    await run(bot, room, DAVE, "note Rolled back the deploy")
    await run(bot, room, DAVE, "ask Are refunds affected?")
    await run(bot, room, DAVE, "action Add a payments canary")
    await bot.slack.say(DAVE, room["id"], "Seeing errors drop")
    await bot.settled()

    assert (await here(bot, room)).roles["comms"] == CAROL
    assert not [r for r in bot.fake.responses if "⛔" in r.get("text", "")]
    assert [item.text for item in await stored(bot, ActionItem)] == ["Add a payments canary"]
    timeline = await bot.runtime.deps.timeline.entries((await here(bot, room)).id)
    texts = [entry.text for entry in timeline]
    assert "Rolled back the deploy" in texts and "Seeing errors drop" in texts
