"""Before serving (or `check`, `migrate`): every problem that would stop warroom, found in
one run and reported together, one line each: the environment, the config file, the
playbooks, the database, the port, the bot token. One problem per attempt would make
fixing a broken deploy a loop of restarts."""

from __future__ import annotations

import asyncio
import socket

from bot.config import (
    Settings,
    database_and_port,
    load_settings,
    missing_secrets,
    slack_api_url,
)
from bot.settings_errors import ConfigError
from bot.store.probe import database_problem

# Asking Slack about the token is only worth a short wait: Slack being unreachable does
# not stop the bot (the calls retry later), and the other problems are already known.
TOKEN_CHECK_TIMEOUT = 5.0
SERVING_HOST = "0.0.0.0"


async def startup_problems(env: dict[str, str], serving: bool) -> tuple[Settings | None, list[str]]:
    """The settings (None when they do not load) and every problem found. `serving` adds
    what only serving needs: the Slack secrets, a free port, a token Slack accepts."""
    problems: list[str] = []
    try:
        settings = load_settings(env)
    except ConfigError as error:
        settings, problems = None, list(error.problems)
    if serving:
        problems += [f"{name}: not set" for name in missing_secrets(env)]
    database, port = database_and_port(env)
    if database and (problem := await database_problem(*database)):
        problems.append(problem)
    if serving and port is not None and (problem := port_problem(SERVING_HOST, port)):
        problems.append(problem)
    # The token only alongside other problems: when nothing else is wrong, starting checks it.
    if serving and problems and (problem := await token_problem(env)):
        problems.append(problem)
    return settings, problems


def port_problem(host: str, port: int) -> str | None:
    """Bind the port as the server will (SO_REUSEADDR, as asyncio does), then let it go."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as trial:
        trial.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            trial.bind((host, port))
        except OSError as error:
            return listen_problem(host, port, error)
    return None


def listen_problem(host: str, port: int, error: OSError) -> str:
    return f"PORT: cannot listen on {host}:{port}: {error.strerror}"


async def token_problem(env: dict[str, str]) -> str | None:
    """SLACK_BOT_TOKEN, if set, as Slack judges it; None while Slack does not answer."""
    if not env.get("SLACK_BOT_TOKEN"):
        return None
    from bot.slack.gateway import SlackGateway, make_client

    gateway = SlackGateway(make_client(env["SLACK_BOT_TOKEN"], slack_api_url(env)))
    await gateway.open()
    try:
        async with asyncio.timeout(TOKEN_CHECK_TIMEOUT):
            await gateway.check_bot_token()
    except ConfigError as error:
        return error.problems[0]
    except TimeoutError:
        return None
    finally:
        await gateway.close()
    return None
