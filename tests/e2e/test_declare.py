"""Declaring: by command and by form, naming, invites, card, broadcast, failures, escaping."""

import json
import time
from datetime import UTC, datetime

from sqlmodel import select

from bot.store.models import Incident, TimelineEntry
from tests.conftest import ALICE, BOB, ONCALL, SRE_LEAD, TEST_PLAYBOOK, wait_for


def today() -> str:
    return datetime.now(UTC).strftime("%Y%m%d")


async def stored_incidents(bot) -> list[Incident]:
    async with bot.runtime.db.transaction() as session:
        return list((await session.exec(select(Incident))).all())


async def test_declare_by_command_opens_a_war_room(bot):
    answer = await bot.slack.command(ALICE, "declare SEV1 Checkout API returning 500s", bot.general)
    assert "Opening" in answer["text"]
    await bot.settled()

    room = bot.fake.channel_named(f"inc-{today()}-checkout-api-returning-500s")
    assert room is not None and not room["is_private"]
    assert {ALICE, ONCALL, SRE_LEAD} <= room["members"]  # declarer, user and user-group invitees
    assert "INC-1" in room["topic"] and "SEV1" in room["topic"]

    card = room["messages"][0]
    assert card["ts"] in room["pins"]
    card_text = json.dumps(card["blocks"])
    assert "Checkout API returning 500s" in card_text and f"<@{ALICE}>" in card_text
    assert "Steers the response" in card_text  # each role's one-line duty
    assert {"card_handover", "card_status", "card_severity"} <= {
        e["action_id"] for b in card["blocks"] if b["type"] == "actions" for e in b["elements"]
    }
    assert any("Checklist" in m["text"] for m in room["messages"])

    (response,) = bot.fake.responses
    assert response["response_type"] == "ephemeral" and f"<#{room['id']}>" in response["text"]

    (announcement,) = bot.fake.messages(bot.broadcast)
    assert "SEV1" in announcement["text"] and f"<#{room['id']}>" in announcement["text"]
    assert f"<@{ALICE}>" in announcement["text"]
    (alert,) = bot.fake.messages(bot.response_team)
    assert f"<#{room['id']}>" in alert["text"]

    (incident,) = await stored_incidents(bot)
    assert (incident.channel_id, incident.card_ts, incident.status) == (
        room["id"],
        card["ts"],
        "investigating",
    )
    assert incident.declared_at.tzinfo is not None


async def test_minor_incident_gets_a_war_room_and_nothing_else(bot):
    room = await bot.declare("SEV3 Search suggestions slow")
    assert ONCALL in room["members"]
    assert bot.fake.messages(bot.broadcast) == []
    assert bot.fake.messages(bot.response_team) == []


async def test_severity_defaults_to_the_playbooks(bot):
    await bot.declare("Export button greyed out")
    (incident,) = await stored_incidents(bot)
    assert incident.severity == TEST_PLAYBOOK["default_severity"]


async def test_taken_name_gets_a_suffix(bot):
    bot.fake.add_channel(f"inc-{today()}-login-broken")
    room = await bot.declare("SEV2 Login broken")
    assert room["name"] == f"inc-{today()}-login-broken-2"


async def test_long_and_unicode_titles_make_valid_channel_names(bot):
    room = await bot.declare("SEV4 Crème brûlée " + "very long words " * 8)
    assert len(room["name"]) <= 80 and room["name"].startswith(f"inc-{today()}-creme-brulee-very")


async def test_unknown_invitee_is_reported_and_the_rest_still_invited(bot):
    del bot.fake.users[ONCALL]  # left the company; the playbook still names them
    room = await bot.declare("SEV1 Payments failing")
    assert {ALICE, SRE_LEAD} <= room["members"]
    (report,) = [m["text"] for m in bot.fake.messages(room["id"]) if ONCALL in m["text"]]
    assert "user_not_found" in report


