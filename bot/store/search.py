"""Full-text search over `SearchDocument`, spelled in each dialect's own way.

SQLite: an FTS5 table over the documents (external content, kept in step by triggers),
ranked with bm25. PostgreSQL: a stored, generated `tsvector` column with a GIN index,
ranked with ts_rank_cd. Titles weigh more than the rest in both.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import event, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.store.models import SearchDocument

SQLITE_DDL = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS searchdocument_fts USING fts5("
    "title, body, content='searchdocument', content_rowid='incident_id', "
    "tokenize='porter unicode61')",
    "CREATE TRIGGER IF NOT EXISTS searchdocument_added AFTER INSERT ON searchdocument BEGIN "
    "INSERT INTO searchdocument_fts(rowid, title, body) "
    "VALUES (new.incident_id, new.title, new.body); END",
    "CREATE TRIGGER IF NOT EXISTS searchdocument_removed AFTER DELETE ON searchdocument BEGIN "
    "INSERT INTO searchdocument_fts(searchdocument_fts, rowid, title, body) "
    "VALUES ('delete', old.incident_id, old.title, old.body); END",
    "CREATE TRIGGER IF NOT EXISTS searchdocument_changed AFTER UPDATE ON searchdocument BEGIN "
    "INSERT INTO searchdocument_fts(searchdocument_fts, rowid, title, body) "
    "VALUES ('delete', old.incident_id, old.title, old.body); "
    "INSERT INTO searchdocument_fts(rowid, title, body) "
    "VALUES (new.incident_id, new.title, new.body); END",
)
POSTGRESQL_DDL = (
    "ALTER TABLE searchdocument ADD COLUMN IF NOT EXISTS document tsvector GENERATED ALWAYS AS "
    "(setweight(to_tsvector('english', title), 'A') || "
    "setweight(to_tsvector('english', body), 'B')) STORED",
    "CREATE INDEX IF NOT EXISTS searchdocument_document ON searchdocument USING GIN (document)",
)
SQLITE_DROP = (
    "DROP TRIGGER IF EXISTS searchdocument_changed",
    "DROP TRIGGER IF EXISTS searchdocument_removed",
    "DROP TRIGGER IF EXISTS searchdocument_added",
    "DROP TABLE IF EXISTS searchdocument_fts",
)

# The best matches first, then their rows: sorting only the index's rowids is cheaper.
_SQLITE_QUERY = text(
    "SELECT d.incident_id, d.private, d.channel_id FROM ("
    "SELECT rowid, rank FROM searchdocument_fts "
    "WHERE searchdocument_fts MATCH :query AND rank MATCH 'bm25(4.0, 1.0)' "
    "ORDER BY rank LIMIT :limit) best "
    "JOIN searchdocument d ON d.incident_id = best.rowid ORDER BY best.rank"
)
# Ranking reads each matching document's tsvector (kept out of line, TOASTed), so only the
# RANKED most recent matches are ranked. The planner does not count that TOAST cost either:
# it would scan every document rather than use the GIN index, so the search's own
# transaction asks for the index's bitmap scan.
_POSTGRESQL_PLAN = (
    text("SET LOCAL enable_seqscan = off"),
    text("SET LOCAL enable_indexscan = off"),
)
_POSTGRESQL_QUERY = text(
    "WITH recent AS (SELECT incident_id, private, channel_id, document "
    "FROM searchdocument WHERE document @@ to_tsquery('english', :query) "
    "ORDER BY incident_id DESC LIMIT :ranked) "
    "SELECT incident_id, private, channel_id FROM recent "
    "ORDER BY ts_rank_cd(document, to_tsquery('english', :query)) DESC, incident_id DESC "
    "LIMIT :limit"
)
RANKED = 200
_WORD = re.compile(r"\w+", re.UNICODE)
MAX_WORDS = 32


@dataclass(frozen=True)
class Hit:
    incident_id: int
    private: bool
    channel_id: str | None


def words_of(query: str) -> list[str]:
    """The words searched for: letters and digits only, so nothing is read as query syntax."""
    seen: dict[str, None] = {}
    for word in _WORD.findall(query.lower()):
        seen.setdefault(word, None)
    return list(seen)[:MAX_WORDS]


def create_index(connection: Connection) -> None:
    """The dialect's full-text index over `searchdocument` (its migration runs this; so does
    `create_all`, through the table's after_create event)."""
    for statement in SQLITE_DDL if connection.dialect.name == "sqlite" else POSTGRESQL_DDL:
        connection.execute(text(statement))


