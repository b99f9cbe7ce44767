"""Assemble the bot: database, domain, Slack layer, web routes. One factory, used by
`python -m bot`, the demo, the tests and the benchmarks."""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from aiohttp import web

from bot.background import BackgroundTasks
from bot.config import BotConfig, Settings
from bot.documents import Documents
from bot.incidents import IncidentService
from bot.incidents.actions import ActionItems
from bot.incidents.alerts import AlertDesk
from bot.incidents.declaration import DeclarationDesk
from bot.incidents.drills import DrillDesk
from bot.incidents.knowledge import KnowledgeBase
from bot.incidents.lessons import Lessons
from bot.incidents.owed import OwedPosts
from bot.incidents.paging import Pager
from bot.incidents.permissions import IncidentPermissions
from bot.incidents.stats import REFRESH_EVERY, LatestNumbers
from bot.incidents.status import StatusReader
from bot.incidents.timeline import Timeline
from bot.incidents.updates import UpdateDesk
from bot.metrics import Metrics
from bot.preflight import listen_problem
from bot.scheduler import UpdateScheduler
from bot.settings_errors import ConfigError
from bot.slack.actors import Actors, named_groups
from bot.slack.app import connect_socket_mode, create_bolt_app, slack_events_route
from bot.slack.backfill import Backfill
from bot.slack.flows.announcing import Announcing
from bot.slack.flows.card import Card
from bot.slack.flows.changes import Changes
from bot.slack.flows.declare import Declaring
from bot.slack.flows.drills import Drills
from bot.slack.flows.followups import FollowUps
from bot.slack.flows.home import HomeTabs
from bot.slack.flows.knowledge import Knowledge
from bot.slack.flows.opening import Opening
from bot.slack.flows.paging import Paging
from bot.slack.flows.review import Reviewing
from bot.slack.flows.stakeholders import Stakeholders
from bot.slack.flows.timeline import TimelineViews
from bot.slack.flows.triage import Triage
from bot.slack.flows.updates import Updates
from bot.slack.gateway import SlackGateway, make_client
from bot.slack.listeners import Deps
from bot.slack.observe import ObservedWebClient, observe_requests
from bot.slack.people import People
from bot.slack.text import visible_length
from bot.slack.viewers import Viewers
from bot.store import Database
from bot.store.migrate import require_current
from bot.store.types import utcnow
from bot.web import WebDeps, add_routes
from bot.web.alerts import add_alert_routes

log = logging.getLogger(__name__)
RUNTIME = web.AppKey("runtime", object)
BACKLOG = 128  # aiohttp's own default for a site


@dataclass
class Runtime:
    settings: Settings
    db: Database
    service: IncidentService
    gateway: SlackGateway
    people: People
    tasks: BackgroundTasks
    deps: Deps
    scheduler: UpdateScheduler
    metrics: Metrics
    backfill: Backfill
    numbers: LatestNumbers  # of `/incident stats`, for /status.json and /metrics

    @property
    def triage(self) -> Triage:
        return self.deps.triage

    @property
    def paging(self) -> Paging:
        return self.deps.paging


def build_runtime(settings: Settings, clock: Callable[[], datetime] = utcnow) -> Runtime:
    """`clock`: what the domain takes for now (tests pass a controlled one)."""
    db = Database(settings.database_url, settings.database_timeout)
    admins = frozenset(settings.config.incident_admins)
    service = IncidentService(
        db,
        settings.playbooks,
        clock,
        text_length=visible_length,
        permissions=IncidentPermissions(admins),
    )
    metrics = Metrics()
    client = make_client(
        settings.bot_token or "",
        settings.slack_api_url,
        partial(ObservedWebClient, metrics=metrics),
    )
    gateway = SlackGateway(client)
    tasks = BackgroundTasks()
    people = People(gateway, tasks)
    timeline = Timeline(db, clock)
    metrics.count_stored_events(lambda: timeline.recorded)
    numbers = LatestNumbers(service)
    metrics.show_numbers(lambda: numbers.windows)
    desk = UpdateDesk(db, service, clock)
    drills = DrillDesk(db, service, settings.scenarios, clock)
    deps = build_slack_layer(settings, service, timeline, desk, drills, gateway, people, tasks)
    scheduler = UpdateScheduler(
        desk,
        timeline,
        deps.updates,
        deps.drills,
        observe_lag=metrics.scheduler_lag.observe,
        claims_each_tick=[
            deps.declaring.opening.claim_unfinished,
            deps.paging.claim_due,
            deps.followups.claim_reminders,
            deps.triage.claim_due,
        ],
        also_each_tick=[deps.changes.announcing.resume_unfinished],
        periodic=[(numbers.refresh, REFRESH_EVERY)],
    )
    backfill = Backfill(timeline, gateway, people, tasks)
    return Runtime(
        settings, db, service, gateway, people, tasks, deps, scheduler, metrics, backfill, numbers
    )


