"""The numbers in Slack: `/incident stats`, answered privately to whoever asks."""

from __future__ import annotations

from bot.incidents import IncidentService
from bot.incidents.stats import gather_numbers
from bot.render.stats import numbers_text
from bot.slack.flows.reply import Reply
from bot.slack.text import escape


async def show_numbers(reply: Reply, service: IncidentService, window: str) -> None:
    await reply(escape(numbers_text(await gather_numbers(service, window))))
