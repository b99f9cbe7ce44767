"""A million-entry timeline: the review and the export must not hold up anyone else.

Seeds one resolved incident with N timeline entries (a bulk insert), starts the bot
(`python -m bot`, SQLite) and the fake Slack each in a process of their own, then:
  - runs `/incident report` and then `timeline export` while signed `/incident list` and
    `help` arrive open-loop at --rate per second, and measures their ack latency, the time
    until the file is shared in the war room, and the bot process's memory (resident set:
    before, peak during, and a few seconds after), with the peak of its worker processes;
  - times gathering the numbers of `/incident stats` (all three windows);
  - times the timeline view: `/incident timeline` (page 1) and jumps by page number, then
    clicks on ◀ ▶ reaching the middle and the last page (a seek from the page in hand),
    from the signed request to the answer arriving at its response URL.

    python bench/big_timeline.py [--entries 1000000] [--rate 50] [--pages-only]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import aiohttp
from aiohttp import web
from slack_sdk.signature import SignatureVerifier

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.ack_latency import free_port, open_loop, signed  # noqa: E402

SECRET = "bench-secret"
ROOT = Path(__file__).resolve().parent.parent
PEOPLE = [f"UBENCH{n:04d}" for n in range(20)]
PAGE_ENTRIES = 25  # the timeline view's page size


# -- the fake Slack, in its own process ----------------------------------------------------


async def serve_fake(port: int) -> None:
    """Prints `ready <url> <war room>`, then `shared <file name> <bytes>` for each file shared."""
    from bot.simulator import FakeSlack

    fake = await FakeSlack().start(port=port)
    for user in PEOPLE:
        fake.add_user(user, f"person-{user[-4:]}")
    room = fake.add_channel("inc-big", PEOPLE)
    print(f"ready {fake.url} {room}", flush=True)
    seen = 0
    while True:  # report each file share as it lands
        await asyncio.sleep(0.01)
        shared = [m for m in fake.messages(room) if m.get("files")]
        for message in shared[seen:]:
            for name in message["files"]:
                stored = [f for f in fake.workspace.files.values() if f["name"] == name]
                print(f"shared {name} {len(stored[-1]['content'])}", flush=True)
        seen = len(shared)


# -- seeding -------------------------------------------------------------------------------


async def seed(database_url: str, room: str, entries: int) -> int:
    """One incident, declared two days ago, with `entries` messages, then resolved."""
    from sqlalchemy import create_engine, insert

    from bot.config import load_settings
    from bot.incidents import IncidentService
    from bot.incidents.entries import Said, entry_row
    from bot.store import Database
    from bot.store.models import TimelineEntry

    declared = datetime.now(UTC) - timedelta(days=2)
    db = Database(database_url)
    await db.upgrade_schema()
    playbooks = load_settings({"SLACK_BOT_TOKEN": "x", "SLACK_SIGNING_SECRET": "x"}).playbooks
    service = IncidentService(db, playbooks, lambda: declared)
    incident = (await service.declare(title="Big one", declared_by=PEOPLE[0], severity="SEV1")).id
    await service.attach_channel(incident, room, "inc-big")
    engine = create_engine(database_url.replace("+aiosqlite", ""))
    with engine.begin() as connection:
        for start in range(0, entries, 20_000):
            rows = [
                entry_row(
                    incident,
                    declared + timedelta(milliseconds=100 * n),
                    Said(),
                    actor=PEOPLE[n % len(PEOPLE)],
                    text=f"step {n}: shard {n % 97} of checkout looks fine, <@{PEOPLE[n % 7]}>?",
                    key=n % 1000 == 0,
                    message_ts=f"{1700000000 + n // 10}.{n % 10:06d}",
                    thread_ts=f"{1700000000 + n // 10}.000000" if n % 10 == 3 else None,
                    permalink=f"https://bench.slack.com/archives/{room}/p{n}",
                )
                for n in range(start, min(start + 20_000, entries))
            ]
            connection.execute(insert(TimelineEntry.__table__), rows)
    engine.dispose()
    service.clock = lambda: declared + timedelta(days=1)
    await service.resolve(incident, by=PEOPLE[0], summary="Seeded")
    await db.dispose()
    return incident


# -- measuring -----------------------------------------------------------------------------


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def children_rss_mb(pid: int) -> float:
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                total += rss_mb(int(entry.name))
        except (OSError, ValueError, IndexError):
            continue
    return total


class Responses:
    """The command answers' response URL: when each answer arrived."""

    def __init__(self):
        self.arrived: dict[str, float] = {}

    async def start(self) -> str:
        app = web.Application(client_max_size=64 * 1024**2)
        app.router.add_post("/response/{tag}", self._receive)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        port = free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        return f"http://127.0.0.1:{port}/response"

    async def _receive(self, request: web.Request) -> web.Response:
        await request.read()
        self.arrived[request.match_info["tag"]] = time.perf_counter()
        return web.Response(text="ok")


