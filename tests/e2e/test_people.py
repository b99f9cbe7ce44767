"""The people directory: `@name` without listing the workspace per command, names kept
current by `user_change`, and the workspace URL learnt once at startup."""

from sqlmodel import select

from bot.store.models import TimelineEntry
from tests.conftest import ALICE, BOB, CAROL


async def test_typed_names_list_the_workspace_once(bot):
    room = await bot.declare("SEV3 Slow reports")
    for role in ("tech", "comms"):
        await bot.slack.command(ALICE, f"assign {role} @carol", room["id"])
        await bot.settled()
    said = " ".join(m["text"] for m in bot.fake.messages(room["id"]))
    assert f"made <@{CAROL}> the *Tech Lead*" in said
    assert f"made <@{CAROL}> the *Comms Lead*" in said
    assert len(bot.fake.calls_to("users.list")) == 1


async def test_unknown_names_do_not_list_the_workspace_every_time(bot):
    room = await bot.declare("SEV3 Slow reports")
    for _ in range(3):
        await bot.slack.command(ALICE, "assign tech @nobody", room["id"])
        await bot.settled()
        assert "can't find anyone called @nobody" in bot.fake.responses[-1]["text"]
    assert len(bot.fake.calls_to("users.list")) == 1


async def test_user_change_renames_without_asking_slack(bot):
    room = await bot.declare("SEV3 Slow reports")
    await bot.slack.command(ALICE, "assign tech @bob", room["id"])  # the directory is listed
    await bot.settled()
    renamed = bot.fake.users[CAROL] | {
        "name": "caz",
        "profile": {"display_name": "caz", "real_name": "Caroline"},
    }
    bot.fake.users[CAROL] = renamed
    assert (await bot.slack.event({"type": "user_change", "user": renamed})).status == 200

    await bot.slack.command(ALICE, "assign comms @caz", room["id"])
    await bot.settled()
    assert any(
        f"made <@{CAROL}> the *Comms Lead*" in m["text"] for m in bot.fake.messages(room["id"])
    )
    assert len(bot.fake.calls_to("users.list")) == 1


async def test_workspace_url_is_not_asked_on_the_event_path(bot):
    room = await bot.declare("SEV2 Chatty")
    asked_at_startup = len(bot.fake.calls_to("auth.test"))
    ts = await bot.slack.say(BOB, room["id"], "Error rate is 40%")
    await bot.slack.edit(BOB, room["id"], ts, "Error rate is 45%")
    async with bot.runtime.db.transaction() as session:
        said = (
            await session.exec(select(TimelineEntry).where(TimelineEntry.kind == "message"))
        ).one()
    assert said.text == "Error rate is 45%"
    assert said.permalink.startswith("https://warroom-demo.slack.com/archives/")
    assert len(bot.fake.calls_to("auth.test")) == asked_at_startup
