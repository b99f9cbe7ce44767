"""`/incident report`: the post-incident review draft, uploaded to the war room."""

from bot.simulator import wait_for
from tests.conftest import ALICE, BOB, CAROL


async def test_report_uploads_the_review_draft_once_resolved(bot):
    room = await bot.declare("SEV1 Checkout down")
    await bot.slack.command(ALICE, f"assign comms <@{BOB}|bob>", room["id"])
    ts = await bot.slack.say(CAROL, room["id"], "Rolling back cart-service 4.2")
    await bot.slack.pin(ALICE, room["id"], ts)

    await bot.slack.command(ALICE, "report", room["id"])
    await bot.settled()
    assert "INC-1 is still investigating" in bot.fake.responses[-1]["text"]
    assert bot.fake.files == {}

    await bot.slack.command(BOB, "resolve Rolled back to 4.1", room["id"])
    await bot.settled()
    assert any("`/incident report` drafts" in text for text in bot.posts(room["id"]))
    await bot.slack.command(CAROL, "report", room["id"])
    # A worker process writes it: spawning one takes seconds on a busy machine.
    await wait_for(lambda: bot.fake.files, timeout=60, what="the uploaded document")
    await bot.settled()
    (uploaded,) = bot.fake.files.values()
    assert uploaded["name"] == "INC-1-post-incident-review.md"
    review = uploaded["content"].decode()
    assert review.startswith("# Post-incident review — INC-1: Checkout down")
    assert "| Declared | " in review and " by alice |" in review
    assert "| Comms Lead | bob |" in review and "| Resolution | Rolled back to 4.1 |" in review
    assert "carol [message] Rolling back cart-service 4.2" in review.split("## Key events")[1]
    assert "## Action items" in review
    (shared,) = [m for m in bot.fake.messages(room["id"]) if m.get("files")]
    assert "Post-incident review draft for INC-1" in shared["text"]
