"""The Home tab: open incidents, your roles, the drafts waiting for you (decided from there
with the war room's own buttons), Declare; refreshed for the people a change concerns."""

import json
from pathlib import Path

from bot.simulator import wait_for
from tests.conftest import ALICE, BOB, CAROL, DAVE

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "app_home_opened_org_app.json"


def shown(bot, user: str) -> str:
    """What `user`'s Home tab shows, as one string ("" before anything is published)."""
    return json.dumps(bot.fake.home_views.get(user, {}).get("blocks", []), ensure_ascii=False)


def buttons(bot, user: str, action_id: str) -> list[str]:
    """The values of `user`'s Home tab buttons with this action ID."""
    return [
        element["value"]
        for block in bot.fake.home_views.get(user, {}).get("blocks", [])
        if block["type"] == "actions"
        for element in block["elements"]
        if element["action_id"] == action_id and "value" in element
    ]


async def opened_home(bot, user: str) -> str:
    publishes = len(bot.fake.calls_to("views.publish"))
    await bot.slack.open_home(user)
    await wait_for(
        lambda: any(c["user_id"] == user for c in bot.fake.calls_to("views.publish")[publishes:]),
        what=f"the Home tab of {user}",
    )
    return shown(bot, user)


async def with_comms(bot, title="Checkout errors") -> dict:
    room = await bot.declare(f"SEV2 {title}")
    await bot.slack.command(ALICE, f"assign comms <@{BOB}>", room["id"])
    await bot.settled()
    return room


async def declared_in_form(bot, user: str, title: str, severity: str, private=False) -> None:
    """Fill in and submit the declare form that was just opened."""
    view_id = await wait_for(lambda: next(iter(bot.fake.views), None), what="the declare form")
    values = {"title": {"value": title}, "severity": {"selected_option": {"value": severity}}}
    if private:
        values["private"] = {"selected_options": [{"value": "private"}]}
    await bot.slack.submit(user, view_id, values)
    await bot.settled()


def broadcast_updates(bot) -> list[str]:
    return [m["text"] for m in bot.fake.messages(bot.broadcast) if m["text"].startswith("📣")]


async def test_opening_home_shows_open_incidents_your_roles_and_declare(bot):
    room = await with_comms(bot)
    home = await opened_home(bot, CAROL)
    assert "INC-1 · SEV2 · Checkout errors" in home and "investigating" in home
    assert f"Incident Commander <@{ALICE}>" in home and f"Comms Lead <@{BOB}>" in home
    assert f"<#{room['id']}>" in home and "Next update due" in home
    assert "You hold no role in an open incident" in home
    assert bot.fake.home_views[CAROL]["type"] == "home"

    home = await opened_home(bot, BOB)
    assert "Comms Lead of *INC-1 · SEV2 · Checkout errors*" in home

    # The Messages tab is the app's DM: nothing to publish for it.
    await bot.slack.open_home(DAVE, tab="messages")
    await bot.settled()
    assert DAVE not in bot.fake.home_views


async def test_declare_button_opens_the_declare_form_and_answers_by_dm(bot):
    await opened_home(bot, CAROL)
    await bot.slack.click_in_home(CAROL, "home_declare")
    await declared_in_form(bot, CAROL, "Search is slow", "SEV3")
    dm = bot.fake.channel_named(f"dm-{CAROL}")
    assert any("Declared INC-1" in m["text"] for m in dm["messages"])
    await wait_for(lambda: "Search is slow" in shown(bot, CAROL), what="Home to list it")


async def test_comms_lead_approves_from_home_once_and_home_refreshes(bot):
    room = await with_comms(bot)
    await bot.slack.command(ALICE, "update", room["id"])
    await bot.settled()
    home = await opened_home(bot, BOB)
    assert "Waiting for your approval" in home and "Checkout errors" in home
    (update_id,) = buttons(bot, BOB, "update_approve")
    assert buttons(bot, BOB, "update_edit") == buttons(bot, BOB, "update_skip") == [update_id]
    await opened_home(bot, CAROL)
    assert buttons(bot, CAROL, "update_approve") == []  # not hers to decide
    assert "Waiting for your approval" not in shown(bot, CAROL)

    await bot.slack.click_in_home(BOB, "update_approve", update_id)
    await wait_for(lambda: broadcast_updates(bot), what="the broadcast")
    await wait_for(lambda: buttons(bot, BOB, "update_approve") == [], what="Home without the draft")
    await bot.settled()
    assert len(broadcast_updates(bot)) == 1
    draft = next(m for m in bot.fake.messages(room["id"]) if "Sent by" in m["text"])
    assert f"Sent by <@{BOB}>" in draft["text"]  # the war room's draft lost its buttons too


