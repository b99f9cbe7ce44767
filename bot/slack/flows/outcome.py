"""What a request did once its change was stored, told truthfully: "Done: … Not done: …".

A command or a button changes the incident first (stored in one transaction), then takes
its Slack steps (the room, the card, the executives). A step that fails does not undo the
change, so the person who asked hears what was done and what was not, in this one phrasing
shared by every such request.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from bot.slack.gateway import Problems, SlackCallFailed

T = TypeVar("T")


@dataclass(frozen=True)
class Step:
    """One Slack step after a stored change: how it reads done, and how it reads missing."""

    done: str  # "posted in the room"
    failed: str  # "the room was not told"


ROOM = Step("posted in the room", "the room was not told")
CARD = Step("updated the card", "the card could not be updated")
TOPIC = Step("set the topic", "the topic could not be set")
EXECUTIVES = Step("told the executives", "the executives were not told")


class Outcome(Problems):
    """The steps of one request: `stored` (what the domain change did) heads the done list.

    Steps are told in the order they were started, however their calls (often concurrent)
    finish. It is also a `Problems`, so shared helpers that collect failures into one can
    be given it; what they collect is listed as not done.
    """

    def __init__(self, *stored: str):
        super().__init__()
        self._told: list[tuple[int, bool, str]] = [(0, True, text) for text in stored]
        self._started = 1

    @property
    def done(self) -> list[str]:
        return [text for _, done, text in sorted(self._told) if done]

    @property
    def not_done(self) -> list[str]:
        return [text for _, done, text in sorted(self._told) if not done]

    async def step(
        self, step: Step, call: Awaitable[T] | Callable[[Problems], Awaitable[T]]
    ) -> T | None:
        """Take one step: `call` is awaited, or called with a collector of its own failures
        first (for helpers that report several). A Slack failure is listed, not raised."""
        position = self._next()
        failures = Problems()
        try:
            result = await (call(failures) if callable(call) else call)
        except SlackCallFailed as failure:
            failures.add(failure)
            result = None
        if failures:
            self.fail(step, *failures.items, position=position)
        else:
            self.did(step, position=position)
        return result

    def did(self, step: Step, position: int | None = None) -> None:
        self._told.append((self._next() if position is None else position, True, step.done))

    def fail(self, step: Step, *reasons: str, position: int | None = None) -> None:
        """`step` did not happen; `reasons` (Slack's words) say why."""
        errors = ", ".join(dict.fromkeys(_error_of(reason) for reason in reasons))
        text = f"{step.failed} ({errors})" if errors else step.failed
        self._told.append((self._next() if position is None else position, False, text))

    def add(self, failure: SlackCallFailed | str) -> None:
        """A failure a shared helper collected (see `Problems`): listed as it reads."""
        self._told.append((self._next(), False, str(failure)))

    def __bool__(self) -> bool:
        return bool(self.not_done)

    def _next(self) -> int:
        self._started += 1
        return self._started

    def sentence(self) -> str:
        parts = []
        if self.done:
            parts.append(f"Done: {', '.join(self.done)}.")
        if self.not_done:
            parts.append(f"Not done: {'; '.join(self.not_done)}.")
        return " ".join(parts)

    def finish(self) -> None:
        """The request is over: if any step failed, the person who asked is told it all."""
        if self.not_done:
            raise PartlyDone(self)


class PartlyDone(Exception):
    """A stored change whose Slack steps did not all work; the listener tells the person."""

    def __init__(self, outcome: Outcome):
        super().__init__(outcome.sentence())
        self.outcome = outcome


def _error_of(reason: str) -> str:
    """Slack's error from a collected failure ("update the message: is_archived")."""
    return reason.rsplit(": ", 1)[-1]
