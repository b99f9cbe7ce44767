"""What a flow hands the scheduler to run in a lane of its own (see `bot.scheduler.Lanes`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass


@dataclass(frozen=True)
class Share:
    """One incident's (or one person's) part of a job's claimed work.

    Shares with the same `key` run one after another, others beside them: a war room or a
    direct message that hangs delays only its own key's shares.
    """

    key: Hashable  # e.g. ("paging", incident id), ("owner", user id)
    label: str  # what the log lines about it start with
    work: Callable[[], Awaitable[None]]
