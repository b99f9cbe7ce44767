"""A small Slack for `python -m bot demo`, the tests and the benchmarks; no production
module imports it (a test checks).

- `server.FakeSlack`: the Web API on 127.0.0.1 (with response URLs, file uploads and
  Socket Mode), answering from a `workspace.Workspace` through `web_api.WebApi` under
  Slack's `rules` (errors, Block Kit limits, published parameter names).
- `driver.SlackClient`: Slack's side towards the bot: signed commands, events, interactions.
- `transcript`: channels as a person reads them, for the demo's printout.
"""

from bot.simulator.driver import NotAcknowledged, SlackClient, message_event
from bot.simulator.rules import SlackError, validate_blocks
from bot.simulator.server import FakeSlack
from bot.simulator.transcript import render_channel, render_message
from bot.simulator.waiting import wait_for
from bot.simulator.workspace import BOT_ID, BOT_USER, TEAM, Workspace

__all__ = [
    "BOT_ID",
    "BOT_USER",
    "TEAM",
    "FakeSlack",
    "NotAcknowledged",
    "SlackClient",
    "SlackError",
    "Workspace",
    "message_event",
    "render_channel",
    "render_message",
    "validate_blocks",
    "wait_for",
]
