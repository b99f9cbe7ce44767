"""Steps people take after the storm, through the real app (shared by the e2e tests)."""

from __future__ import annotations


def review_message(bot, room: dict) -> dict:
    """The latest review draft message in the war room (the one with Fill in)."""
    return [m for m in bot.fake.messages(room["id"]) if _has_button(m, "review_fill")][-1]


def open_view(bot, callback_id: str) -> tuple[str, dict]:
    """The latest view the bot opened with `callback_id`."""
    view_id = [v for v, view in bot.fake.views.items() if view["callback_id"] == callback_id][-1]
    return view_id, bot.fake.views[view_id]


async def fill_in_review(bot, room: dict, user: str, texts: dict | None = None) -> dict:
    """`report`, then Fill in and Save: every section written unless `texts` says otherwise.
    Returns the form as it was opened (prefilled)."""
    await bot.slack.command(user, "report", room["id"])
    await bot.settled()
    await bot.slack.click(user, room["id"], review_message(bot, room)["ts"], "review_fill")
    await bot.settled()
    view_id, view = open_view(bot, "review_fill")
    values = {}
    for block in view["blocks"]:
        name = block["label"]["text"]
        written = (texts or {}).get(name, f"{name}: written by the team")
        values[block["block_id"]] = {"type": "plain_text_input", "value": written}
    await bot.slack.submit(user, view_id, values)
    await bot.settled()
    return view


def _has_button(message: dict, action_id: str) -> bool:
    return any(
        element.get("action_id") == action_id
        for block in message.get("blocks", [])
        if block.get("type") == "actions"
        for element in block["elements"]
    )
