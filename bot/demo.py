"""`python -m bot demo`: a scripted major incident, with no Slack at all.

The real app runs on loopback against the built-in Slack simulator, on a throwaway SQLite
database; the script sends the same signed requests Slack would, then prints the war room
and the executives' broadcast channel as a person would read them.
"""

from __future__ import annotations

import secrets
import tempfile
from pathlib import Path

import yaml

from bot.config import load_settings
from bot.server import start_on_loopback
from bot.simulator import FakeSlack, SlackClient, render_channel, render_message, wait_for

ALICE, BOB, CAROL = "UALICE0001", "UBOB000001", "UCAROL0001"


async def run_demo() -> int:
    fake = await FakeSlack().start()
    for user, name in [(ALICE, "alice"), (BOB, "bob"), (CAROL, "carol")]:
        fake.add_user(user, name)
    general = fake.add_channel("general", [ALICE, BOB, CAROL])
    broadcast = fake.add_channel("incident-updates")
    response_team = fake.add_channel("mim-response-team")
    secret = secrets.token_hex(16)
    with tempfile.TemporaryDirectory(prefix="warroom-demo-") as workdir:
        config = Path(workdir) / "config.yaml"
        config.write_text(
            yaml.safe_dump({"broadcast_channel": broadcast, "response_team_channel": response_team})
        )
        settings = load_settings(
            {
                "SLACK_BOT_TOKEN": "xoxb-demo",
                "SLACK_SIGNING_SECRET": secret,
                "SLACK_API_URL": fake.api_url,
                "DATABASE_URL": f"sqlite+aiosqlite:///{workdir}/demo.db",
                "BOT_CONFIG": str(config),
            }
        )
        runner, runtime, url = await start_on_loopback(settings)
        try:
            async with SlackClient(fake, url, secret) as slack:
                room = await _play(fake, slack, runtime.tasks, general)
        finally:
            await runner.cleanup()
            await fake.stop()
    workspace = fake.workspace
    print(f"\n#{fake.channels[room]['name']} (the war room)\n{render_channel(workspace, room)}")
    print(f"\n#incident-updates (executives, read-only)\n{render_channel(workspace, broadcast)}")
    print(f"\n#mim-response-team\n{render_channel(workspace, response_team)}")
    print("\nPrivate answers to the people who ran commands:")
    for answer in fake.responses:
        print("  " + render_message(answer, workspace).replace("\n", "\n    "))
    for upload in fake.files.values():
        opening = upload["content"].decode().split("\n## Key events")[0]
        print(f"\n{upload['name']} (uploaded to the war room), up to its key events:")
        print("  " + opening.replace("\n", "\n  "))
    return 0


async def _play(fake: FakeSlack, slack: SlackClient, tasks, general: str) -> str:
    async def run(user: str, text: str, channel: str) -> None:
        print(f"/incident {text}   ({fake.users[user]['name']})")
        answer = await slack.command(user, text, channel)
        if answer.get("text"):
            print(f"  ↳ {answer['text']}")
        await wait_for(lambda: tasks.pending == 0, timeout=30, what="the bot")

    await run(ALICE, "declare SEV1 Checkout API returning 500s", general)
    room = next(c["id"] for c in fake.channels.values() if c["name"].startswith("inc-"))
    await run(ALICE, "assign comms @bob", room)
    await run(ALICE, f"assign tech <@{CAROL}|carol>", room)
    words = "Error rate > 40% since 14:02 & rising, right after the cart-service 4.2 deploy;"
    print(f"carol says in the war room: {words} @alice is rolling back")
    said = await slack.say(CAROL, room, f"{words} <@{ALICE}> is rolling back")
    await slack.react(ALICE, room, said, "pushpin")  # marks it as a key event
    await run(CAROL, "status identified Bad deploy of cart-service 4.2", room)
    await run(ALICE, "note Decided to roll back rather than fix forward", room)
    await run(BOB, "update", room)  # a stakeholder update draft, between the cadence's ones
    draft = next(m for m in reversed(fake.messages(room)) if "update draft" in m["text"])
    print("bob presses “Approve & send” on the draft")
    await slack.click(BOB, room, draft["ts"], "update_approve")
    await wait_for(lambda: tasks.pending == 0, timeout=30, what="the bot")
    await run(CAROL, "status monitoring Rolled back to 4.1; error rate back to normal", room)
    await run(ALICE, "resolve Rolled back cart-service 4.2; checkout healthy for 30 minutes", room)
    await run(ALICE, "timeline", room)
    await run(ALICE, "report", room)
    return room
