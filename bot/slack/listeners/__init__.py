"""Listeners: ack first (within Slack's 3 s), then hand the Slack work to a background task.

Each module has `register(app, deps)` binding plain functions to IDs.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from dataclasses import dataclass

from slack_bolt.async_app import AsyncApp

from bot.background import BackgroundTasks
from bot.incidents import IncidentError, IncidentService
from bot.incidents.permissions import Refused
from bot.incidents.timeline import Timeline
from bot.slack.blocks.common import mention
from bot.slack.flows.changes import Changes
from bot.slack.flows.declare import Declaring
from bot.slack.flows.drills import Drills
from bot.slack.flows.followups import FollowUps
from bot.slack.flows.home import HomeTabs
from bot.slack.flows.knowledge import Knowledge
from bot.slack.flows.outcome import PartlyDone
from bot.slack.flows.paging import Paging
from bot.slack.flows.reply import Reply
from bot.slack.flows.review import Reviewing
from bot.slack.flows.stakeholders import Stakeholders
from bot.slack.flows.timeline import TimelineViews
from bot.slack.flows.triage import Triage
from bot.slack.flows.updates import Updates
from bot.slack.gateway import SlackCallFailed, SlackGateway
from bot.slack.people import People
from bot.slack.text import escape
from bot.store.probe import DATABASE_ERRORS, describe_database_error

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Deps:
    """What the listeners are given: the flows they call, and what they need to parse."""

    service: IncidentService  # finds the war room a command runs in
    timeline: Timeline  # stores what is said in war rooms (the event hot path)
    gateway: SlackGateway  # for answering the person who asked
    people: People
    tasks: BackgroundTasks
    broadcast_channel: str | None
    declaring: Declaring
    changes: Changes
    updates: Updates
    stakeholders: Stakeholders
    timeline_views: TimelineViews
    home: HomeTabs
    drills: Drills
    triage: Triage
    paging: Paging
    reviewing: Reviewing
    followups: FollowUps
    knowledge: Knowledge

    def run_for(self, reply: Reply, work: Awaitable, name: str) -> None:
        """Run `work` after the ack; refusals and failures go back to the person who asked."""
        self.tasks.spawn(_answering(reply, work), name=name)


async def _answering(reply: Reply, work: Awaitable) -> None:
    try:
        await work
    except Refused as refusal:  # names people: as mentions (an ephemeral notifies no one)
        await reply(f"⛔ {refusal.sentence(mention, escape)} Nothing was changed.")
    except IncidentError as refusal:
        await reply(f"⚠️ {escape(str(refusal))}")
    except PartlyDone as partly:
        # Our own words and mentions, and Slack's error codes: nothing to escape.
        await reply(f"⚠️ {partly.outcome.sentence()}")
    except SlackCallFailed as failure:
        # Raised before anything was stored (a form that would not open, an answer lost):
        # flows that store first report through `Outcome` instead.
        await reply(f"❌ Not done: {escape(failure.what)} ({escape(failure.error)}).")
    except DATABASE_ERRORS as error:
        # Expected now and then (a database hung, read-only or full): one line, no traceback.
        reason = describe_database_error(error)
        log.warning("request not finished: database: %s", reason)
        await reply(
            f"❌ The database did not take it ({escape(reason)}), so this may not be finished. "
            "Try again in a moment."
        )
    except Exception:
        log.exception("request failed")
        await reply(
            "❌ Something went wrong on our side; the error is in the bot's log. Try again."
        )
        raise


def register_all(app: AsyncApp, deps: Deps) -> None:
    from bot.slack.listeners import (
        actions,
        commands,
        events,
        followups,
        home,
        paging,
        triage,
        views,
    )

    # Bolt tries listeners in registration order: events first, as they are the hot path.
    events.register(app, deps)
    commands.register(app, deps)
    actions.register(app, deps)
    views.register(app, deps)
    triage.register(app, deps)
    paging.register(app, deps)
    home.register(app, deps)
    followups.register(app, deps)
    events.register_the_rest(app)
