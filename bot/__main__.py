"""`python -m bot [serve|check|demo]`."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys

from sqlalchemy.exc import SQLAlchemyError

from bot.config import Settings, load_settings, missing_secrets
from bot.settings_errors import ConfigError
from bot.store.probe import database_problem, describe_database_error


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bot", description="warroom: major incidents in Slack"
    )
    parser.add_argument(
        "command",
        nargs="?",
        default="serve",
        choices=["serve", "check", "demo"],
        help="serve (default): run the bot; check: validate config and playbooks; "
        "demo: a scripted incident against the built-in Slack simulator",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )

    if args.command == "demo":
        from bot.demo import run_demo

        logging.getLogger().setLevel(logging.WARNING)
        return asyncio.run(run_demo())

    try:
        settings = load_settings()
    except ConfigError as error:
        return _cannot_start(error)

    problem = asyncio.run(database_problem(settings.database_url, settings.database_timeout))
    if problem:
        return _cannot_start(ConfigError([problem]))
    if args.command == "check":
        names = ", ".join(settings.playbooks.names)
        source = settings.config_path or "built-in defaults"
        print(f"ok: config {source}; playbooks {names}; database answers")
        return 0
    return _serve(settings)


def _serve(settings: Settings) -> int:
    missing = missing_secrets(settings)
    if missing:
        print(
            f"warroom needs {' and '.join(missing)} in the environment to talk to Slack.\n"
            "To try it without Slack: python -m bot demo",
            file=sys.stderr,
        )
        return 2
    from bot.server import serve_forever

    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(serve_forever(settings))
    except ConfigError as error:  # e.g. a token Slack refuses
        return _cannot_start(error)
    except SQLAlchemyError as error:  # the database went away since it was tried above
        return _cannot_start(ConfigError([f"DATABASE_URL: {describe_database_error(error)}"]))
    return 0


def _cannot_start(error: ConfigError) -> int:
    print("warroom cannot start; fix these first:", file=sys.stderr)
    for problem in error.problems:
        print(f"  {problem}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