async def test_edit_from_home_sends_the_edited_text(bot):
    room = await with_comms(bot)
    await bot.slack.command(ALICE, "update", room["id"])
    await bot.settled()
    await opened_home(bot, BOB)
    (update_id,) = buttons(bot, BOB, "update_edit")
    await bot.slack.click_in_home(BOB, "update_edit", update_id)
    view_id = await wait_for(lambda: next(iter(bot.fake.views), None), what="the edit form")
    await bot.slack.submit(BOB, view_id, {"text": {"value": "Checkout is back for most"}})
    await wait_for(lambda: broadcast_updates(bot), what="the broadcast")
    assert "Checkout is back for most" in broadcast_updates(bot)[0]


async def test_someone_else_clicking_a_home_draft_is_refused_privately(bot):
    room = await with_comms(bot)
    await bot.slack.command(ALICE, "update", room["id"])
    await bot.settled()
    await opened_home(bot, BOB)
    stale_home = bot.fake.home_views[BOB]
    bot.fake.home_views[DAVE] = stale_home  # as if DAVE had BOB's view in front of him
    await bot.slack.click_in_home(DAVE, "update_approve", buttons(bot, BOB, "update_approve")[0])
    await bot.settled()
    dm = bot.fake.channel_named(f"dm-{DAVE}")
    assert (
        "can approve, edit or skip the stakeholder updates of INC-1" in dm["messages"][-1]["text"]
    )
    assert broadcast_updates(bot) == []


async def test_a_change_refreshes_the_role_holders_and_recent_viewers_only(bot):
    room = await with_comms(bot)
    await opened_home(bot, CAROL)  # a recent viewer, holding no role
    await bot.slack.command(ALICE, "status identified Bad deploy", room["id"])
    for user in (ALICE, BOB, CAROL):
        await wait_for(
            lambda user=user: "identified" in shown(bot, user), what=f"{user}'s Home refreshed"
        )
    await bot.settled()
    assert DAVE not in bot.fake.home_views  # neither a role holder nor a viewer


async def test_a_private_incident_shows_only_its_reference_to_others(bot):
    await bot.slack.command(ALICE, "declare", bot.general)
    await declared_in_form(bot, ALICE, "Customer database exfiltration", "SEV1", private=True)
    room = next(c for c in bot.fake.channels.values() if c["name"].startswith("inc-"))

    home = await opened_home(bot, DAVE)
    assert "INC-1" in home and "a private incident" in home
    assert "exfiltration" not in home and room["id"] not in home and ALICE not in home
    home = await opened_home(bot, ALICE)  # the commander sees it whole
    assert "Customer database exfiltration" in home and room["id"] in home


async def test_many_incidents_fit_slacks_100_blocks_with_and_n_more(bot):
    for number in range(110):
        snapshot = await bot.service.declare(title=f"Outage {number}", declared_by=BOB)
        await bot.service.attach_channel(snapshot.id, f"CROOM{number:05d}", f"inc-{number}")
    view = await opened_home(bot, CAROL)  # the fake refuses a view over Slack's limits
    blocks = bot.fake.home_views[CAROL]["blocks"]
    assert len(blocks) == 100 and "Open incidents* (110)" in view
    listed = sum("Outage" in json.dumps(b, ensure_ascii=False) for b in blocks)
    assert blocks[-1]["elements"][0]["text"] == f"…and {110 - listed} more open incidents"


async def test_slacks_own_org_app_event_is_answered(bot):
    """Slack's published `app_home_opened` for an org-wide app (Messages tab), replayed
    as sent, then the same for the Home tab: only the Home tab publishes a view."""
    sample = json.loads(SAMPLE.read_text())
    bot.fake.add_user(sample["event"]["user"], "grid-user")
    response = await bot.slack.send(json.dumps(sample), "application/json")
    assert response.status == 200
    await bot.settled()
    assert bot.fake.home_views == {}

    sample["event"]["tab"], sample["event_id"] = "home", "Ev112"
    response = await bot.slack.send(json.dumps(sample), "application/json")
    assert response.status == 200
    await wait_for(lambda: sample["event"]["user"] in bot.fake.home_views, what="the Home tab")
