"""Backfill after downtime: open war rooms with messages the bot missed while it was down,
Slack answering at 100 ms a call with Tier 3 limits (50 a minute per method, in bursts).

Measures the time from the restarted bot answering /healthz until every room's timeline
is complete, and the ack latency of live message events sent meanwhile (`--rate` a
second, whole seconds of them until the timelines are complete) and, for comparison, of
as many once the backfill is done.

    python bench/backfill.py [--rooms 50] [--messages 500] [--threads 1] [--rate 50]

The fake Slack and the bot run as processes of their own (`python -m bot`, SQLite), so the
load generator's work does not show in either.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from ack_latency import free_port, open_loop, signed, summary
from slack_sdk.signature import SignatureVerifier

ROOT = Path(__file__).resolve().parent.parent
SECRET = "bench-secret"
REPLIES_PER_THREAD = 10
TIER3 = 50


async def serve_fake(port: int, rooms: int, messages: int, threads: int) -> None:
    """Slack, with every room's missed messages already said (no events sent)."""
    from bot.simulator import FakeSlack

    fake = FakeSlack(latency=0.1)
    fake.add_user("UBENCH0001", "bench")
    for method in ("conversations.history", "conversations.replies"):
        fake.limit_rate(method, per_minute=TIER3)
    channels = []
    for room in range(rooms):
        channel = fake.add_channel(f"inc-bench-{room}", ["UBENCH0001"])
        channels.append(channel)
        top_level = messages - threads * REPLIES_PER_THREAD
        for n in range(top_level):
            ts = fake.workspace.say(channel, "UBENCH0001", f"missed {n} &amp; counting")
            if n < threads:
                for reply in range(REPLIES_PER_THREAD):
                    fake.workspace.say(channel, "UBENCH0001", f"reply {reply}", thread_ts=ts)
    await fake.start(port=port)
    print("ready " + json.dumps({"url": fake.url, "channels": channels}), flush=True)
    await asyncio.Event().wait()


async def declare_rooms(database_url: str, channels: list[str], declared_before: float) -> None:
    """The open incidents the bot had before it went down (declared before anything missed)."""
    from datetime import UTC, datetime

    from bot.incidents import IncidentService
    from bot.playbooks import load_playbooks
    from bot.store import Database

    db = Database(database_url)
    await db.upgrade_schema()
    declared_at = datetime.fromtimestamp(declared_before - 60, UTC)
    service = IncidentService(db, load_playbooks(ROOT / "playbooks"), lambda: declared_at)
    for n, channel in enumerate(channels):
        incident = await service.declare(title=f"Bench {n}", declared_by="U1", severity="SEV3")
        await service.attach_channel(incident.id, channel, f"inc-bench-{n}")
    await db.dispose()


async def filled_counts(database_url: str) -> dict[int, int]:
    from sqlalchemy import func
    from sqlmodel import col, select

    from bot.store import Database
    from bot.store.models import TimelineEntry

    db = Database(database_url)
    try:
        async with db.snapshot_read() as session:
            rows = await session.exec(
                select(TimelineEntry.incident_id, func.count())
                .where(col(TimelineEntry.from_history).is_(True))
                .group_by(TimelineEntry.incident_id)
            )
            return dict(rows.all())
    finally:
        await db.dispose()


def live_events(channel: str) -> Iterator[tuple[bytes, dict]]:
    verifier = SignatureVerifier(SECRET)
    base = time.time() + 3600  # after every missed message
    for n in itertools.count():
        ts = f"{base + n / 1000:.6f}"
        body = {
            "type": "event_callback",
            "team_id": "T0000WARROOM",
            "api_app_id": "A0WARROOM",
            "event_id": f"EvBENCH{n:06d}",
            "event_time": int(time.time()),
            "event": {
                "type": "message",
                "channel": channel,
                "user": "UBENCH0001",
                "text": f"live {n}",
                "ts": ts,
                "event_ts": ts,
                "channel_type": "channel",
            },
        }
        yield signed(verifier, json.dumps(body), "application/json")


