"""The duty rota: who is the duty MIM manager at an instant, and who comes after them.

Two shapes, both in one time zone (an IANA name, so handovers follow daylight saving):

- a **weekly rotation**: `people` take turns, one week each, handing over every
  `handover` (`monday 09:00`, wall-clock time in `time_zone`), the first from `start`;
- explicit **shifts**: each with a `user`, a `start` and an `end` (wall-clock times in
  `time_zone` unless written with an offset); shifts may leave gaps, not overlap.

Everything here is pure: the instant is an argument, so tests drive it with any clock.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_HANDOVER = re.compile(r"^\s*([a-z]+)\s+(\d{1,2}):(\d{2})\s*$")
WEEK = timedelta(days=7)


def _user_id(value: object) -> str:
    if not isinstance(value, str) or not _USER_ID.match(value):
        raise ValueError(
            f"{value!r} is not a Slack user ID (U…/W…); a duty manager is one person, "
            "copy it from the profile's 'Copy member ID'"
        )
    return value


def _time_zone(value: object) -> ZoneInfo:
    if isinstance(value, ZoneInfo):
        return value
    try:
        return ZoneInfo(str(value))
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"{value!r} is not a time zone; use an IANA name like Europe/London or UTC"
        ) from None


def _wall_time(value: object) -> datetime:
    """A date, or a date and time (`2026-11-23 09:00`), as YAML or a string gives it."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime.combine(value, time())
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        raise ValueError(
            f"{value!r} is not a date and time; write it like 2026-11-23 09:00"
        ) from None


@dataclass(frozen=True)
class Handover:
    weekday: int  # Monday is 0
    at: time

    def __str__(self) -> str:
        return f"{WEEKDAYS[self.weekday]} {self.at:%H:%M}"


def _handover(value: object) -> Handover:
    if isinstance(value, Handover):
        return value
    match = _HANDOVER.match(str(value).lower()) if isinstance(value, str) else None
    if match and match[1] in WEEKDAYS and int(match[2]) < 24 and int(match[3]) < 60:
        return Handover(WEEKDAYS.index(match[1]), time(int(match[2]), int(match[3])))
    raise ValueError(f"{value!r} is not a handover; write a weekday and a time, like monday 09:00")


UserId = Annotated[str, BeforeValidator(_user_id)]
TimeZone = Annotated[ZoneInfo, BeforeValidator(_time_zone)]
WallTime = Annotated[datetime, BeforeValidator(_wall_time)]


@dataclass(frozen=True)
class Slot:
    """One stretch of duty: `user` from `start` until `end` (UTC instants)."""

    user: str
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Duty:
    """Who is on duty at an instant (None in a gap) and whose duty comes next."""

    now: Slot | None
    next: Slot | None


class Shift(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    user: UserId
    start: WallTime
    end: WallTime


class DutyRota(BaseModel):
    """The `duty_rota` config key: a weekly rotation or explicit shifts, in one time zone."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    time_zone: TimeZone
    people: list[UserId] | None = Field(default=None, min_length=1)
    start: WallTime | None = None
    handover: Annotated[Handover, BeforeValidator(_handover)] | None = None
    shifts: list[Shift] | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _one_shape(self) -> DutyRota:
        weekly = (self.people, self.start, self.handover)
        if self.shifts is not None:
            if any(part is not None for part in weekly):
                raise ValueError("give either shifts or people/start/handover, not both")
            self._check_shifts()
        elif any(part is None for part in weekly):
            raise ValueError(
                "a weekly rotation needs people, start and handover (or give shifts instead)"
            )
        return self

    def _check_shifts(self) -> None:
        slots = self._shift_slots()
        for number, slot in enumerate(slots):
            if slot.end <= slot.start:
                raise ValueError(
                    f"shift {slot.user} from {slot.start:%Y-%m-%d %H:%M} ends before it starts"
                )
            if number and slot.start < slots[number - 1].end:
                raise ValueError(
                    f"shifts of {slots[number - 1].user} and {slot.user} overlap at "
                    f"{slot.start:%Y-%m-%d %H:%M} UTC; who would be on duty?"
                )

    # -- who is on duty -------------------------------------------------------------------------

    def duty(self, at: datetime) -> Duty:
        """Who is on duty at `at` (timezone-aware) and the slot that follows."""
        slots = self._slots_around(at)
        current = next((s for s in slots if s.start <= at < s.end), None)
        following = next((s for s in slots if s.start >= (current.end if current else at)), None)
        return Duty(current, following)

    def page_order(self, at: datetime) -> list[str]:
        """Whom to page, in order: the person on duty (else the next), then each following
        person on the rota once."""
        order: list[str] = []
        for slot in self._slots_around(at, ahead=len(self.people or self.shifts or [])):
            if slot.end > at and slot.user not in order:
                order.append(slot.user)
        return order

    def _slots_around(self, at: datetime, ahead: int = 1) -> list[Slot]:
        if at.tzinfo is None:
            raise ValueError("naive datetime: pass a timezone-aware instant")
        if self.shifts is not None:
            return self._shift_slots()
        return self._weekly_slots(at, ahead)

    def _instant(self, wall: datetime) -> datetime:
        """A wall-clock time in the rota's zone (or with its own offset) as a UTC instant."""
        aware = wall if wall.tzinfo is not None else wall.replace(tzinfo=self.time_zone)
        return aware.astimezone(UTC)

    def _shift_slots(self) -> list[Slot]:
        slots = [Slot(s.user, self._instant(s.start), self._instant(s.end)) for s in self.shifts]
        return sorted(slots, key=lambda slot: slot.start)

    def _handover_on_or_before(self, wall: datetime) -> datetime:
        """The last handover (wall-clock, naive) at or before a wall-clock time."""
        days_back = (wall.weekday() - self.handover.weekday) % 7
        candidate = datetime.combine(wall.date() - timedelta(days=days_back), self.handover.at)
        return candidate if candidate <= wall else candidate - WEEK

    def _weekly_slots(self, at: datetime, ahead: int) -> list[Slot]:
        """The slot holding `at` (or the first, before the rotation starts) and `ahead` more.

        Handovers are counted in wall-clock weeks, then each is turned into an instant on
        its own: a week across a daylight-saving change is an hour shorter or longer, and
        the handover stays at the same local time.
        """
        start = self._wall(self.start)
        first_handover = self._handover_on_or_before(start) + WEEK  # the first after start
        if at < self._instant(start):
            turn, begins = 0, start
        else:
            last = self._handover_on_or_before(self._wall(at))
            # An hour that happens twice (clocks going back) reads the same on the wall:
            # settle which side of the handover `at` is on by comparing instants.
            if self._instant(last) > at:
                last -= WEEK
            elif self._instant(last + WEEK) <= at:
                last += WEEK
            turn = 0 if last < first_handover else (last - first_handover).days // 7 + 1
            begins = max(last, start)
        slots = []
        for offset in range(ahead + 1):
            ends = first_handover + WEEK * (turn + offset)
            user = self.people[(turn + offset) % len(self.people)]
            slots.append(Slot(user, self._instant(begins), self._instant(ends)))
            begins = ends
        return slots

    def _wall(self, moment: datetime) -> datetime:
        """Naive wall-clock time in the rota's zone (naive input already is)."""
        if moment.tzinfo is None:
            return moment
        return moment.astimezone(self.time_zone).replace(tzinfo=None)
