"""One slow war room: its chat.postMessage calls are answered 429 with `Retry-After: 30`
(or never answered) while the updates of 20 other incidents fall due at the same instant.
How late are the other rooms' drafts, and the nudges that follow them?

    python bench/slow_room.py [--rooms 20] [--hang]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml
from sqlalchemy import update

from bot.config import load_settings
from bot.server import start_on_loopback
from bot.simulator import FakeSlack, wait_for
from bot.store.models import Incident

ESCALATE_AFTER = 3  # seconds: a draft left undecided this long nudges the commander


def playbook_folder(workdir: str) -> Path:
    folder = Path(workdir) / "playbooks"
    folder.mkdir()
    severity = {"description": "Down", "major": True, "update_every": "1h"}
    severity["escalate_after"] = f"{ESCALATE_AFTER}s"
    playbook = {"name": "default", "description": "Bench", "severities": {"SEV1": severity}}
    (folder / "default.yaml").write_text(yaml.safe_dump(playbook))
    return folder


def first(fake: FakeSlack, room: str, starts: str) -> float | None:
    """When the first message in `room` starting with `starts` was posted (its ts)."""
    found = [float(m["ts"]) for m in fake.messages(room) if m["text"].startswith(starts)]
    return min(found) if found else None


async def main_async(rooms: int, hang: bool) -> None:
    fake = await FakeSlack().start()
    fake.add_user("U1", "declarer")
    with tempfile.TemporaryDirectory() as workdir:
        config = Path(workdir) / "config.yaml"
        config.write_text(yaml.safe_dump({"playbooks_dir": str(playbook_folder(workdir))}))
        settings = load_settings(
            {
                "SLACK_BOT_TOKEN": "xoxb-bench",
                "SLACK_SIGNING_SECRET": "bench",
                "SLACK_API_URL": fake.api_url,
                "DATABASE_URL": f"sqlite+aiosqlite:///{workdir}/bench.db",
                "BOT_CONFIG": str(config),
            }
        )
        runner, runtime, _ = await start_on_loopback(settings)
        channels = [fake.add_channel(f"inc-bench-{n}") for n in range(rooms + 1)]
        for n, channel in enumerate(channels):
            snapshot = await runtime.service.declare(
                title=f"Outage {n}", declared_by="U1", severity="SEV1"
            )
            await runtime.service.attach_channel(snapshot.id, channel, f"inc-bench-{n}")
        slow, others = channels[0], channels[1:]
        if hang:
            fake.hold("chat.postMessage", channel=slow)  # never released: no answer
        else:
            rate_limited = {"status": 429, "retry_after": 30, "times": 10**6, "channel": slow}
            fake.fail("chat.postMessage", "ratelimited", **rate_limited)
        due = datetime.now(UTC) + timedelta(seconds=2)
        async with runtime.db.transaction() as session:
            await session.exec(update(Incident).values(next_update_due=due))

        def nudged() -> bool:
            return all(first(fake, room, "⏰") for room in others)

        await wait_for(nudged, timeout=180, what="every other room's nudge")
        drafts = [first(fake, room, "Stakeholder update draft") or 0.0 for room in others]
        nudges = [first(fake, room, "⏰") for room in others]
        late = [n - due.timestamp() - ESCALATE_AFTER for n in nudges]
        print(
            f"{'hanging' if hang else '429 Retry-After 30'} room + {rooms} others: last draft "
            f"{max(drafts) - due.timestamp():+.2f} s after due, nudges {min(late):+.2f} to "
            f"{max(late):+.2f} s after theirs"
        )
        await runner.cleanup()
    await fake.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rooms", type=int, default=20)
    parser.add_argument("--hang", action="store_true")
    args = parser.parse_args()
    asyncio.run(main_async(args.rooms, args.hang))


if __name__ == "__main__":
    main()
