"""Timeline ingest: signed message events to one war room at increasing rates.

Reports the rate offered, entries stored per second (counted in the database afterwards)
and ack latency. Each event is committed before its 200 goes out, so the ack latency
includes the write.

    python bench/ingest.py [--seconds 10] [--rates 250,500,1000,1500] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time

from ack_latency import (
    SECRET,
    bench_database_url,
    free_port,
    open_loop,
    signed,
    start_server,
    summary,
)
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import text

from bot.store import Database

WAR_ROOM = "C00000000"  # seeded by the warroom server of ack_latency.py


def signed_event(verifier: SignatureVerifier, n: int, run: int) -> tuple[bytes, dict]:
    ts = f"{1_800_000_000 + run}.{n:06d}"
    body = json.dumps(
        {
            "type": "event_callback",
            "team_id": "TBENCH",
            "event_id": f"EvBENCH{run:02d}{n:07d}",
            "event_time": int(time.time()),
            "event": {
                "type": "message",
                "channel": WAR_ROOM,
                "user": "UBENCH0001",
                "text": f"Event {n}: error rate still 12%, looking at the load balancer logs",
                "ts": ts,
                "event_ts": ts,
                "channel_type": "channel",
            },
        }
    )
    return signed(verifier, body, "application/json")


async def offer(url: str, rate: int, seconds: float, run: int) -> tuple[list[float], float]:
    """One rate's run; its messages are `run`'s, its warm-up's are `run + 50`'s."""
    verifier = SignatureVerifier(SECRET)
    requests = [signed_event(verifier, n, run) for n in range(int(rate * seconds))]
    warm_up = [signed_event(verifier, n, run + 50) for n in range(100)]
    return await open_loop(url, requests, rate, warm_up=warm_up)


async def stored(database: Database, run: int) -> int:
    async with database.snapshot_read() as session:
        result = await session.exec(
            text(
                "SELECT count(*) FROM timelineentry WHERE kind = 'message' AND message_ts LIKE :p"
            ),
            params={"p": f"{1_800_000_000 + run}.%"},
        )
        return result.scalar_one()


async def main_async(args) -> None:
    with tempfile.TemporaryDirectory() as workdir:
        fake, slack_url = start_server("fake", free_port(), workdir)
        port = free_port()
        bot, _ = start_server("warroom", port, workdir, slack_url, args.database_url)
        url = f"http://127.0.0.1:{port}/slack/events"
        database = Database(bench_database_url(workdir, args.database_url))
        engine = "SQLite" if database.is_sqlite else database.engine.dialect.name
        print(f"ingest into one war room on {engine}, {args.seconds:.0f} s per rate")
        try:
            for run, rate in enumerate((int(r) for r in args.rates.split(",")), start=1):
                latencies, elapsed = await offer(url, rate, args.seconds, run)
                per_second = await stored(database, run) / elapsed
                print(
                    f"{rate:5d} events/s offered  {per_second:7.0f} stored/s  ack {summary(latencies)}",
                    flush=True,
                )
        finally:
            await database.dispose()
            for process in (bot, fake):
                process.terminate()
                process.wait()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--rates", default="250,500,1000,1500")
    parser.add_argument(
        "--database-url", default="", help="e.g. postgresql+asyncpg://…; default: SQLite"
    )
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
