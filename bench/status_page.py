"""The status page under a long history: 500 open and 10,000 past incidents, each with its
published stakeholder updates, seeded straight into the database. How long does `GET
/status` take? Target: p95 under 50 ms.

    python bench/status_page.py [--open 500] [--past 10000] [--requests 300]
                                [--database-url postgresql+asyncpg://…]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta

import aiohttp
from ack_latency import ROOT, bench_database_url, free_port, start_server
from sqlalchemy import delete, insert

from bot.incidents.status import StatusReader
from bot.render.status import status_page
from bot.store import Database
from bot.store.models import Incident, StakeholderUpdate

UPDATES_PER_INCIDENT = 3
SEVERITIES = ("SEV1", "SEV2", "SEV3", "SEV4")


def incident_rows(open_count: int, past_count: int, now: datetime) -> list[dict]:
    rows = []
    for n in range(1, open_count + past_count + 1):
        is_open = n <= open_count
        declared = now - timedelta(hours=random.uniform(1, 24 * 365))
        rows.append(
            {
                "id": n,
                "title": f"Checkout errors for customers in region {n} <b>&</b>",
                "impact": "",
                "severity": random.choice(SEVERITIES),
                "status": "investigating" if is_open else "closed",
                "playbook": "default",
                "private": n % 20 == 0,
                "channel_id": f"C{n:09d}",
                "channel_name": f"inc-{n}",
                "declared_by": "U1",
                "declared_at": declared if not is_open else now - timedelta(hours=2),
                "resolved_at": None if is_open else declared + timedelta(hours=3),
                "summary": "",
                "next_update_due": now + timedelta(minutes=30) if is_open else None,
            }
        )
    return rows


def update_rows(incidents: list[dict]) -> list[dict]:
    rows = []
    for incident in incidents:
        for k in range(UPDATES_PER_INCIDENT):
            at = incident["declared_at"] + timedelta(minutes=30 * (k + 1))
            text = f"Update {k + 1}: we are working on it.\n• Findings so far <@U123>"
            rows.append(
                {
                    "incident_id": incident["id"],
                    "status": "sent",
                    "final": False,
                    "text": text * 3,
                    "open_questions": [],
                    "created_at": at,
                    "decided_at": at,
                    "decided_by": "U2",
                    "escalated": False,
                }
            )
    return rows


async def seed(url: str, open_count: int, past_count: int) -> None:
    db = Database(url)
    await db.upgrade_schema()
    incidents = incident_rows(open_count, past_count, datetime.now(UTC))
    async with db.transaction() as session:
        for model in (StakeholderUpdate, Incident):
            await session.exec(delete(model))
        for start in range(0, len(incidents), 1000):
            chunk = incidents[start : start + 1000]
            await session.exec(insert(Incident), params=chunk)
            await session.exec(insert(StakeholderUpdate), params=update_rows(chunk))
    await db.dispose()


async def serve(slack_url: str, database_url: str) -> tuple[subprocess.Popen, str]:
    """`python -m bot` on the seeded database, as in production; ready when /healthz is."""
    port = free_port()
    env = {
        "SLACK_BOT_TOKEN": "xoxb-bench",
        "SLACK_SIGNING_SECRET": "bench",
        "SLACK_API_URL": f"{slack_url}/api/",
        "DATABASE_URL": database_url,
        "PORT": str(port),
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "bot"],
        cwd=ROOT,
        env={**os.environ, **env},
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    async with aiohttp.ClientSession() as session:
        for _ in range(200):
            with contextlib.suppress(aiohttp.ClientError):
                async with session.get(f"{url}/healthz") as response:
                    if response.status == 200:
                        return server, url
            await asyncio.sleep(0.1)  # polling for the server to come up
    server.kill()
    raise SystemExit("the bot did not start")


async def measure(url: str, requests: int) -> tuple[list[float], int]:
    async with aiohttp.ClientSession() as session:
        for _ in range(10):  # warm up: caches, the pool, the template
            async with session.get(url) as response:
                size = len(await response.read())
        latencies = []
        for _ in range(requests):
            started = time.perf_counter()
            async with session.get(url) as response:
                await response.read()
                assert response.status == 200, response.status
            latencies.append(time.perf_counter() - started)
    return latencies, size


async def unshared(database_url: str, times: int = 50) -> list[float]:
    """What a request costs when no recent page can be shared: the queries and the render."""
    db = Database(database_url)
    reader = StatusReader(db)
    latencies = []
    for _ in range(times):
        started = time.perf_counter()
        status_page(await reader.board())
        latencies.append(time.perf_counter() - started)
    await db.dispose()
    return latencies


def summary(latencies: list[float]) -> str:
    ms = sorted(x * 1000 for x in latencies)
    p = statistics.quantiles(ms, n=100)
    return f"p50 {p[49]:.1f} ms, p95 {p[94]:.1f} ms, p99 {p[98]:.1f} ms, max {ms[-1]:.1f} ms"


async def main_async(args) -> None:
    with tempfile.TemporaryDirectory() as workdir:
        database_url = bench_database_url(workdir, args.database_url)
        await seed(database_url, args.open, args.past)
        fake, slack_url = start_server("fake", free_port(), workdir)
        server, url = await serve(slack_url, database_url)
        try:
            print(f"{args.open} open and {args.past} past incidents, {args.requests} requests each")
            for path in ("/status", "/status.json", "/status.atom"):
                latencies, size = await measure(url + path, args.requests)
                print(f"GET {path:<13} {size / 1024:6.0f} KiB  {summary(latencies)}")
            print(f"unshared: query + render /status {summary(await unshared(database_url))}")
        finally:
            for process in (server, fake):
                process.terminate()
                process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--open", type=int, default=500)
    parser.add_argument("--past", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--database-url", default="")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
