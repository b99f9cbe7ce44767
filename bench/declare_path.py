"""Declare critical path: with every Slack call taking 100 ms, how long from the command
to a war room that is ready (channel, invites, topic, card pinned, broadcast posted) and
to the declarer's answer, and how many sequential Slack round trips that took.

    python bench/declare_path.py [--latency 0.1] [--runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import yaml

from bot.config import load_settings
from bot.server import start_on_loopback
from bot.simulator import FakeSlack, SlackClient, wait_for

SECRET = "bench-secret"
DECLARER, ONCALL, GROUP = "UALICE0001", "UONCALL001", "SSRE000001"


OFF_THE_PATH = {"auth.test", "views.publish"}  # Bolt's first auth.test; Home tab refreshes


def rounds(calls, since: float, latency: float) -> int:
    """Sequential round trips: a call starting after the previous round's answer is a new round."""
    starts = sorted(c.at for c in calls if c.at >= since and c.method not in OFF_THE_PATH)
    count, round_start = 0, None
    for start in starts:
        if round_start is None or start >= round_start + latency * 0.9:
            count, round_start = count + 1, start
    return count


async def main_async(latency: float, runs: int) -> None:
    fake = await FakeSlack(latency=latency).start()
    for user in (DECLARER, ONCALL, "USRE000001", "USRE000002"):
        fake.add_user(user, user.lower())
    fake.add_usergroup(GROUP, ["USRE000001", "USRE000002"])
    general = fake.add_channel("general", [DECLARER])
    broadcast = fake.add_channel("incident-updates")
    with tempfile.TemporaryDirectory() as workdir:
        playbooks = Path(workdir) / "playbooks"
        playbooks.mkdir()
        (playbooks / "default.yaml").write_text(
            yaml.safe_dump(
                {
                    "name": "default",
                    "severities": {
                        "SEV1": {
                            "description": "Down",
                            "major": True,
                            "update_every": "30m",
                            "invite": [ONCALL, GROUP],
                        }
                    },
                }
            )
        )
        config = Path(workdir) / "config.yaml"
        config.write_text(
            yaml.safe_dump({"broadcast_channel": broadcast, "playbooks_dir": str(playbooks)})
        )
        settings = load_settings(
            {
                "SLACK_BOT_TOKEN": "xoxb-bench",
                "SLACK_SIGNING_SECRET": SECRET,
                "SLACK_API_URL": fake.api_url,
                "DATABASE_URL": f"sqlite+aiosqlite:///{workdir}/bench.db",
                "BOT_CONFIG": str(config),
            }
        )
        runner, _, url = await start_on_loopback(settings)
        times, answered, round_trips = [], [], []
        async with SlackClient(fake, url, SECRET) as slack:
            for run in range(runs + 1):  # the first run warms up (Bolt's one auth.test)
                since = time.monotonic()
                announced = len(fake.messages(broadcast))
                await slack.command(DECLARER, f"declare SEV1 Run {run}", general)

                def ready(run=run, announced=announced):
                    room = fake.channel_named(f"inc-{time.strftime('%Y%m%d')}-run-{run}")
                    return (
                        room
                        and room["pins"]
                        and room["topic"]
                        and {DECLARER, ONCALL, "USRE000001"} <= room["members"]
                        and len(fake.messages(broadcast)) > announced
                    )

                await wait_for(ready, timeout=10, what="a ready war room")
                elapsed = time.monotonic() - since
                await wait_for(
                    lambda run=run: any(f"Run {run}" in r["text"] for r in fake.responses),
                    what="the declarer's answer",
                )
                if run:
                    times.append(elapsed)
                    answered.append(time.monotonic() - since)
                    round_trips.append(rounds(fake.calls, since, latency))
        await runner.cleanup()
    await fake.stop()
    print(f"declare → war room ready, Slack latency {latency * 1000:.0f} ms per call, {runs} runs")
    print(f"  median {statistics.median(times) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms")
    print(f"  the declarer's answer: median {statistics.median(answered) * 1000:.0f} ms")
    print(f"  sequential Slack round trips: {sorted(set(round_trips))}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(main_async(args.latency, args.runs))


if __name__ == "__main__":
    main()
