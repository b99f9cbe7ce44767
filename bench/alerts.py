"""Alert storm: 1,000 Alertmanager notifications in 10 s across 50 groups, open-loop.

Reports the webhook's latency (each notification is stored before its 200), how many
triage messages and edits reached the alerts channel, the most Slack writes the channel
got in any one second, and how long after the last notification every message showed
its group's last state. The bot runs as a process of its own (`python -m bot`, as in
production, `--replicas 2` for two on one database); the sender and the fake Slack run
here, so their work is not counted as the bot's latency.

    python bench/alerts.py [--notifications 1000] [--seconds 10] [--groups 50]
                           [--replicas 1] [--database-url postgresql+asyncpg://…]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import yaml

from bot.simulator import FakeSlack, wait_for
from bot.store import Database
from bot.store.migrate import drop_all_tables

TOKEN = "bench-alerts-token"
WARM_UP = 5  # notifications to a group of their own before the storm, per replica


def notification(group: int, alerts: int) -> dict:
    name = f"Storm{group}"
    items = [
        {
            "status": "firing",
            "labels": {"alertname": name, "instance": f"host-{i}", "severity": "critical"},
            "annotations": {"summary": f"{name} fires", "description": "Bench"},
            "startsAt": "2026-11-25T21:00:00Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus:9090/graph",
            "fingerprint": f"{group:04x}{i:012x}",
        }
        for i in range(alerts)
    ]
    return {
        "version": "4",
        "groupKey": f'{{}}:{{alertname="{name}"}}',
        "status": "firing",
        "receiver": "warroom",
        "groupLabels": {"alertname": name},
        "commonLabels": {"alertname": name, "severity": "critical"},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093",
        "truncatedAlerts": 0,
        "alerts": items,
    }


def workload(total: int, groups: int) -> list[dict]:
    """Round-robin over the groups; each round a group's notification carries one more
    alert (up to 10), so later rounds are partly changes, partly repeats."""
    return [notification(n % groups, min(n // groups, 9) + 1) for n in range(total)]


def percentiles(times: list[float]) -> str:
    if not times:
        return "none"
    times = sorted(times)
    return (
        f"p50 {statistics.median(times) * 1000:.1f} ms, "
        f"p99 {times[max(0, int(len(times) * 0.99) - 1)] * 1000:.1f} ms, "
        f"max {times[-1] * 1000:.1f} ms"
    )


def busiest_second(times: list[float]) -> int:
    times = sorted(times)
    best, start = 0, 0
    for end, moment in enumerate(times):
        while moment - times[start] >= 1.0:
            start += 1
        best = max(best, end - start + 1)
    return best


def environment_for(workdir: Path, fake: FakeSlack, alerts_channel: str, database_url: str):
    playbooks = workdir / "playbooks"
    playbooks.mkdir()
    (playbooks / "default.yaml").write_text(
        yaml.safe_dump({"name": "default", "severities": {"SEV1": {"description": "Down"}}})
    )
    config = workdir / "config.yaml"
    config.write_text(
        yaml.safe_dump({"alerts_channel": alerts_channel, "playbooks_dir": str(playbooks)})
    )
    return {
        "SLACK_BOT_TOKEN": "xoxb-bench",
        "SLACK_SIGNING_SECRET": "bench-secret",
        "SLACK_API_URL": fake.api_url,
        "DATABASE_URL": database_url,
        "BOT_CONFIG": str(config),
        "ALERTS_TOKEN": TOKEN,
    }


async def start_bot(env: dict, log_path: Path) -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot"],
            env={**os.environ, **env, "PORT": str(port)},
            stdout=log,
            stderr=log,
        )
    url = f"http://127.0.0.1:{port}"

    async def healthy() -> bool:
        try:
            async with aiohttp.ClientSession() as session, session.get(f"{url}/healthz") as r:
                return r.status == 200
        except aiohttp.ClientError:
            return False

    await wait_for(healthy, timeout=30, what=f"the bot to start (see {log_path})")
    return process, url


async def empty_database(database_url: str) -> None:
    db = Database(database_url)
    await drop_all_tables(db.engine)
    await db.dispose()


async def send_all(urls: list[str], bodies: list[bytes], seconds: float) -> dict[bool, list[float]]:
    """Open loop: each notification leaves at its planned time, answered or not, to each
    replica in turn. Returns the latencies of notifications that changed something (True)
    and of repeats (False)."""
    latencies: dict[bool, list[float]] = {True: [], False: []}
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    loop = asyncio.get_running_loop()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=200)) as session:

        async def one(url: str, body: bytes) -> None:
            started = loop.time()
            async with session.post(f"{url}/alerts/alertmanager", data=body, headers=headers) as r:
                answer = await r.json()
                assert r.status == 200, r.status
            latencies[answer["changed"]].append(loop.time() - started)

        begin, sending = loop.time(), []
        for n, body in enumerate(bodies):
            delay = begin + n * seconds / len(bodies) - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            sending.append(asyncio.create_task(one(urls[n % len(urls)], body)))
        await asyncio.gather(*sending)
    return latencies


async def warm_up(fake: FakeSlack, channel: str, urls: list[str], notifications: int) -> None:
    """A few changes to a group of their own on each replica, before the measured storm:
    a process's first requests open its pooled connections and fill its statement caches
    (on PostgreSQL the first ten took up to 55 ms, the rest a few)."""
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    async with aiohttp.ClientSession() as session:
        for url in urls:
            for n in range(notifications):
                body = notification(0, n + 1) | {"groupKey": "warm-up"}
                async with session.post(f"{url}/alerts/alertmanager", json=body, headers=headers):
                    pass
    if notifications:
        await wait_for(lambda: fake.messages(channel), what="the warm-up's triage message")


async def main_async(
    total: int, seconds: float, groups: int, replicas: int, database_url: str | None
) -> None:
    fake = await FakeSlack().start()
    alerts_channel = fake.add_channel("alerts")
    with tempfile.TemporaryDirectory() as workdir:
        database_url = database_url or f"sqlite+aiosqlite:///{workdir}/bench.db"
        await empty_database(database_url)
        env = environment_for(Path(workdir), fake, alerts_channel, database_url)
        bots = [await start_bot(env, Path(workdir) / f"bot{n}.log") for n in range(replicas)]
        try:
            urls = [url for _, url in bots]
            await warm_up(fake, alerts_channel, urls, WARM_UP)
            bodies = [json.dumps(b).encode() for b in workload(total, groups)]
            storm_began = time.monotonic()
            gc.collect()
            gc.disable()  # the sender's own collector pauses would count as the bot's latency
            latencies = await send_all(urls, bodies, seconds)
            gc.enable()
            last_sent = time.monotonic()
            await wait_for(
                lambda: settled(fake, alerts_channel, groups),
                timeout=300,
                what="every triage message at its last state",
            )
            caught_up = time.monotonic() - last_sent
        finally:
            for process, _ in bots:
                process.terminate()
                process.wait()
    await fake.stop()
    writes = [
        c
        for c in fake.calls
        if c.method in ("chat.postMessage", "chat.update")
        and c.params.get("channel") == alerts_channel
        and c.at >= storm_began
    ]
    report(writes, total, seconds, groups, replicas, latencies, caught_up)


def settled(fake: FakeSlack, channel: str, groups: int) -> bool:
    messages = fake.messages(channel)
    shown = sum("10 of 10 alerts firing" in json.dumps(m.get("blocks")) for m in messages)
    return len(messages) == groups + bool(WARM_UP) and shown == groups


def report(writes, total, seconds, groups, replicas, latencies, caught_up) -> None:
    posts = sum(c.method == "chat.postMessage" for c in writes)
    print(f"{total} notifications in {seconds:.0f} s across {groups} groups, {replicas} replica(s)")
    every = latencies[True] + latencies[False]
    for label, times in (
        ("all", every),
        ("changes", latencies[True]),
        ("repeats", latencies[False]),
    ):
        print(f"webhook, {label} ({len(times)}): {percentiles(times)}")
    print(
        f"alerts channel: {posts} triage messages, {len(writes) - posts} edits, "
        f"at most {busiest_second([c.at for c in writes])} writes in any one second; "
        f"every message at its last state {caught_up:.1f} s after the last notification"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notifications", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--groups", type=int, default=50)
    parser.add_argument("--replicas", type=int, default=1)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    asyncio.run(
        main_async(args.notifications, args.seconds, args.groups, args.replicas, args.database_url)
    )


if __name__ == "__main__":
    main()
