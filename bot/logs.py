"""Logging: plain text, or one JSON object per line (`LOG_FORMAT=json`), carrying the
incident reference and the Slack request ID of the work in progress where known.

The context lives in context variables: set while a Slack request is handled, it follows
the background tasks the request starts (asyncio copies the context into new tasks).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

from bot.settings_errors import ConfigError

FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_incident: ContextVar[str | None] = ContextVar("incident", default=None)
_slack_request: ContextVar[str | None] = ContextVar("slack_request_id", default=None)


@contextmanager
def log_context(*, incident: str | None = None, slack_request_id: str | None = None) -> Iterator:
    """Tag the log lines written inside the block (and by tasks started in it)."""
    tokens = []
    if incident is not None:
        tokens.append((_incident, _incident.set(incident)))
    if slack_request_id is not None:
        tokens.append((_slack_request, _slack_request.set(slack_request_id)))
    try:
        yield
    finally:
        for variable, token in reversed(tokens):
            variable.reset(token)


def bind_incident(reference: str) -> None:
    """Tag the rest of this task's log lines with an incident (a task per piece of work)."""
    _incident.set(reference)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, variable in (("incident", _incident), ("slack_request_id", _slack_request)):
            value = getattr(record, key, None) or variable.get()
            if value:
                line[key] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def log_format(environ) -> str:
    chosen = (environ.get("LOG_FORMAT") or "text").strip().lower()
    if chosen not in FORMATS:
        raise ConfigError([f"LOG_FORMAT: {chosen!r} is not one of {', '.join(FORMATS)}"])
    return chosen


# Alembic announces its dialect on every migration check, at every start: not news.
_ALEMBIC_CHATTER = ("Context impl ", "Will assume ")


def _not_alembic_chatter(record: logging.LogRecord) -> bool:
    return not (record.name.startswith("alembic") and str(record.msg).startswith(_ALEMBIC_CHATTER))


def configure_logging(chosen: str, level: int = logging.INFO, stream=None) -> None:
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter() if chosen == "json" else logging.Formatter(TEXT_FORMAT))
    handler.addFilter(_not_alembic_chatter)
    logging.basicConfig(level=level, handlers=[handler], force=True)