def drop_index(connection: Connection) -> None:
    if connection.dialect.name == "sqlite":
        for statement in SQLITE_DROP:
            connection.execute(text(statement))
    else:
        connection.execute(text("DROP INDEX IF EXISTS searchdocument_document"))
        connection.execute(text("ALTER TABLE searchdocument DROP COLUMN IF EXISTS document"))


def _after_create(_table, connection: Connection, **_) -> None:
    create_index(connection)


event.listen(SearchDocument.__table__, "after_create", _after_create)


def outside_the_models(obj, name: str | None, type_: str, reflected: bool, _compare_to) -> bool:
    """False for the full-text index's own objects, which the models do not describe:
    SQLite's FTS5 table (and its shadow tables), PostgreSQL's tsvector column and GIN index.
    Alembic's `include_object` (autogenerate comparison) takes this."""
    if type_ == "table" and (name or "").startswith("searchdocument_fts"):
        return False
    if type_ == "index" and name == "searchdocument_document":
        return False
    table = getattr(getattr(obj, "table", None), "name", None)
    return not (type_ == "column" and table == "searchdocument" and name == "document")


async def search(connection: AsyncConnection, query: str, limit: int) -> list[Hit]:
    """Documents with all of the query's words, best first; when those are fewer than
    `limit`, then documents with any of them (more and rarer words rank higher)."""
    words = words_of(query)
    if not words:
        return []
    hits = await _ranked(connection, words, every_word=True, limit=limit)
    if len(hits) < limit and len(words) > 1:
        found = {hit.incident_id for hit in hits}
        hits += (await _any_word(connection, words, limit, found))[: limit - len(hits)]
    return hits


async def _any_word(
    connection: AsyncConnection, words: list[str], limit: int, found: set[int]
) -> list[Hit]:
    """Documents with any of the words, best first, leaving out those `found` already:
    ranked by the words that weigh (`weighed_words`), and by all of them only when those do
    not fill the results (a small history: then ranking every match is cheap)."""
    wanted = limit - len(found)
    weighed, more = await weighed_words(connection, words), []
    if weighed:
        more = await _ranked(connection, weighed, every_word=False, limit=limit)
        more = [hit for hit in more if hit.incident_id not in found]
    if len(more) < wanted and weighed != words:
        more = await _ranked(connection, words, every_word=False, limit=limit)
        more = [hit for hit in more if hit.incident_id not in found]
    return more


async def weighed_words(connection: AsyncConnection, words: list[str]) -> list[str]:
    """The words that count in the any-word ranking. SQLite's bm25 weighs a word found in
    half the documents or more at zero (its IDF), yet each such word adds its documents
    to the ones ranked: the many words of a similar-incidents lookup (title and impact)
    matched nearly every document and ranking them all was the lookup's cost. Counting a
    word's documents is a read of its index entry; the incidents bound the documents.
    PostgreSQL's ts_rank_cd has no IDF, and ranks a bounded set anyway."""
    if connection.dialect.name != "sqlite":
        return words
    found_in = ", ".join(
        f"(SELECT count(*) FROM searchdocument_fts WHERE searchdocument_fts MATCH :w{n})"
        for n in range(len(words))
    )
    statement = text(f"SELECT (SELECT count(*) FROM incident), {found_in}")
    counts = await connection.execute(statement, {f"w{n}": f'"{w}"' for n, w in enumerate(words)})
    documents, *found = counts.one()
    return [word for word, count in zip(words, found, strict=True) if 0 < 2 * count < documents]


async def _ranked(
    connection: AsyncConnection, words: list[str], every_word: bool, limit: int
) -> list[Hit]:
    if connection.dialect.name == "sqlite":
        quoted = [f'"{word}"' for word in words]
        statement, spelled = _SQLITE_QUERY, (" AND " if every_word else " OR ").join(quoted)
    else:
        statement, spelled = _POSTGRESQL_QUERY, (" & " if every_word else " | ").join(words)
        for setting in _POSTGRESQL_PLAN:
            await connection.execute(setting)
    parameters = {"query": spelled, "limit": limit, "ranked": RANKED}
    rows = await connection.execute(statement, parameters)
    return [Hit(row[0], bool(row[1]), row[2]) for row in rows]