async def test_rate_limited_call_is_retried_after_retry_after(bot):
    bot.fake.fail("conversations.create", "ratelimited", status=429, retry_after=1)
    room = await bot.declare("SEV2 Retry me")
    attempts = [c for c in bot.fake.calls if c.method == "conversations.create"]
    assert len(attempts) == 2 and attempts[1].at - attempts[0].at >= 0.9
    assert room["name"].endswith("retry-me")


async def test_server_errors_are_retried(bot):
    bot.fake.fail("chat.postMessage", "internal_error", status=503, times=1)
    room = await bot.declare("SEV3 Flaky Slack")
    assert bot.fake.messages(room["id"])[0]["blocks"]  # the card made it


async def test_failed_channel_creation_declares_nothing_and_says_so(bot):
    bot.fake.fail("conversations.create", "restricted_action")
    await bot.slack.command(ALICE, "declare SEV1 Cannot create", bot.general)
    await bot.settled()
    assert "restricted_action" in bot.fake.responses[-1]["text"]
    assert await stored_incidents(bot) == []


async def test_a_failed_pin_is_reported_in_the_room(bot):
    bot.fake.fail("pins.add", "not_allowed")
    room = await bot.declare("SEV3 Pin refused")
    assert room["pins"] == set()
    assert any("not_allowed" in m["text"] for m in bot.fake.messages(room["id"]))


async def test_declare_without_title_opens_the_form_and_submitting_declares(bot):
    await bot.slack.command(ALICE, "declare", bot.general)
    view_id = await wait_for(lambda: next(iter(bot.fake.views), None), what="the declare form")
    view = bot.fake.views[view_id]
    severity = next(b for b in view["blocks"] if b.get("block_id") == "severity")
    sev1 = next(o for o in severity["element"]["options"] if o["value"] == "SEV1")
    assert sev1["description"]["text"] == "Checkout down for everyone"  # the agreed criteria

    answer = await bot.slack.submit(
        ALICE,
        view_id,
        {
            "title": {"value": "Warehouse scanners offline"},
            "severity": {"selected_option": {"value": "SEV1"}},
            "impact": {"value": "No parcels leave the warehouse"},
            "private": {"selected_options": [{"value": "private"}]},
        },
    )
    assert answer == {}
    await bot.settled()
    room = bot.fake.channel_named(f"inc-{today()}-inc-1")  # private: named by its reference
    assert room["is_private"]
    assert "No parcels leave the warehouse" in json.dumps(room["messages"][0]["blocks"])
    assert "private war room" in bot.fake.messages(bot.broadcast)[0]["text"]
    assert f"<#{room['id']}>" in bot.fake.responses[-1]["text"]


async def test_form_without_title_is_refused_in_the_form(bot):
    await bot.slack.command(ALICE, "declare SEV2", bot.general)
    view_id = await wait_for(lambda: next(iter(bot.fake.views), None), what="the declare form")
    answer = await bot.slack.submit(ALICE, view_id, {"title": {"value": "  "}})
    assert answer["response_action"] == "errors" and "title" in answer["errors"]


async def test_said_references_reach_no_executive_and_never_ping_again(bot):
    """Picked from Slack's menus, `<!channel>`, a person and a link arrive as references:
    the room keeps the person and the link, the executives get names and labels, and the
    broadcast is never repeated anywhere."""
    said = "<!channel> <@UBOB000001> & <https://evil.example|Open>"
    await bot.slack.command(ALICE, f"declare SEV1 {said}", bot.general)
    await bot.settled()
    room = next(c for c in bot.fake.channels.values() if c["name"].startswith("inc-"))
    await bot.slack.command(ALICE, f"status identified {said}", room["id"])
    await bot.slack.command(ALICE, f"resolve {said}", room["id"])
    await bot.settled()
    posted = posted_text(bot)
    assert len(posted) > 20 and not [p for _, p in posted if "<!channel>" in p]
    executives = [p for channel, p in posted if channel == bot.broadcast]
    assert executives and not [p for p in executives if "<@UBOB" in p or "<https://" in p]
    assert any("@channel @bob &amp; Open" in p for p in executives)
    assert any("<https://evil.example|Open>" in p for channel, p in posted if channel == room["id"])
    assert room["name"].endswith("-channel-bob-open")


