"""The bot's own HTTP routes beside Slack's: health, the status page, metrics."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from bot.incidents.stats import LatestNumbers
from bot.incidents.status import StatusReader
from bot.metrics import Metrics
from bot.store import Database
from bot.web import health, metrics, status


@dataclass(frozen=True)
class WebDeps:
    db: Database
    status: StatusReader
    metrics: Metrics
    severities: tuple[str, ...]  # every playbook's, so a severity with none open shows 0
    numbers: LatestNumbers  # `/incident stats` as the scheduler last gathered them


def add_routes(app: web.Application, deps: WebDeps) -> None:
    for module in (health, metrics, status):
        module.add_routes(app, deps)
