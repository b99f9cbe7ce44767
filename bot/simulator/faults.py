"""Failures a test plans for the fake Slack: the next calls of a method answer an error."""

from __future__ import annotations

import math
import time
from collections import deque
from dataclasses import dataclass, field

from bot.simulator.rules import SlackError


@dataclass
class Fault:
    error: str
    status: int = 200
    retry_after: int | None = None
    times: int = 1
    match: dict = field(default_factory=dict)  # only calls whose params include these


class RateLimits:
    """Slack's per-method rate limits (e.g. Tier 3: about 50 calls a minute): a call over
    the limit is answered 429 `ratelimited` with the Retry-After Slack would give."""

    def __init__(self, clock=time.monotonic):
        self.per_minute: dict[str, int] = {}
        self._calls: dict[str, deque[float]] = {}
        self._clock = clock
        self.refused = 0

    def check(self, method: str) -> None:
        limit = self.per_minute.get(method)
        if limit is None:
            return
        now = self._clock()
        recent = self._calls.setdefault(method, deque())
        while recent and now - recent[0] >= 60:
            recent.popleft()
        if len(recent) >= limit:
            wait = max(1, math.ceil(60 - (now - recent[0])))
            self.refused += 1
            raise SlackError("ratelimited", 429, {"Retry-After": str(wait)})
        recent.append(now)


class Faults:
    def __init__(self):
        self._planned: dict[str, list[Fault]] = {}

    def plan(self, method: str, fault: Fault) -> None:
        self._planned.setdefault(method, []).append(fault)

    def raise_if_planned(self, method: str, params: dict) -> None:
        """Answer this call with the first planned fault it matches, spending one use."""
        for fault in self._planned.get(method, []):
            if fault.times > 0 and all(params.get(k) == v for k, v in fault.match.items()):
                fault.times -= 1
                headers = (
                    {} if fault.retry_after is None else {"Retry-After": str(fault.retry_after)}
                )
                raise SlackError(fault.error, fault.status, headers)
