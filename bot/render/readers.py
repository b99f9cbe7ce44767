"""Who a rendering is for: their time zone, people's names, and said text made readable."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, tzinfo


def _as_said(text: str) -> str:
    return text


@dataclass(frozen=True)
class Readers:
    zone: tzinfo
    names: dict[str, str] = field(default_factory=dict)  # person ID -> name
    # What was said, as stored, turned into what a reader should see (e.g. the chat's
    # mention markup into @names); the chat layer supplies it.
    readable: Callable[[str], str] = _as_said

    @property
    def zone_name(self) -> str:
        return getattr(self.zone, "key", str(self.zone))

    def time(self, moment: datetime, style: str = "%Y-%m-%d %H:%M") -> str:
        return moment.astimezone(self.zone).strftime(style)

    def who(self, person: str | None) -> str:
        """A person by name (their ID when unknown); nobody is the bot itself."""
        return self.names.get(person, person) if person else "warroom"

    def at(self, person: str) -> str:
        """A person named in running text: `@name`, or their ID when unknown."""
        return f"@{self.names[person]}" if person in self.names else person


def cell(text: str) -> str:
    """Text fit for one line of a Markdown table or list."""
    return text.replace("\n", " ").replace("|", "\\|").strip()
