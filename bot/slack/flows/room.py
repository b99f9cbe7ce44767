"""Steps several flows share in and around a war room."""

from __future__ import annotations

import logging
from collections.abc import Awaitable

from bot.config import BotConfig
from bot.incidents import IncidentSnapshot
from bot.slack.blocks import announcements
from bot.slack.gateway import Problems, SlackCallFailed, SlackGateway

log = logging.getLogger(__name__)


async def report_problems(gateway: SlackGateway, channel_id: str, problems: Problems) -> None:
    """Tell the room which side steps failed, so people can do them by hand."""
    if not problems:
        return
    log.warning("problems in %s: %s", channel_id, problems.items)
    try:
        await gateway.post(channel_id, announcements.problems_report(problems.items))
    except SlackCallFailed:
        log.exception("could not report problems in %s: %s", channel_id, problems.items)
        raise


def announce_major(
    gateway: SlackGateway, config: BotConfig, snapshot: IncidentSnapshot, problems: Problems
) -> list[Awaitable]:
    """The posts a major incident gets outside its room: the executives, the response team."""
    posts = [
        (config.broadcast_channel, announcements.declared_broadcast),
        (config.response_team_channel, announcements.response_team_alert),
    ]
    return [
        problems.collect(gateway.post(channel, build(snapshot)))
        for channel, build in posts
        if channel
    ]
