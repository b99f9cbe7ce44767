"""Full-text search in the store: the any-word ranking leaves out the words the ranking
weighs at nothing, and still fills the results from them in a small history."""

from pathlib import Path

import pytest

from bot.incidents import IncidentService
from bot.playbooks import load_playbooks
from bot.store import Database
from bot.store import search as full_text
from bot.store.models import SearchDocument


@pytest.fixture
async def db(database_url):
    """Ten past incidents all about checkout; three of them (2, 5, 8) also about a ledger."""
    db = Database(database_url)
    await db.upgrade_schema()
    service = IncidentService(db, load_playbooks(Path("playbooks")))
    async with db.transaction() as session:
        for n in range(1, 11):
            declared = await service.declare(
                title=f"Checkout down {n}", declared_by="U1", severity="SEV2"
            )
            ledger = " the ledger lagged" if n % 3 == 2 else ""
            body = f"checkout errors for everyone{ledger}"
            session.add(
                SearchDocument(incident_id=declared.id, title=declared.incident.title, body=body)
            )
    yield db
    await db.dispose()


async def found(db: Database, words: str, limit: int) -> list[int]:
    async with db.snapshot_read() as session:
        connection = await session.connection()
        return [hit.incident_id for hit in await full_text.search(connection, words, limit)]


async def test_words_in_half_the_documents_or_more_are_not_weighed(db):
    async with db.snapshot_read() as session:
        connection = await session.connection()
        weighed = await full_text.weighed_words(connection, ["checkout", "ledger", "zebra"])
    if db.engine.dialect.name == "sqlite":  # bm25's IDF: zero at half the documents
        assert weighed == ["ledger"]
    else:  # ts_rank_cd has no IDF: every word counts
        assert weighed == ["checkout", "ledger", "zebra"]


async def test_any_word_results_rank_the_weighed_words_then_fill_up(db):
    # No document has all three words: the ledger ones, then (a small history) the rest.
    assert sorted(await found(db, "checkout ledger zebra", limit=3)) == [2, 5, 8]
    more = await found(db, "checkout ledger zebra", limit=5)
    assert sorted(more[:3]) == [2, 5, 8] and len(set(more)) == 5
