"""The knowledge base under a long history: 10,000 past incidents with 1,000,000 timeline
entries, seeded straight into the database with their search documents (as resolving
writes them). How long does `/incident search` take in the database (the ranked query
and reading the incidents it found)? Target: p95 under 50 ms.

    python bench/search.py [--incidents 10000] [--entries 1000000] [--queries 300]
                           [--database-url postgresql+asyncpg://…] [--reuse]
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


def incident_row(n: int, rng: random.Random, words: list[str]) -> dict:
    declared = datetime.now(UTC) - timedelta(hours=rng.uniform(1, 24 * 730))
    return {
        "id": n,
        "title": f"{rng.choice(SERVICES)} {rng.choice(SYMPTOMS)} {rng.choice(SERVICES)}",
        "impact": sentence(rng, words),
        "severity": rng.choice(("SEV1", "SEV2", "SEV3", "SEV4")),
        "status": "closed",
        "playbook": "default",
        "private": n % 10 == 0,
        "channel_id": f"C{n:09d}",
        "declared_by": "UBENCH0001",
        "declared_at": declared,
        "resolved_at": declared + timedelta(hours=2),
        "summary": sentence(rng, words),
    }


def entry_rows(incident: dict, said: list[str]) -> list[dict]:
    return [
        {
            "incident_id": incident["id"],
            "at": incident["declared_at"] + timedelta(seconds=i),
            "kind": "message",
            "actor": "UBENCH0001",
            "text": text,
            "data": {},
            "files": [],
            "edits": [],
        }
        for i, text in enumerate(said)
    ]


def document_row(incident: dict, said: list[str]) -> dict:
    """What resolving writes (`index_incident`): title; impact, summary and what was said."""
    body = "\n".join([incident["impact"], incident["summary"], *said])[:BODY_CHARACTERS]
    return {
        "incident_id": incident["id"],
        "title": incident["title"],
        "body": body,
        "private": incident["private"],
        "channel_id": incident["channel_id"],
        "updated_at": datetime.now(UTC),
    }


async def seed(db: Database, incidents: int, entries: int, rng: random.Random) -> None:
    words = vocabulary(20_000, rng)
    per_incident = max(1, entries // incidents)
    batch = max(1, CHUNK // per_incident)
    for first in range(1, incidents + 1, batch):
        rows: dict[type, list[dict]] = {Incident: [], TimelineEntry: [], SearchDocument: []}
        for n in range(first, min(incidents, first + batch - 1) + 1):
            said = [sentence(rng, words) for _ in range(per_incident)]
            incident = incident_row(n, rng, words)
            rows[Incident].append(incident)
            rows[TimelineEntry] += entry_rows(incident, said)
            rows[SearchDocument].append(document_row(incident, said))
        async with db.transaction() as session:
            for model, params in rows.items():
                await session.exec(insert(model), params=params)


async def measure(db: Database, queries: int, rng: random.Random, similar: bool) -> list[float]:
    """Seconds per `/incident search` of three words, or per similar-incidents lookup (a new
    incident's title and a sentence of impact)."""
    knowledge, words = KnowledgeBase(db), vocabulary(20_000, random.Random(12))
    timings = []
    for _ in range(queries):
        title = rng.sample(SERVICES, 2) + rng.sample(SYMPTOMS, 1)
        started = time.perf_counter()
        if similar:
            await knowledge.similar(" ".join(title), sentence(rng, words), exclude=0)
        else:
            await knowledge.search(" ".join(title))
        timings.append(time.perf_counter() - started)
    return sorted(timings)


def summary(what: str, timings: list[float]) -> str:
    p95 = timings[int(len(timings) * 0.95) - 1]
    return (
        f"{what} ({len(timings)} queries): median {statistics.median(timings) * 1000:.1f} ms, "
        f"p95 {p95 * 1000:.1f} ms, max {timings[-1] * 1000:.1f} ms"
    )


async def main_async(args) -> None:
    rng = random.Random(12)
    with tempfile.TemporaryDirectory() as workdir:
        url = args.database_url or f"sqlite+aiosqlite:///{workdir}/bench.db"
        db = Database(url, timeout=600)
        if not args.reuse:
            await drop_all_tables(db.engine)
            await db.upgrade_schema()
            started = time.perf_counter()
            await seed(db, args.incidents, args.entries, rng)
            print(
                f"seeded {args.incidents} incidents, {args.entries} timeline entries in "
                f"{time.perf_counter() - started:.0f} s ({url.split(':')[0]})"
            )
        await measure(db, 20, rng, similar=False)  # warm the caches
        searches = await measure(db, args.queries, rng, similar=False)
        lookups = await measure(db, args.queries, rng, similar=True)
        await db.dispose()
    print(summary("search, 3 words", searches))
    print(summary("similar incidents, title + impact", lookups))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--incidents", type=int, default=10_000)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--database-url", default="")
    parser.add_argument(
        "--reuse", action="store_true", help="search the --database-url as seeded by a last run"
    )
    args = parser.parse_args()
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
