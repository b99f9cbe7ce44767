"""Steps several flows share in and around a war room."""

from __future__ import annotations

import logging
from collections.abc import Awaitable

from bot.config import BotConfig
from bot.incidents import IncidentSnapshot
from bot.slack.blocks import announcements
from bot.slack.gateway import Problems, SlackCallFailed, SlackGateway

log = logging.getLogger(__name__)


async def report_problems(
    gateway: SlackGateway, channel_id: str, problems: Problems, mark: str = ""
) -> None:
    """Tell the room which side steps failed, so people can do them by hand; `mark`: what
    starts the post (a drill's DRILL)."""
    if not problems:
        return
    log.warning("problems in %s: %s", channel_id, problems.items)
    try:
        await gateway.post(channel_id, mark + announcements.problems_report(problems.items))
    except SlackCallFailed as failure:
        log.warning("could not report problems in %s: %s", channel_id, failure)
        raise


def stakeholder_channel(config: BotConfig, snapshot: IncidentSnapshot) -> str | None:
    """Where news for executives goes: the broadcast channel, or for a drill only the
    drill's own (`drill_broadcast_channel`), never the executives'."""
    return config.drill_broadcast_channel if snapshot.is_drill else config.broadcast_channel


def executives_post(config: BotConfig, snapshot: IncidentSnapshot) -> tuple[str, str] | None:
    """(channel, text) of the executives' news of a major incident, if there is a channel."""
    channel = stakeholder_channel(config, snapshot)
    return (channel, announcements.declared_broadcast(snapshot)) if channel else None


def response_team_post(config: BotConfig, snapshot: IncidentSnapshot) -> tuple[str, str] | None:
    """(channel, text) of the response team's alert; never for a drill (a rehearsal must
    not page the real response team)."""
    channel = None if snapshot.is_drill else config.response_team_channel
    return (channel, announcements.response_team_alert(snapshot)) if channel else None


def announce_major(
    gateway: SlackGateway, config: BotConfig, snapshot: IncidentSnapshot, problems: Problems
) -> list[Awaitable]:
    """The posts a major incident gets outside its room: the executives, the response team."""
    posts = [executives_post(config, snapshot), response_team_post(config, snapshot)]
    return [problems.collect(gateway.post(*post)) for post in posts if post]
