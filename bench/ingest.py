"""Timeline ingest: signed message events to one war room at increasing rates.

Reports the rate offered, new entries stored per second (counted in the database
afterwards; edits change entries rather than add them) and ack latency. Each event is committed before its 200 goes out, so the ack latency
includes the write.

    python bench/ingest.py [--seconds 10] [--rates 250,500,1000,1500] [--edits 10]
                           [--database-url URL]
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
    message = {
        "type": "message",
        "channel": WAR_ROOM,
        "user": "UBENCH0001",
        "text": f"Event {n}: error rate still 12%, looking at the load balancer logs",
        "ts": ts,
        "event_ts": ts,
        "channel_type": "channel",
    }
    return signed(verifier, envelope(message, n, run), "application/json")


def signed_edit(verifier: SignatureVerifier, n: int, run: int) -> tuple[bytes, dict]:
    """Event `n` edits message `n - 1`, as Slack sends it (`message_changed`)."""
    edited_ts, ts = f"{1_800_000_000 + run}.{n:06d}", f"{1_800_000_000 + run}.{n - 1:06d}"
    change = {
        "type": "message",
        "subtype": "message_changed",
        "channel": WAR_ROOM,
        "hidden": True,
        "ts": edited_ts,
        "event_ts": edited_ts,
        "channel_type": "channel",
        "message": {
            "type": "message",
            "user": "UBENCH0001",
            "text": f"Event {n - 1}, corrected: error rate down to 8%",
            "ts": ts,
            "edited": {"user": "UBENCH0001", "ts": edited_ts},
        },
    }
    return signed(verifier, envelope(change, n, run), "application/json")


def envelope(event: dict, n: int, run: int) -> str:
    return json.dumps(
        {
            "type": "event_callback",
            "team_id": "TBENCH",
            "event_id": f"EvBENCH{run:02d}{n:07d}",
            "event_time": int(time.time()),
            "event": event,
        }
    )


async def offer(
    url: str, rate: int, seconds: float, run: int, edit_every: int
) -> tuple[list[float], float]:
    """One rate's run; its messages are `run`'s, its warm-up's are `run + 50`'s. Every
    `edit_every`-th event (if any) edits the message before it instead of posting one."""
    verifier = SignatureVerifier(SECRET)
    requests = [
        signed_edit(verifier, n, run)
        if edit_every and n % edit_every == edit_every - 1
        else signed_event(verifier, n, run)
        for n in range(int(rate * seconds))
    ]
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
        edit_every = round(100 / args.edits) if args.edits else 0
        mix = f", {args.edits:g} % of events edits" if edit_every else ""
        print(f"ingest into one war room on {engine}, {args.seconds:.0f} s per rate{mix}")
        try:
            for run, rate in enumerate((int(r) for r in args.rates.split(",")), start=1):
                latencies, elapsed = await offer(url, rate, args.seconds, run, edit_every)
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
    parser.add_argument(
        "--edits", type=float, default=0, help="percent of events that edit a message"
    )
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