def build_paging(
    service: IncidentService,
    changes: Changes,
    declaring: Declaring,
    gateway: SlackGateway,
    config,
) -> Paging:
    """The duty manager paged once a major incident's room is open (declared or raised)."""
    pager = Pager(service.db, config.duty_rota, config.response_team, config.ack_within)
    paging = Paging(pager, service, changes, gateway, config)
    declaring.opening.on_major = changes.on_major = paging.start
    return paging


def build_triage(
    settings: Settings,
    db: Database,
    gateway: SlackGateway,
    declaring: Declaring,
    tasks: BackgroundTasks,
) -> Triage:
    """Alert triage; each new group is checked for `auto_declare` when a playbook has it."""
    playbooks = settings.playbooks
    auto_declare = any(level.auto_declare for level in playbooks.default.severities.values())
    alerts = AlertDesk(db, auto_declare=auto_declare)
    return Triage(alerts, gateway, declaring, settings.config, playbooks, tasks)


def build_updates(
    config: BotConfig,
    desk: UpdateDesk,
    gateway: SlackGateway,
    card: Card,
    home: HomeTabs,
    people: People,
    actors: Actors,
    viewers: Viewers,
) -> Updates:
    """Drafts, approvals and broadcasts: to the executives, a drill's to its own channel."""
    return Updates(
        desk,
        gateway,
        card,
        config.broadcast_channel,
        home,
        people,
        actors,
        viewers,
        drill_broadcast_channel=config.drill_broadcast_channel,
    )


def build_announcing(
    service: IncidentService, gateway: SlackGateway, config: BotConfig
) -> Announcing:
    """What a stored change owes outside the room, recorded in the change's transaction."""
    announcing = Announcing(OwedPosts(service.db, service.clock), gateway, config)
    service.owing = announcing.owe
    return announcing


def build_slack_layer(
    settings: Settings,
    service: IncidentService,
    timeline: Timeline,
    desk: UpdateDesk,
    drills: DrillDesk,
    gateway: SlackGateway,
    people: People,
    tasks: BackgroundTasks,
) -> Deps:
    """The flows, each given what it uses, and the listeners' dependencies."""
    config = settings.config
    viewers = Viewers(gateway)  # who is in which private war room, shared by every surface
    actors = Actors(gateway, named_groups(config.incident_admins, settings.playbooks))
    home = HomeTabs(service, desk, gateway, tasks, viewers)
    lessons, knowledge_base = Lessons(service), KnowledgeBase(service.db)
    declarations = DeclarationDesk(service.db, service.clock, service.written)
    card = Card(service, desk, gateway, config.conference_bridge_url, lessons, declarations)
    updates = build_updates(config, desk, gateway, card, home, people, actors, viewers)
    knowledge = Knowledge(knowledge_base, gateway, people, viewers)
    opening = Opening(service, declarations, gateway, config, card, home, knowledge)
    declaring = Declaring(service, gateway, settings.playbooks, config, people, opening)
    stakeholders = Stakeholders(service, desk, gateway, viewers)
    documents = Documents(settings.database_url, settings.database_timeout)
    timeline_views = TimelineViews(service, timeline, gateway, people, documents, drills, viewers)
    items = ActionItems(service)
    announcing = build_announcing(service, gateway, config)
    changes = Changes(
        service, gateway, config, card, updates, people, home, actors, viewers, announcing
    )
    return Deps(
        service=service,
        timeline=timeline,
        gateway=gateway,
        people=people,
        tasks=tasks,
        broadcast_channel=config.broadcast_channel,
        declaring=declaring,
        changes=changes,
        updates=updates,
        stakeholders=stakeholders,
        timeline_views=timeline_views,
        home=home,
        drills=Drills(drills, declaring, stakeholders, gateway, card),
        reviewing=Reviewing(lessons, knowledge_base, timeline_views, gateway, actors, viewers),
        followups=FollowUps(service, items, lessons, gateway, people, card, actors, viewers),
        knowledge=knowledge,
        triage=build_triage(settings, service.db, gateway, declaring, tasks),
        paging=build_paging(service, changes, declaring, gateway, config),
    )


