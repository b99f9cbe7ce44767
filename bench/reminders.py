"""Reminders at scale: 1,000 open major incidents whose stakeholder updates fall due at
the same moment. How late is the last draft posted after its due time, and what does the
scheduler cost when there is nothing to do?

    python bench/reminders.py [--incidents 1000] [--idle-seconds 20]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from datetime import UTC, datetime, timedelta

from ack_latency import free_port, start_server
from sqlalchemy import update

from bot.config import load_settings
from bot.server import start_on_loopback
from bot.simulator import wait_for
from bot.store.models import Incident


async def main_async(count: int, idle_seconds: float) -> None:
    with tempfile.TemporaryDirectory() as workdir:
        # Slack's side runs in its own process, as the real one is on another machine.
        fake, slack_url = start_server("fake", free_port(), workdir)
        settings = load_settings(
            {
                "SLACK_BOT_TOKEN": "xoxb-bench",
                "SLACK_SIGNING_SECRET": "bench",
                "SLACK_API_URL": f"{slack_url}/api/",
                "DATABASE_URL": f"sqlite+aiosqlite:///{workdir}/bench.db",
            }
        )
        runner, runtime, _ = await start_on_loopback(settings)
        service = runtime.service
        posted_at: list[float] = []
        post = runtime.deps.updates.post_draft_message

        async def timed_post(draft, **how):
            ts = await post(draft, **how)
            posted_at.append(time.monotonic())  # the draft is in its war room
            return ts

        runtime.deps.updates.post_draft_message = timed_post
        channels = await create_channels(slack_url, count)
        for n, channel in enumerate(channels):
            snapshot = await service.declare(title=f"Outage {n}", declared_by="U1", severity="SEV2")
            await service.attach_channel(snapshot.id, channel, f"inc-{n}")
        due = datetime.now(UTC) + timedelta(seconds=3)
        due_monotonic = time.monotonic() + (due - datetime.now(UTC)).total_seconds()
        async with runtime.db.transaction() as session:
            await session.exec(update(Incident).values(next_update_due=due))

        await wait_for(lambda: len(posted_at) >= count, timeout=120, what="all drafts")
        print(
            f"{count} incidents due at once: first draft {min(posted_at) - due_monotonic:+.2f} s, "
            f"last draft {max(posted_at) - due_monotonic:+.2f} s after the due time"
        )

        await asyncio.sleep(5)  # let the last writes settle before measuring idle
        cpu, wall = time.process_time(), time.monotonic()
        await asyncio.sleep(idle_seconds)  # measuring the idle scheduler: nothing is due
        share = (time.process_time() - cpu) / (time.monotonic() - wall) * 100
        print(
            f"idle (1,000 drafts waiting, nothing due), {idle_seconds:.0f} s: {share:.2f}% of one core"
        )
        assert len(posted_at) == count, "a reminder fired twice"
        await runner.cleanup()
        fake.terminate()
        fake.wait()


async def create_channels(slack_url: str, count: int) -> list[str]:
    """War rooms in the fake Slack, created the way the bot creates them."""
    from slack_sdk.web.async_client import AsyncWebClient

    client = AsyncWebClient(token="xoxb-bench", base_url=f"{slack_url}/api/")
    channels = []
    for n in range(count):
        response = await client.conversations_create(name=f"inc-bench-{n}")
        channels.append(response["channel"]["id"])
    return channels


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--incidents", type=int, default=1000)
    parser.add_argument("--idle-seconds", type=float, default=20)
    args = parser.parse_args()
    asyncio.run(main_async(args.incidents, args.idle_seconds))


if __name__ == "__main__":
    main()
