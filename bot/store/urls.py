"""`DATABASE_URL` as platforms write it, mapped to the async drivers the bot uses.

Heroku and others hand out `postgres://…?sslmode=require`, tutorials write `sqlite:///…`;
SQLAlchemy would pick a synchronous driver (or none) for those, and asyncpg spells libpq's
`sslmode` as `ssl`. Anything else gets one line saying what is wrong and the right form.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

EXAMPLES = "postgresql://user:password@host:5432/incidents or sqlite:///incidents.db"

_ASYNC_DRIVERS = {
    "postgres": "postgresql+asyncpg",
    "postgresql": "postgresql+asyncpg",
    "postgresql+asyncpg": "postgresql+asyncpg",
    "sqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
}
# libpq's sslmode values; asyncpg's `ssl` takes the same words.
_SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
_POSTGRES_QUERY = ("sslmode", "ssl", "host")  # host: a Unix socket folder


class DatabaseUrlError(ValueError):
    """A DATABASE_URL the bot cannot use; the message is one line for people."""


def async_database_url(raw: str) -> str:
    """The SQLAlchemy async URL for `raw`, or DatabaseUrlError saying what to change."""
    try:
        url = make_url(raw.strip())
    except ArgumentError as error:
        raise DatabaseUrlError(f"not a database URL; write it like {EXAMPLES}") from error
    driver = _ASYNC_DRIVERS.get(url.drivername)
    if driver is None:
        raise DatabaseUrlError(
            f"{url.drivername}:// is not supported; use PostgreSQL or SQLite, e.g. {EXAMPLES}"
        )
    url = url.set(drivername=driver)
    url = _sqlite_url(url) if driver.startswith("sqlite") else _postgres_url(url)
    return url.render_as_string(hide_password=False)


def _sqlite_url(url: URL) -> URL:
    if not url.database or url.database == ":memory:":
        raise DatabaseUrlError(
            "an in-memory SQLite database loses every incident on restart; name a file, "
            "e.g. sqlite:///incidents.db (relative) or sqlite:////var/lib/warroom/incidents.db"
        )
    folder = Path(url.database).parent
    if not folder.is_dir():
        raise DatabaseUrlError(f"the folder {folder} for the SQLite file does not exist")
    return url


def _postgres_url(url: URL) -> URL:
    unknown = sorted(set(url.query) - set(_POSTGRES_QUERY))
    if unknown:
        raise DatabaseUrlError(
            f"?{unknown[0]}= is not supported (only {', '.join(_POSTGRES_QUERY)}); "
            "e.g. postgresql://user@host/incidents?sslmode=require"
        )
    query = dict(url.query)
    if "sslmode" in query:
        query["ssl"] = query.pop("sslmode")  # asyncpg's name for libpq's sslmode
    if "ssl" in query and query["ssl"] not in _SSL_MODES:
        raise DatabaseUrlError(f"sslmode={query['ssl']!r} is not one of {', '.join(_SSL_MODES)}")
    return url.set(query=query)