def add_web_routes(app: web.Application, settings: Settings, runtime: Runtime) -> None:
    """/healthz, the status page, /metrics and the alert intake."""
    severities = tuple(dict.fromkeys(s for p in settings.playbooks for s in p.severity_names))
    status = StatusReader(runtime.db, runtime.service.clock, readable=runtime.people.read_plainly)
    add_routes(app, WebDeps(runtime.db, status, runtime.metrics, severities, runtime.numbers))
    add_alert_routes(app, runtime.triage, settings.alerts_token)


def create_web_app(settings: Settings, clock: Callable[[], datetime] = utcnow) -> web.Application:
    runtime = build_runtime(settings, clock)
    bolt = create_bolt_app(runtime.deps)
    app = web.Application()
    app[RUNTIME] = runtime
    if settings.signing_secret:
        app.router.add_post("/slack/events", slack_events_route(bolt, settings.signing_secret))
    bolt.use(observe_requests(runtime.metrics, runtime.deps.timeline.known_incident))
    add_web_routes(app, settings, runtime)

    async def lifecycle(_: web.Application):
        await runtime.gateway.open()
        try:
            runtime.people.workspace_url = await runtime.gateway.check_bot_token()
            if settings.auto_migrate:
                await runtime.db.upgrade_schema()
            else:
                await require_current(runtime.db.engine)
            # Where each war room's record ends, noted before any event can arrive.
            await runtime.backfill.start("startup")
            socket_mode = await connect_socket_mode(
                bolt, settings.app_token, on_reconnect=partial(runtime.backfill.start, "reconnect")
            )
            runtime.scheduler.start()
            await runtime.triage.resume()
        except BaseException:
            await runtime.backfill.stop()
            await runtime.scheduler.shutdown()
            await runtime.gateway.close()
            await runtime.db.dispose()
            raise
        yield
        await runtime.backfill.stop()
        await runtime.scheduler.shutdown()
        if socket_mode is not None:
            await socket_mode.close_async()
        runtime.deps.home.stop()
        await runtime.tasks.drain()
        await runtime.gateway.close()
        await runtime.db.dispose()

    app.cleanup_ctx.append(lifecycle)
    return app


async def start_on_loopback(
    settings: Settings, clock: Callable[[], datetime] = utcnow
) -> tuple[web.AppRunner, Runtime, str]:
    """The real app on 127.0.0.1 and a free port (demo, tests, benchmarks); returns its URL."""
    app = create_web_app(settings, clock)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = site._server.sockets[0].getsockname()[:2]
    return runner, app[RUNTIME], f"http://{host}:{port}"


def freeze_startup_heap() -> None:
    """Leave what startup made (modules, playbooks, listeners) out of the garbage collector's
    full passes: they would scan it all again and again, pausing request handling."""
    gc.collect()
    gc.freeze()


async def serve_forever(settings: Settings, host: str = "0.0.0.0") -> None:
    # The port first: when another process holds it, startup stops before anything started
    # (a scheduler tick, a backfill) has to be stopped again.
    try:
        listening = socket.create_server((host, settings.port), backlog=BACKLOG)
    except OSError as error:  # most often another process already listens on the port
        raise ConfigError([listen_problem(host, settings.port, error)]) from error
    runner = web.AppRunner(create_web_app(settings), access_log=None)
    try:
        await runner.setup()
    except BaseException:
        listening.close()
        raise
    freeze_startup_heap()
    try:
        await web.SockSite(runner, listening).start()
        log.info(
            "warroom listening on %s:%s (POST /slack/events, GET /healthz, /status)",
            host,
            settings.port,
        )
        # Platforms stop a process with SIGTERM (a deploy, a scale-down): finish what was
        # acknowledged to Slack before exiting, as for Ctrl-C. Python's default would just die.
        stopping = asyncio.Event()
        for stop_signal in (signal.SIGTERM, signal.SIGINT):
            asyncio.get_running_loop().add_signal_handler(stop_signal, stopping.set)
        await stopping.wait()
        log.info("stopping: finishing the work already acknowledged to Slack")
    finally:
        await runner.cleanup()