async def test_a_title_typed_in_the_form_cannot_ping_or_forge_links(bot):
    typed = "<!channel> <@UBOB000001> & <https://evil.example|Open>"
    await bot.slack.command(ALICE, "declare", bot.general)
    view_id = await wait_for(lambda: next(iter(bot.fake.views), None), what="the declare form")
    await bot.slack.submit(
        ALICE,
        view_id,
        {"title": {"value": typed}, "severity": {"selected_option": {"value": "SEV1"}}},
    )
    await bot.settled()
    posted = posted_text(bot)
    assert len(posted) > 5
    for _, payload in posted:
        assert "<!channel>" not in payload and "<https://evil" not in payload
        assert "<@UBOB000001>" not in payload
    assert any("&lt;!channel&gt; &lt;@UBOB000001&gt; &amp; &lt;https" in p for _, p in posted)


def posted_text(bot) -> list[tuple[str, str]]:
    """(channel, text) of everything the bot posted, edited or set as a topic, and its
    answers to commands."""
    posted = [
        (c.params.get("channel"), text)
        for c in bot.fake.calls
        for text in slack_rendered_text(c.params)
        if c.method in ("chat.postMessage", "chat.update", "conversations.setTopic")
    ]
    return posted + [(None, r["text"]) for r in bot.fake.responses]


def slack_rendered_text(value) -> list[str]:
    """Every string Slack parses for mentions and links: mrkdwn, message text, topics.

    (plain_text objects, such as the card's header, are shown literally and cannot ping.)
    """
    if isinstance(value, list):
        return [t for item in value for t in slack_rendered_text(item)]
    if not isinstance(value, dict):
        return []
    if value.get("type") == "plain_text":
        return []
    found = [value[k] for k in ("text", "topic") if isinstance(value.get(k), str)]
    return found + [
        t
        for k, v in value.items()
        if k not in ("text", "topic") or not isinstance(v, str)
        for t in slack_rendered_text(v)
    ]


async def test_bad_signature_and_stale_timestamp_get_401(bot):
    body = "command=%2Fincident&text=list&user_id=UALICE0001"
    forged = await bot.slack.send(
        body, "application/x-www-form-urlencoded", signature="v0=" + "0" * 64
    )
    assert forged.status == 401
    stale = await bot.slack.send(
        body, "application/x-www-form-urlencoded", timestamp=int(time.time()) - 600
    )
    assert stale.status == 401
    assert await stored_incidents(bot) == []


async def test_declaration_is_in_the_timeline(bot):
    await bot.declare("SEV2 Timeline starts here")
    async with bot.runtime.db.transaction() as session:
        (entry,) = (await session.exec(select(TimelineEntry))).all()
    assert entry.kind == "declared" and entry.actor == ALICE and entry.key


async def test_unknown_playbook_is_refused_with_the_choices(bot):
    await bot.slack.command(BOB, "declare SEV1 Something playbook=nope", bot.general)
    await bot.settled()
    assert "no playbook called “nope”" in bot.fake.responses[-1]["text"]
    assert "default" in bot.fake.responses[-1]["text"]


async def test_unknown_severity_is_refused_not_taken_as_the_title(bot):
    await bot.slack.command(BOB, "declare SEV10 checkout down", bot.general)
    await bot.settled()
    answer = bot.fake.responses[-1]["text"]
    assert "“SEV10” is not a severity" in answer and "SEV1, SEV2, SEV3, SEV4" in answer
    assert await stored_incidents(bot) == []
    assert not bot.fake.calls_to("conversations.create")


async def test_unknown_severity_in_the_form_command_is_refused(bot):
    await bot.slack.command(BOB, "declare sev9", bot.general)
    await bot.settled()
    assert "“SEV9” is not a severity" in bot.fake.responses[-1]["text"]
    assert not bot.fake.views
