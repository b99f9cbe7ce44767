"""Failures a test plans for the fake Slack: the next calls of a method answer an error,
lose their answer (Slack did it, the caller never hears), or wait until the test says."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from bot.simulator.rules import SlackError


@dataclass
class Fault:
    error: str
    status: int = 200
    retry_after: int | None = None
    times: int = 1
    match: dict = field(default_factory=dict)  # only calls whose params include these
    lose_answer: bool = False  # performed, then the connection drops without an answer

    def matches(self, params: dict) -> bool:
        return self.times > 0 and all(params.get(k) == v for k, v in self.match.items())


class Hold:
    """One call held before Slack performs it, until the test releases it: to kill the bot
    while Slack is slow. `release(perform=False)` answers as if the call never arrived."""

    def __init__(self, match: dict):
        self.match = match
        self.held: dict | None = None  # the params of the call being held
        self._reached = asyncio.Event()
        self._released = asyncio.Event()
        self.perform = True

    def takes(self, params: dict) -> bool:
        return self.held is None and all(params.get(k) == v for k, v in self.match.items())

    async def wait(self, params: dict) -> bool:
        """Hold this call; True when it is then to be performed."""
        self.held = params
        self._reached.set()
        await self._released.wait()
        return self.perform

    async def reached(self) -> dict:
        """Once a call is held: its params."""
        await self._reached.wait()
        return self.held

    def release(self, perform: bool = True) -> None:
        self.perform = perform
        self._released.set()


class Faults:
    def __init__(self):
        self._planned: dict[str, list[Fault]] = {}
        self._holds: dict[str, list[Hold]] = {}

    def plan(self, method: str, fault: Fault) -> None:
        self._planned.setdefault(method, []).append(fault)

    def hold(self, method: str, match: dict) -> Hold:
        hold = Hold(match)
        self._holds.setdefault(method, []).append(hold)
        return hold

    def hold_for(self, method: str, params: dict) -> Hold | None:
        """The hold (planned, not yet used) that takes this call."""
        return next((h for h in self._holds.get(method, []) if h.takes(params)), None)

    def answer_lost(self, method: str, params: dict) -> bool:
        """Whether this call's answer is to be lost (spending one use of that plan)."""
        for fault in self._planned.get(method, []):
            if fault.lose_answer and fault.matches(params):
                fault.times -= 1
                return True
        return False

    def raise_if_planned(self, method: str, params: dict) -> None:
        """Answer this call with the first planned fault it matches, spending one use."""
        for fault in self._planned.get(method, []):
            if not fault.lose_answer and fault.matches(params):
                fault.times -= 1
                headers = (
                    {} if fault.retry_after is None else {"Retry-After": str(fault.retry_after)}
                )
                raise SlackError(fault.error, fault.status, headers)
