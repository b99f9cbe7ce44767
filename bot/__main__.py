"""`python -m bot [serve|check|migrate|demo]`."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import sys

from sqlalchemy.exc import SQLAlchemyError

from bot.config import Settings, missing_secrets
from bot.logs import configure_logging, log_format
from bot.preflight import startup_problems
from bot.settings_errors import ConfigError
from bot.store.migrate import SchemaMismatch
from bot.store.probe import DATABASE_ERRORS, describe_database_error


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bot", description="warroom: major incidents in Slack"
    )
    parser.add_argument(
        "command",
        nargs="?",
        default="serve",
        choices=["serve", "check", "migrate", "demo"],
        help="serve (default): run the bot; check: validate config and playbooks; "
        "migrate: upgrade the database schema; "
        "demo: a scripted incident against the built-in Slack simulator",
    )
    args = parser.parse_args(argv)
    problems: list[str] = []
    try:
        configure_logging(log_format(os.environ))
    except ConfigError as error:
        problems += error.problems  # reported with the rest; logging stays Python's default

    if args.command == "demo":
        from bot.demo import run_demo

        if problems:
            return _cannot_start(ConfigError(problems))
        logging.getLogger().setLevel(logging.WARNING)
        return asyncio.run(run_demo())

    serving = args.command == "serve"
    settings, more = asyncio.run(startup_problems(dict(os.environ), serving))
    problems += more
    if problems or settings is None:
        return _cannot_start(ConfigError(problems), without_slack=serving)
    if args.command == "migrate":
        return asyncio.run(_migrate(settings))
    if args.command == "check":
        names = ", ".join(settings.playbooks.names)
        scenarios = ", ".join(settings.scenarios.names) or "none"
        source = settings.config_path or "built-in defaults"
        print(
            f"ok: config {source}; playbooks {names}; drill scenarios {scenarios}; database answers"
        )
        return 0
    return _serve(settings)


def _serve(settings: Settings) -> int:
    from bot.server import serve_forever

    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(serve_forever(settings))
    except ConfigError as error:  # e.g. a token Slack refuses
        return _cannot_start(error)
    except SQLAlchemyError as error:  # the database went away since it was tried above
        return _cannot_start(ConfigError([f"DATABASE_URL: {describe_database_error(error)}"]))
    except SchemaMismatch as error:  # e.g. AUTO_MIGRATE=false on an old database
        print(error, file=sys.stderr)
        return 2
    return 0


async def _migrate(settings: Settings) -> int:
    from bot.store import Database

    db = Database(settings.database_url, settings.database_timeout)
    try:
        await db.upgrade_schema()
    except DATABASE_ERRORS as error:
        reason = describe_database_error(error)
        print(f"warroom cannot migrate the database (nothing changed): {reason}", file=sys.stderr)
        return 1
    except SchemaMismatch as error:
        print(error, file=sys.stderr)
        return 2
    finally:
        await db.dispose()
    return 0


def _cannot_start(error: ConfigError, without_slack: bool = False) -> int:
    print("warroom cannot start; fix these first:", file=sys.stderr)
    for problem in error.problems:
        print(f"  {problem}", file=sys.stderr)
    if without_slack and missing_secrets(os.environ):
        print("To try it without Slack: python -m bot demo", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
