"""The knowledge base: `/incident search` over past incidents, private ones only for their
members, and similar past incidents posted in a new war room."""

import json

from tests.conftest import ALICE, BOB, CAROL, DAVE
from tests.e2e.reviewing import fill_in_review, open_view, review_message


async def past_incident(bot, title: str, said: str, summary: str, user=ALICE) -> dict:
    room = await bot.declare(title, user)
    await bot.slack.say(user, room["id"], said)
    await bot.slack.command(user, f"resolve {summary}", room["id"])
    await bot.settled()
    return room


async def search(bot, words: str, user: str) -> str:
    await bot.slack.command(user, f"search {words}", bot.general)
    await bot.settled()
    return json.dumps(bot.fake.responses[-1]["blocks"], ensure_ascii=False)


def position(text: str, reference: str) -> int:
    return text.index(f"*{reference} ·")


async def test_search_ranks_past_incidents_and_links_the_room_and_review(bot):
    cart = await past_incident(
        bot, "SEV2 Checkout cart errors", "cart-service pods OOM killed", "Raised cart memory"
    )
    await past_incident(bot, "SEV3 Search slow", "the cart icon lags too", "Reindexed search")
    await past_incident(bot, "SEV4 Typo on the home page", "fixed the copy", "Fixed the copy")
    await fill_in_review(bot, cart, ALICE, {"Root cause": "A memory leak in the cart cache"})

    results = await search(bot, "cart memory leak", DAVE)
    assert "INC-1" in results and "INC-2" in results and "INC-3" not in results
    assert position(results, "INC-1") < position(results, "INC-2")  # more words, ranked first
    assert "Raised cart memory" in results  # the resolution summary
    assert f"archives/{cart['id']}|war room" in results
    review = review_message(bot, cart)
    assert f"archives/{cart['id']}/p{review['ts'].replace('.', '')}|review" in results

    by_timeline = await search(bot, "OOM", DAVE)  # only said in the war room
    assert "INC-1" in by_timeline and "INC-2" not in by_timeline
    assert "No past incident matches" in await search(bot, "kubernetes", DAVE)


async def test_private_incidents_are_found_only_by_their_members(bot):
    await bot.slack.command(ALICE, "declare", bot.general)
    await bot.settled()
    view_id, _ = open_view(bot, "declare")
    await bot.slack.submit(
        ALICE,
        view_id,
        {
            "title": {"value": "Leaked API keys"},
            "severity": {"selected_option": {"value": "SEV2"}},
            "private": {"selected_options": [{"value": "private"}]},
        },
    )
    await bot.settled()
    secret = (await bot.service.get(1)).incident
    assert secret.private
    await bot.slack.command(ALICE, "resolve Rotated the leaked keys", secret.channel_id)
    await bot.settled()
    await past_incident(bot, "SEV3 Keys page slow", "keys page cache", "Cached it")

    assert "Leaked API keys" in await search(bot, "leaked keys", ALICE)  # in its war room
    outsider = await search(bot, "leaked keys", CAROL)
    assert "Leaked API keys" not in outsider and "Keys page slow" in outsider
    # Nor is it offered as a similar incident in anyone's new war room.
    room = await bot.declare("SEV3 Leaked keys again?", ALICE)
    texts = json.dumps(bot.fake.messages(room["id"]), ensure_ascii=False)
    assert "Keys page slow" in texts and "Leaked API keys" not in texts


async def test_similar_past_incidents_are_posted_in_the_new_war_room(bot):
    await past_incident(
        bot, "SEV2 Checkout cart errors", "cart-service pods OOM", "Raised cart memory"
    )
    await past_incident(bot, "SEV4 Typo on the home page", "fixed the copy", "Fixed the copy")
    room = await bot.declare("SEV2 Cart errors at checkout again", BOB)
    similar = [m for m in bot.fake.messages(room["id"]) if "Similar past incidents" in m["text"]]
    assert len(similar) == 1
    shown = json.dumps(similar[0]["blocks"], ensure_ascii=False)
    assert "INC-1" in shown and "Raised cart memory" in shown and "INC-2" not in shown

    nothing_alike = await bot.declare("SEV3 Printer jammed", BOB)
    texts = [m["text"] for m in bot.fake.messages(nothing_alike["id"])]
    assert not any("Similar past incidents" in t for t in texts)


async def test_search_needs_words(bot):
    answer = await bot.slack.command(BOB, "search", bot.general)
    assert "Say what to look for" in answer["text"]
