"""Alert triage in Slack: one message per alert group, kept current, paced per channel.

A storm of notifications must not become a storm of Slack calls: each channel gets at
most one write per `interval` (Slack allows about one message a second per channel), and
each write shows the group's state when it is made, so edits coalesce and the last state
is always the one shown. What a message shows is recorded (`shown_version`), so a change
not yet shown when the process stopped is shown after the restart (`resume`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from functools import partial

from bot.background import BackgroundTasks
from bot.config import BotConfig
from bot.incidents.alerts import AlertDesk, AlreadyDeclared, Delivery, GroupView, Received
from bot.incidents.errors import InvalidRequest
from bot.incidents.pacing import ChannelPace
from bot.incidents.paging import page_order
from bot.lanes import Share
from bot.playbooks import PlaybookLibrary
from bot.slack.blocks import forms
from bot.slack.blocks import triage as triage_blocks
from bot.slack.flows.declare import Declaring
from bot.slack.flows.reply import Reply
from bot.slack.gateway import SlackCallFailed, SlackGateway
from bot.slack.text import from_typed
from bot.store.types import utcnow

log = logging.getLogger(__name__)
SLACK_WRITES_PER_CHANNEL_INTERVAL = 1.0  # seconds
RESUME_EVERY = 30.0  # seconds between sweeps for changes no triage message shows yet
RESOLVED_EVENT = "warroom_alerts_resolved"  # the metadata that marks the room's notice


class ChannelPacer:
    """At most one write per channel per `interval`; a group waiting is written once, with
    whatever it holds by then. New groups go before changed ones: a new fire matters most."""

    def __init__(
        self,
        write: Callable[[int], Awaitable[None]],
        tasks: BackgroundTasks,
        pace: ChannelPace,
        unshown: Callable[[list[int]], Awaitable[list[int]]],
        interval: float = SLACK_WRITES_PER_CHANNEL_INTERVAL,
    ):
        self._write = write
        self._unshown = unshown  # of these groups, those not shown yet (by any replica)
        self._tasks = tasks
        self._pace = pace  # the channel's write slots, shared with the other replicas
        self.interval = interval
        self._waiting: dict[str, tuple[dict[int, None], dict[int, None]]] = {}
        self._draining: set[str] = set()

    def poke(self, channel: str, group_id: int, new: bool = False) -> None:
        fresh, changed = self._waiting.setdefault(channel, ({}, {}))
        (fresh if new else changed)[group_id] = None
        if channel not in self._draining:
            self._draining.add(channel)
            self._tasks.spawn(self._drain(channel), name=f"triage {channel}")

    async def _drain(self, channel: str) -> None:
        fresh, changed = self._waiting[channel]
        try:
            while fresh or changed:
                group_id = next(iter(fresh if fresh else changed))
                # Shown already (by another replica, say): no write slot is spent on it.
                showing = bool(await self._unshown([group_id]))
                if showing:
                    wait = await self._pace.claim(channel, self.interval)
                    if wait:  # another write (maybe another replica's) has the slot
                        await asyncio.sleep(wait)
                        continue  # the group may be shown by then: asked again
                fresh.pop(group_id, None)
                changed.pop(group_id, None)
                if showing:
                    await self._show(group_id)
        finally:
            self._draining.discard(channel)

    async def _show(self, group_id: int) -> None:
        try:
            await self._write(group_id)
        except SlackCallFailed:
            # Not lost: the group stays unshown and is shown on its next change or at the
            # next sweep (`Triage.resume`).
            log.exception("could not show alert group %s", group_id)


class Triage:
    def __init__(
        self,
        desk: AlertDesk,
        gateway: SlackGateway,
        declaring: Declaring,
        config: BotConfig,
        playbooks: PlaybookLibrary,
        tasks: BackgroundTasks,
        clock: Callable[[], datetime] = utcnow,
    ):
        self.clock = clock
        self.desk = desk
        self.gateway = gateway
        self.declaring = declaring
        self.config = config
        self.playbooks = playbooks
        self.tasks = tasks
        self.pacer = ChannelPacer(self.show, tasks, ChannelPace(desk.db), desk.unshown)
        self._resumed_at = 0.0

    async def receive(self, delivery: Delivery) -> Received:
        """Store a notification; the Slack work it causes happens after the answer."""
        received = await self.desk.receive(delivery)
        if received.changed and self.config.alerts_channel:
            self.pacer.poke(self.config.alerts_channel, received.group_id, received.created)
        if received.resolved_now and received.incident_id is not None:
            self.tasks.spawn(self.tell_resolved(), name="alerts resolved")
        if received.created and self.desk.auto_declare:
            self.tasks.spawn(self.auto_declare_new(), name="auto-declare")
        return received

    async def claim_due(self) -> list[Share]:
        """From the scheduler, every second: what a dead process left undone (a new group's
        auto_declare, a resolution to tell), each group's in a lane of its own (one slow war
        room delays only itself), and now and then what Slack refused before."""
        if asyncio.get_running_loop().time() - self._resumed_at >= RESUME_EVERY:
            await self.resume()
        new = await self.desk.claim_auto_declares() if self.desk.auto_declare else []
        resolved = await self.desk.claim_resolution_notices()
        return [
            *(_share(g, "auto-declare", partial(self.auto_declare, g)) for g in new),
            *(_share(g, "tell resolved", partial(self._tell_resolved, g)) for g in resolved),
        ]

    async def auto_declare_new(self) -> None:
        """Check each new group (claimed: once across replicas) against `auto_declare`."""
        for group_id in await self.desk.claim_auto_declares():
            await self.auto_declare(group_id)

    async def auto_declare(self, group_id: int) -> None:
        """Declare at once when the alerts' severity says `auto_declare: true`; the person
        on duty holds the command (else the first of the response team)."""
        view = await self.desk.view(group_id)
        severity = view.severity(self.config.alert_severity_label, self.config.alert_severity_map)
        level = self.playbooks.default.severities.get(severity or "")
        order = page_order(self.config.duty_rota, self.config.response_team, self.clock())
        wanted = level is not None and level.auto_declare and view.firing
        commander = None
        if wanted and not (view.group.dismissed_by or view.group.incident_id):
            commander = await self.declaring.people.first_able_to_hold_a_role(order)
            if commander is None:
                log.warning(
                    "alert group %s: auto_declare needs a duty_rota or response_team with an "
                    "active person in it",
                    group_id,
                )
        if commander is None:
            await self.desk.auto_declare_checked(group_id)
            return
        reply = Reply(self.gateway, commander, channel=self.config.alerts_channel)
        # Alert text is raw, like a form's: stored in Slack's dialect, as everything said is.
        try:
            await self.declared(
                reply,
                group_id,
                exclusive=True,
                title=from_typed(view.title),
                severity=severity,
                playbook=None,
                impact=from_typed(view.impact),
            )
        except AlreadyDeclared:
            return  # declared by another replica (or before a restart): once is enough

    async def resume(self) -> None:
        """Show every change not shown yet (after a restart or a Slack failure)."""
        self._resumed_at = asyncio.get_running_loop().time()
        if not self.config.alerts_channel:
            return
        for group_id in await self.desk.unshown():
            self.pacer.poke(self.config.alerts_channel, group_id)

    async def show(self, group_id: int) -> None:
        """Post the group's triage message, or edit it to show the group as it is now."""
        view = await self.desk.view(group_id)
        group = view.group
        if group.triage_ts is not None and group.shown_version >= group.version:
            return  # shown already (by another replica, say)
        text, message = triage_blocks.triage_message(view)
        if group.triage_ts is None:
            if not await self.desk.claim_first_post(group_id):
                return  # another replica is posting it
            channel = self.config.alerts_channel
            try:
                ts = await self.gateway.post(channel, text, message)
            except SlackCallFailed:
                await self.desk.release_first_post(group_id)  # the next try need not wait
                raise
            await self.desk.shown(group_id, group.version, channel, ts)
        else:
            await self.gateway.update(group.triage_channel, group.triage_ts, text, message)
            await self.desk.shown(group_id, group.version)

    # -- decisions -----------------------------------------------------------------------------

    async def open_declare(self, trigger_id: str, group_id: int) -> None:
        """The declare form, filled from the alerts (its submission comes back to `declared`)."""
        view = await self.desk.view(group_id)
        if view.group.incident_id is not None:
            raise InvalidRequest(f"These alerts are already INC-{view.group.incident_id}.")
        playbook = self.playbooks.default
        metadata = {"channel": self.config.alerts_channel, "alert_group": group_id}
        form = forms.declare_modal(self.playbooks, playbook, metadata)
        severity = view.severity(self.config.alert_severity_label, self.config.alert_severity_map)
        triage_blocks.prefill_declare(form, view.title, severity, view.impact)
        await self.gateway.open_view(trigger_id, form)

    async def declared(
        self, reply: Reply, group_id: int, exclusive: bool = False, **declaration
    ) -> None:
        """Declare from a triage message: the war room, the group linked to it (in the
        declaration's transaction, its alerts into the timeline), then the room told."""
        linking = self.desk.linking(group_id, exclusive)
        snapshot = await self.declaring.declare(reply, also=linking, **declaration)
        if snapshot is None:
            return
        view = await self.desk.view(group_id)
        self.pacer.poke(self.config.alerts_channel, group_id)
        if view.group.incident_id == snapshot.id:
            await self.gateway.post(snapshot.incident.channel_id, *_declared_from(view))
        else:
            await reply(
                f"⚠️ These alerts were already declared as INC-{view.group.incident_id}; "
                f"{snapshot.incident.reference} is a separate incident."
            )

    async def open_dismiss(self, trigger_id: str, group_id: int) -> None:
        view = await self.desk.view(group_id)
        await self.gateway.open_view(trigger_id, triage_blocks.dismiss_modal(view))

    async def dismiss(self, group_id: int, user: str, reason: str) -> None:
        await self.desk.dismiss(group_id, user, reason)
        self.pacer.poke(self.config.alerts_channel, group_id)

    async def tell_resolved(self) -> None:
        """Tell each war room whose alerts resolved (claimed under a lease; recorded after
        the post, and a post made before a crash is recognised by its metadata)."""
        for group_id in await self.desk.claim_resolution_notices():
            await self._tell_resolved(group_id)

    async def _tell_resolved(self, group_id: int) -> None:
        view = await self.desk.view(group_id)
        try:
            if view.war_room:
                await self._post_resolved(view)
        except SlackCallFailed as failure:
            # The lease runs out and a later tick tries again.
            log.warning(
                "could not tell INC-%s its alerts resolved: %s", view.group.incident_id, failure
            )
            return
        await self.desk.resolution_told(group_id)

    async def _post_resolved(self, view: GroupView) -> None:
        resolved = view.group.resolved_at.isoformat() if view.group.resolved_at else ""
        mark = {"alert_group": view.group.id, "resolved_at": resolved}
        if await self.gateway.own_message(view.war_room, RESOLVED_EVENT, mark):
            return  # posted before the process died, not recorded: posted once is enough
        metadata = {"event_type": RESOLVED_EVENT, "event_payload": mark}
        await self.gateway.post(
            view.war_room, triage_blocks.resolved_in_room(view), metadata=metadata
        )


def _share(group_id: int, what: str, work: Callable[[], Awaitable[None]]) -> Share:
    return Share(("alert group", group_id), f"alert group {group_id}: {what}", work)


def _declared_from(view: GroupView) -> tuple[str, list]:
    text, message = triage_blocks.triage_message(view, decisions=False)
    return f"Declared from alerts: {text}", message