def command(verifier, text: str, channel: str, response_url: str) -> tuple[bytes, dict]:
    from urllib.parse import urlencode

    form = {
        "command": "/incident",
        "text": text,
        "user_id": PEOPLE[0],
        "channel_id": channel,
        "team_id": "TBENCH",
        "response_url": response_url,
        "trigger_id": "1.2.3",
    }
    return signed(verifier, urlencode(form), "application/x-www-form-urlencoded")


class Memory:
    """The bot's resident memory before and at its peak, and its workers' peak."""

    def __init__(self, pid: int):
        self.pid = pid
        self.before = rss_mb(pid)
        self.peak = {"bot": self.before, "workers": 0.0}
        self.done = asyncio.Event()

    async def sample(self) -> None:
        while not self.done.is_set():
            self.peak["bot"] = max(self.peak["bot"], rss_mb(self.pid))
            self.peak["workers"] = max(self.peak["workers"], children_rss_mb(self.pid))
            await asyncio.sleep(0.1)


async def document_under_load(args, bot, fake_lines, text: str, room: str, responses) -> None:
    """Run one document command while others arrive; print ack latency, time and memory."""
    url = f"http://127.0.0.1:{args.port}/slack/events"
    verifier = SignatureVerifier(SECRET)

    def load() -> list[tuple[bytes, dict]]:  # signed afresh: a signature lasts five minutes
        return [command(verifier, t, "CGENERAL1", f"{responses}/load") for t in ("list", "help")]

    memory = Memory(bot.pid)

    async def shared() -> str:
        line = await fake_lines.get()
        memory.done.set()
        if line is None:
            raise SystemExit("the fake Slack stopped")
        return line

    sampler = asyncio.create_task(memory.sample())
    start = time.perf_counter()
    async with aiohttp.ClientSession() as session:
        body, headers = command(verifier, text, room, f"{responses}/doc")
        async with session.post(url, data=body, headers=headers) as response:
            assert response.status == 200
    waiting = asyncio.create_task(shared())
    latencies: list[float] = []
    while not waiting.done():  # one second of load at a time until the file is shared
        pair = load()
        batch, _ = await open_loop(url, [pair[n % 2] for n in range(args.rate)], args.rate, pair)
        latencies += batch
    elapsed = time.perf_counter() - start
    await sampler
    await asyncio.sleep(5)
    after, before, peak = rss_mb(bot.pid), memory.before, memory.peak
    ms = sorted(x * 1000 for x in latencies)
    p99 = statistics.quantiles(ms, n=100)[98]
    print(
        f"{text:16s} {waiting.result().split()[2]:>11s} bytes in {elapsed:6.1f} s | other acks "
        f"p50 {statistics.median(ms):5.1f} ms p99 {p99:6.1f} ms max {ms[-1]:6.1f} ms "
        f"(n={len(ms)}) | bot RSS {before:.0f} MB, peak {peak['bot']:.0f} (+"
        f"{peak['bot'] - before:.0f}), 5 s after {after:.0f} | workers' peak "
        f"{peak['workers']:.0f} MB",
        flush=True,
    )


def interaction(verifier, value: str, channel: str, response_url: str) -> tuple[bytes, dict]:
    """A click on the timeline's ◀ or ▶, as Slack signs and sends it."""
    import json
    from urllib.parse import urlencode

    payload = {
        "type": "block_actions",
        "user": {"id": PEOPLE[0]},
        "team": {"id": "TBENCH"},
        "channel": {"id": channel},
        "container": {"type": "message", "is_ephemeral": True},
        "response_url": response_url,
        "trigger_id": "1.2.3",
        "actions": [{"action_id": "timeline_page", "type": "button", "value": value}],
    }
    body = urlencode({"payload": json.dumps(payload)})
    return signed(verifier, body, "application/x-www-form-urlencoded")


def page_turns(database_url: str, incident: int, pages: int) -> list[tuple[str, str]]:
    """The button values of the clicks measured: where a page begins or ends is read from
    the database here (the bot put it in the buttons of the page the reader had)."""
    from sqlalchemy import create_engine, text

    from bot.incidents.timeline import PageTurn
    from bot.slack.blocks.timeline import page_value

    engine = create_engine(database_url.replace("+aiosqlite", ""))

    def entry(n: int) -> PageTurn:
        query = text(
            "SELECT at, id FROM timelineentry WHERE incident_id = :incident AND deleted = 0 "
            "ORDER BY at, id LIMIT 1 OFFSET :n"
        )
        with engine.connect() as connection:
            at, entry_id = connection.execute(query, {"incident": incident, "n": n}).one()
        at = datetime.fromisoformat(at).replace(tzinfo=UTC)
        return PageTurn(0, at, entry_id, later=True)

    def turn(number: int, edge: int, later: bool) -> str:
        found = entry(edge)
        return page_value(incident, PageTurn(number, found.at, found.entry_id, later))

    middle = pages // 2
    turns = [
        (f"▶ to {middle} (middle)", turn(middle, (middle - 1) * PAGE_ENTRIES - 1, True)),
        (f"◀ to {middle} (middle)", turn(middle, middle * PAGE_ENTRIES, False)),
        (f"▶ to {pages} (last)", turn(pages, (pages - 1) * PAGE_ENTRIES - 1, True)),
        (f"◀ to {pages - 1}", turn(pages - 1, (pages - 1) * PAGE_ENTRIES, False)),
        ("◀ to 1 (first)", turn(1, PAGE_ENTRIES, False)),
    ]
    engine.dispose()
    return turns


