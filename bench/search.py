"""The knowledge base under a long history: 10,000 past incidents with 1,000,000 timeline
entries, seeded straight into the database with their search documents (as resolving
writes them). How long does `/incident search` take in the database (the ranked query
and reading the incidents it found)? Target: p95 under 50 ms.

    python bench/search.py [--incidents 10000] [--entries 1000000] [--queries 300]
                           [--database-url postgresql+asyncpg://…]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert

from bot.incidents.knowledge import BODY_CHARACTERS, KnowledgeBase
from bot.store import Database
from bot.store.migrate import drop_all_tables
from bot.store.models import Incident, SearchDocument, TimelineEntry

SERVICES = [
    "checkout",
    "cart",
    "payments",
    "login",
    "search",
    "api",
    "gateway",
    "database",
    "cache",
    "queue",
    "dns",
    "cdn",
    "email",
    "billing",
    "invoices",
    "shipping",
    "inventory",
    "pricing",
    "recommendations",
    "notifications",
    "mobile",
    "web",
    "auth",
    "sso",
    "kafka",
    "redis",
    "postgres",
    "elasticsearch",
    "kubernetes",
    "ingress",
    "loadbalancer",
    "storage",
]
SYMPTOMS = [
    "errors",
    "latency",
    "timeouts",
    "outage",
    "degraded",
    "500s",
    "oom",
    "leak",
    "certificate",
    "expired",
    "slow",
    "failing",
    "down",
    "unavailable",
    "stuck",
    "backlog",
    "throttled",
    "corrupted",
    "missing",
    "duplicated",
]
CHUNK = 5_000


def vocabulary(size: int, rng: random.Random) -> list[str]:
    """Made-up words, so documents have a realistic spread of rare and common terms."""
    letters = "abcdefghiklmnoprstuvwy"
    return ["".join(rng.choices(letters, k=rng.randint(4, 9))) for _ in range(size)]


def sentence(rng: random.Random, words: list[str]) -> str:
    picked = rng.choices(words, k=rng.randint(6, 14))
    picked.insert(rng.randrange(len(picked)), rng.choice(SERVICES))
    return " ".join(picked)


async def seed(db: Database, incidents: int, entries: int, rng: random.Random) -> None:
    words = vocabulary(20_000, rng)
    per_incident = max(1, entries // incidents)
    now = datetime.now(UTC)
    for first in range(1, incidents + 1, CHUNK // per_incident or 1):
        last = min(incidents, first + (CHUNK // per_incident or 1) - 1)
        incident_rows, entry_rows, documents = [], [], []
        for n in range(first, last + 1):
            title = f"{rng.choice(SERVICES)} {rng.choice(SYMPTOMS)} {rng.choice(SERVICES)}"
            declared = now - timedelta(hours=rng.uniform(1, 24 * 730))
            summary = sentence(rng, words)
            said = [sentence(rng, words) for _ in range(per_incident)]
            incident_rows.append(
                {
                    "id": n,
                    "title": title,
                    "impact": sentence(rng, words),
                    "severity": rng.choice(("SEV1", "SEV2", "SEV3", "SEV4")),
                    "status": "closed",
                    "playbook": "default",
                    "private": n % 10 == 0,
                    "channel_id": f"C{n:09d}",
                    "declared_by": "UBENCH0001",
                    "declared_at": declared,
                    "resolved_at": declared + timedelta(hours=2),
                    "summary": summary,
                }
            )
            entry_rows += [
                {
                    "incident_id": n,
                    "at": declared + timedelta(seconds=i),
                    "kind": "message",
                    "actor": "UBENCH0001",
                    "text": text,
                    "data": {},
                    "files": [],
                    "edits": [],
                }
                for i, text in enumerate(said)
            ]
            body = "\n".join([incident_rows[-1]["impact"], summary, *said])[:BODY_CHARACTERS]
            documents.append(
                {
                    "incident_id": n,
                    "title": title,
                    "body": body,
                    "private": n % 10 == 0,
                    "channel_id": f"C{n:09d}",
                    "updated_at": now,
                }
            )
        async with db.transaction() as session:
            await session.exec(insert(Incident), params=incident_rows)
            await session.exec(insert(TimelineEntry), params=entry_rows)
            await session.exec(insert(SearchDocument), params=documents)


async def measure(db: Database, queries: int, rng: random.Random) -> list[float]:
    knowledge = KnowledgeBase(db)
    timings = []
    for _ in range(queries):
        words = " ".join(rng.sample(SERVICES, 2) + rng.sample(SYMPTOMS, 1))
        started = time.perf_counter()
        await knowledge.search(words)
        timings.append(time.perf_counter() - started)
    return timings


async def main_async(args) -> None:
    rng = random.Random(12)
    with tempfile.TemporaryDirectory() as workdir:
        url = args.database_url or f"sqlite+aiosqlite:///{workdir}/bench.db"
        db = Database(url, timeout=600)
        await drop_all_tables(db.engine)
        await db.upgrade_schema()
        started = time.perf_counter()
        await seed(db, args.incidents, args.entries, rng)
        print(
            f"seeded {args.incidents} incidents, {args.entries} timeline entries in "
            f"{time.perf_counter() - started:.0f} s ({url.split(':')[0]})"
        )
        await measure(db, 20, rng)  # warm the caches
        timings = sorted(await measure(db, args.queries, rng))
        await db.dispose()
    p95 = timings[int(len(timings) * 0.95) - 1]
    print(
        f"search ({args.queries} queries of 3 words): median "
        f"{statistics.median(timings) * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms, "
        f"max {timings[-1] * 1000:.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--incidents", type=int, default=10_000)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