async def until_complete(
    database_url: str, rooms: int, messages: int, started: float, deadline: float = 900
) -> float:
    while time.perf_counter() - started < deadline:
        counts = await filled_counts(database_url)
        if len(counts) == rooms and all(c >= messages for c in counts.values()):
            return time.perf_counter() - started
        await asyncio.sleep(0.25)
    raise SystemExit(f"not complete after {deadline:.0f} s: {counts}")


async def start_bot(env: dict, port: int, log_path: Path) -> subprocess.Popen:
    import aiohttp

    log = log_path.open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "bot"],
        env={**os.environ, **env, "PORT": str(port)},
        stdout=log,
        stderr=log,
        cwd=ROOT,
    )
    async with aiohttp.ClientSession() as session:
        for _ in range(400):
            try:
                async with session.get(f"http://127.0.0.1:{port}/healthz") as response:
                    if response.status == 200:
                        return process
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.05)
    process.kill()
    raise SystemExit(f"the bot did not start; see {log_path}")


async def main_async(args) -> None:
    with tempfile.TemporaryDirectory() as workdir:
        database_url = f"sqlite+aiosqlite:///{workdir}/bench.db"
        fake = subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--serve-fake",
                "--rooms",
                str(args.rooms),
                "--messages",
                str(args.messages),
                "--threads",
                str(args.threads),
            ],
            stdout=subprocess.PIPE,
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        bot = None
        try:
            word, _, scene = fake.stdout.readline().decode().partition(" ")
            if word != "ready":
                raise SystemExit("the fake Slack did not start")
            scene = json.loads(scene)
            first_missed = time.time() - 3600  # everything the fake holds is later than this
            await declare_rooms(database_url, scene["channels"], first_missed)
            (Path(workdir) / "config.yaml").write_text(f"playbooks_dir: {ROOT / 'playbooks'}\n")
            env = {
                "SLACK_BOT_TOKEN": "xoxb-bench",
                "SLACK_SIGNING_SECRET": SECRET,
                "SLACK_API_URL": scene["url"] + "/api/",
                "DATABASE_URL": database_url,
                "BOT_CONFIG": f"{workdir}/config.yaml",
            }
            port = free_port()
            log_path = Path(workdir) / "bot.log"
            bot = await start_bot(env, port, log_path)
            started = time.perf_counter()
            url = f"http://127.0.0.1:{port}/slack/events"
            complete = asyncio.create_task(
                until_complete(database_url, args.rooms, args.messages, started)
            )
            events = live_events(scene["channels"][0])
            during: list[float] = []
            while not complete.done():  # a second of live events at a time, until complete
                second = [next(events) for _ in range(args.rate)]
                during += (await open_loop(url, second, args.rate))[0]
            took = await complete
            after, _ = await open_loop(url, [next(events) for _ in range(len(during))], args.rate)
            print(
                f"{args.rooms} rooms x {args.messages} missed messages ({args.threads} thread(s) "
                f"of {REPLIES_PER_THREAD} replies each), Slack at 100 ms a call, Tier 3 limits"
            )
            print(f"every timeline complete after {took:.1f} s")
            print(f"live events during the backfill: {summary(during)}")
            print(f"live events after it:            {summary(after)}")
            for line in log_path.read_text().splitlines():
                if "history backfill (" in line:
                    print("bot log:", line.strip()[-160:])
        finally:
            for process in (fake, bot):
                if process is not None:
                    process.terminate()
                    process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rooms", type=int, default=50)
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--threads", type=int, default=1, help="threads per room")
    parser.add_argument("--rate", type=int, default=50, help="live events per second")
    parser.add_argument("--serve-fake", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_fake:
        asyncio.run(serve_fake(0, args.rooms, args.messages, args.threads))
    else:
        asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
