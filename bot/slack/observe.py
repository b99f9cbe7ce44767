"""Watching the Slack traffic for metrics and logs: requests in (a Bolt middleware) and
Web API calls out (the SDK client and its retry handlers), counted by kind and method."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from urllib.parse import urlparse

import aiohttp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.request.payload_utils import is_event, is_slash_command
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.incidents.status import reference_of
from bot.logs import log_context
from bot.metrics import Metrics

log = logging.getLogger(__name__)


def request_kind(body: dict) -> str:
    if is_slash_command(body):
        return "command"
    return "event" if is_event(body) else "interaction"


def request_id(body: dict) -> str | None:
    """Slack's ID for what it sent: the event ID, else the trigger ID of a command or click."""
    return body.get("event_id") or body.get("trigger_id")


def request_channel(body: dict) -> str | None:
    return (
        body.get("channel_id")
        or (body.get("event") or {}).get("channel")
        or (body.get("channel") or {}).get("id")
    )


def observe_requests(metrics: Metrics, incident_of: Callable[[str], int | None]):
    """Bolt middleware: counts and times each request, and tags its log lines (and those of
    the work it starts) with Slack's request ID and, for a known war room, the incident."""

    async def observe(req: AsyncBoltRequest, next):  # noqa: A002 (Bolt injects by name)
        started = time.perf_counter()
        kind, channel = request_kind(req.body), request_channel(req.body)
        incident = incident_of(channel) if channel else None
        with log_context(
            slack_request_id=request_id(req.body),
            incident=reference_of(incident) if incident is not None else None,
        ):
            try:
                return await next()
            finally:
                elapsed = time.perf_counter() - started
                metrics.observe_request(kind, elapsed)
                log.debug("answered a Slack %s in %.1f ms", kind, elapsed * 1000)

    return observe


def method_of(url: str) -> str:
    return urlparse(url).path.rsplit("/", 1)[-1] or "unknown"


class CountingRetryHandler(AsyncRetryHandler):
    """The SDK's retry handler as it is, counting each retry it decides on by method."""

    def __init__(self, handler: AsyncRetryHandler, metrics: Metrics):
        super().__init__(handler.max_retry_count, handler.interval_calculator)
        self.handler, self.metrics = handler, metrics

    async def can_retry_async(self, *, state, request, response=None, error=None) -> bool:
        if response is not None:
            self.metrics.slack_answered()
        return await self.handler.can_retry_async(
            state=state, request=request, response=response, error=error
        )

    async def prepare_for_next_attempt_async(
        self, *, state, request, response=None, error=None
    ) -> None:
        self.metrics.api_retries.labels(method_of(request.url)).inc()
        await self.handler.prepare_for_next_attempt_async(
            state=state, request=request, response=response, error=error
        )


class ObservedWebClient(AsyncWebClient):
    """The SDK's client, counting calls and failures by method and noting when Slack last
    answered (for /healthz). Every Web API method goes through `api_call`."""

    def __init__(self, *, metrics: Metrics, **kwargs):
        super().__init__(**kwargs)
        self.metrics = metrics
        self.retry_handlers = [CountingRetryHandler(h, metrics) for h in self.retry_handlers]

    async def api_call(self, api_method: str, **kwargs):
        self.metrics.api_calls.labels(api_method).inc()
        try:
            response = await super().api_call(api_method, **kwargs)
        except SlackApiError as error:
            self.metrics.slack_answered()
            data = error.response.data
            reason = data.get("error") if isinstance(data, dict) else None
            self.metrics.api_errors.labels(
                api_method, reason or f"http_{error.response.status_code}"
            ).inc()
            raise
        except (aiohttp.ClientError, TimeoutError, OSError):
            self.metrics.api_errors.labels(api_method, "no_answer").inc()
            raise
        self.metrics.slack_answered()
        return response
