"""Failures a test plans for the fake Slack: the next calls of a method answer an error."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.simulator.rules import SlackError


@dataclass
class Fault:
    error: str
    status: int = 200
    retry_after: int | None = None
    times: int = 1
    match: dict = field(default_factory=dict)  # only calls whose params include these


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