async def timeline_pages(args, room: str, responses: Responses, response_url: str) -> None:
    """Each page five times, from the signed request to the answer at its response URL:
    the command's pages, then the clicks on ◀ ▶ that reach deep pages."""
    url = f"http://127.0.0.1:{args.port}/slack/events"
    verifier = SignatureVerifier(SECRET)
    pages = -(-(args.entries + 1) // PAGE_ENTRIES)  # the declaration is an entry too
    requests = [
        ("`timeline` (page 1)", partial(command, verifier, "timeline", room)),
        (
            f"`timeline {pages // 2}` (jump)",
            partial(command, verifier, f"timeline {pages // 2}", room),
        ),
        (f"`timeline {pages}` (jump)", partial(command, verifier, f"timeline {pages}", room)),
    ]
    for name, value in page_turns(args.database_url, args.incident, pages):
        requests.append((name, partial(interaction, verifier, value, room)))
    async with aiohttp.ClientSession() as session:
        for number, (name, request) in enumerate(requests):
            times = []
            for attempt in range(5):
                tag = f"page-{number}-{attempt}"
                body, headers = request(f"{response_url}/{tag}")
                start = time.perf_counter()
                async with session.post(url, data=body, headers=headers) as response:
                    assert response.status == 200
                while tag not in responses.arrived:
                    await asyncio.sleep(0.001)
                times.append((responses.arrived[tag] - start) * 1000)
            print(
                f"timeline {name:24s}: median {statistics.median(times):6.1f} ms,"
                f" max {max(times):6.1f} ms (5 runs, request to answer)",
                flush=True,
            )


async def gather_the_numbers(database_url: str) -> None:
    """`/incident stats` of every window, as the scheduler gathers them for the web."""
    from bot.config import load_settings
    from bot.incidents import IncidentService
    from bot.incidents.stats import LatestNumbers
    from bot.store import Database

    db = Database(database_url)
    playbooks = load_settings({"SLACK_BOT_TOKEN": "x", "SLACK_SIGNING_SECRET": "x"}).playbooks
    numbers, times = LatestNumbers(IncidentService(db, playbooks)), []
    for _ in range(5):
        started = time.perf_counter()
        await numbers.refresh()
        times.append((time.perf_counter() - started) * 1000)
    await db.dispose()
    print(
        f"the numbers of 30d, 90d and 365d: median {statistics.median(times):.1f} ms, "
        f"max {max(times):.1f} ms (5 runs)",
        flush=True,
    )


async def main_async(args) -> None:
    with tempfile.TemporaryDirectory() as workdir:
        fake = subprocess.Popen(
            [sys.executable, __file__, "--serve-fake", str(free_port())],
            stdout=subprocess.PIPE,
            cwd=ROOT,
        )
        _, slack_url, room = fake.stdout.readline().decode().split()
        database_url = f"sqlite+aiosqlite:///{workdir}/bench.db"
        started = time.perf_counter()
        args.incident = await seed(database_url, room, args.entries)
        args.database_url = database_url
        print(f"seeded {args.entries:,} entries in {time.perf_counter() - started:.0f} s")
        await gather_the_numbers(database_url)
        args.port = free_port()
        env = {
            **os.environ,
            "SLACK_BOT_TOKEN": "xoxb-bench",
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": f"{slack_url}/api/",
            "DATABASE_URL": database_url,
            "PORT": str(args.port),
            "PYTHONPATH": str(ROOT),
        }
        bot = subprocess.Popen([sys.executable, "-m", "bot"], cwd=workdir, env=env)
        lines: asyncio.Queue = asyncio.Queue()
        reader = asyncio.create_task(read_lines(fake, lines))
        try:
            await wait_healthy(args.port)
            responses = Responses()
            response_url = await responses.start()
            for text in () if args.pages_only else ("report", "timeline export"):
                await document_under_load(args, bot, lines, text, room, response_url)
            await timeline_pages(args, room, responses, response_url)
        finally:
            reader.cancel()
            for process in (bot, fake):
                process.terminate()
                process.wait()


async def read_lines(process: subprocess.Popen, into: asyncio.Queue) -> None:
    while True:
        line = await asyncio.to_thread(process.stdout.readline)
        if not line:
            await into.put(None)
            return
        await into.put(line.decode().strip())


async def wait_healthy(port: int) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(300):
            try:
                async with session.get(f"http://127.0.0.1:{port}/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise SystemExit("the bot did not start")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--rate", type=int, default=50, help="other requests per second")
    parser.add_argument("--pages-only", action="store_true", help="only the timeline pages")
    parser.add_argument("--serve-fake", type=int, metavar="PORT")
    args = parser.parse_args()
    if args.serve_fake:
        asyncio.run(serve_fake(args.serve_fake))
    else:
        asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
