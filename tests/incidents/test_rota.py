"""Who is the duty manager: weekly rotations and explicit shifts, across daylight saving."""

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from bot.incidents.rota import DutyRota


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


WEEKLY = {
    "time_zone": "Europe/London",
    "people": ["UANNA", "UBEN", "UCARA"],
    "start": "2026-10-19 09:00",
    "handover": "monday 09:00",
}


def weekly(**changes) -> DutyRota:
    return DutyRota.model_validate(WEEKLY | changes)


def on_duty(rota: DutyRota, at: str) -> tuple[str | None, str | None]:
    duty = rota.duty(utc(at))
    return (duty.now.user if duty.now else None, duty.next.user if duty.next else None)


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        ("2026-10-19T07:59", (None, "UANNA")),  # before the rotation starts
        ("2026-10-19T08:00", ("UANNA", "UBEN")),  # 09:00 BST
        # London leaves summer time on 25 October: Monday's 09:00 is now 09:00 UTC.
        ("2026-10-26T08:00", ("UANNA", "UBEN")),
        ("2026-10-26T08:59", ("UANNA", "UBEN")),
        ("2026-10-26T09:00", ("UBEN", "UCARA")),
        ("2026-11-02T09:00", ("UCARA", "UANNA")),
        ("2026-11-09T09:00", ("UANNA", "UBEN")),  # round again
    ],
)
def test_weekly_rotation_hands_over_at_local_time(at, expected):
    assert on_duty(weekly(), at) == expected


def test_handover_follows_summer_time_back_in():
    rota = weekly()
    # 29 March 2027, the day after the clocks go forward: 09:00 BST is 08:00 UTC.
    before, after = rota.duty(utc("2027-03-29T07:59")), rota.duty(utc("2027-03-29T08:00"))
    assert before.now.end == after.now.start == utc("2027-03-29T08:00")
    assert before.now.user != after.now.user and before.next.user == after.now.user


def test_a_slot_spans_a_week_of_wall_clock_time():
    slot = weekly().duty(utc("2026-10-20T12:00")).now
    assert (slot.start, slot.end) == (utc("2026-10-19T08:00"), utc("2026-10-26T09:00"))
    # 7 days and an hour: the week in which the clocks went back
    assert (slot.end - slot.start).total_seconds() == 7 * 86400 + 3600


def test_rotation_starting_mid_week_hands_over_at_the_first_handover():
    rota = weekly(start="2026-10-21 12:00")  # a Wednesday
    assert rota.duty(utc("2026-10-21T11:00")).now.user == "UANNA"
    assert rota.duty(utc("2026-10-26T09:00")).now.user == "UBEN"


def test_handover_in_the_hour_that_happens_twice():
    # 01:30 on 25 October 2026 happens at 00:30 UTC (BST) and again at 01:30 UTC (GMT):
    # the handover is the first; at the second 01:15 the new person is already on duty.
    rota = weekly(start="2026-10-18 01:30", handover="sunday 01:30")
    assert rota.duty(utc("2026-10-25T00:29")).now.user == "UANNA"
    assert rota.duty(utc("2026-10-25T00:30")).now.user == "UBEN"
    assert rota.duty(utc("2026-10-25T01:15")).now.user == "UBEN"


def test_page_order_is_everyone_once_from_who_is_on_duty():
    assert weekly().page_order(utc("2026-10-27T00:00")) == ["UBEN", "UCARA", "UANNA"]
    assert weekly(people=["UANNA"]).page_order(utc("2026-10-27T00:00")) == ["UANNA"]


SHIFTS = {
    "time_zone": "America/New_York",
    "shifts": [
        {"user": "UDAY", "start": "2026-11-23 08:00", "end": "2026-11-23 20:00"},
        {"user": "UNIGHT", "start": "2026-11-23 20:00", "end": "2026-11-24 08:00"},
        {"user": "ULONDON", "start": "2026-11-24T14:00+00:00", "end": "2026-11-24T20:00+00:00"},
    ],
}


def test_explicit_shifts_in_their_time_zone_with_gaps():
    rota = DutyRota.model_validate(SHIFTS)
    assert on_duty(rota, "2026-11-23T12:59") == (None, "UDAY")  # 07:59 in New York
    assert on_duty(rota, "2026-11-23T13:00") == ("UDAY", "UNIGHT")
    assert on_duty(rota, "2026-11-24T01:00") == ("UNIGHT", "ULONDON")
    assert on_duty(rota, "2026-11-24T13:00") == (None, "ULONDON")  # the gap after the night
    assert on_duty(rota, "2026-11-24T14:00") == ("ULONDON", None)
    assert rota.page_order(utc("2026-11-23T14:00")) == ["UDAY", "UNIGHT", "ULONDON"]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"time_zone": "Europe/Londn"}, "'Europe/Londn' is not a time zone"),
        ({"handover": "mon 9am"}, "'mon 9am' is not a handover"),
        ({"people": ["S0GROUP"]}, "'S0GROUP' is not a Slack user ID"),
        ({"people": []}, "at least 1 item"),
        ({"start": "next week"}, "'next week' is not a date and time"),
        ({"handover": None}, "a weekly rotation needs people, start and handover"),
        ({"shifts": SHIFTS["shifts"]}, "either shifts or people/start/handover"),
    ],
)
def test_broken_rotas_say_why(changes, expected):
    with pytest.raises(ValidationError) as raised:
        weekly(**changes)
    assert expected in str(raised.value)


def test_overlapping_or_backwards_shifts_are_refused():
    overlapping = [dict(s) for s in SHIFTS["shifts"]]
    overlapping[1]["start"] = "2026-11-23 19:00"
    with pytest.raises(ValidationError, match="shifts of UDAY and UNIGHT overlap"):
        DutyRota.model_validate(SHIFTS | {"shifts": overlapping})
    backwards = [{"user": "UDAY", "start": "2026-11-23 08:00", "end": "2026-11-23 07:00"}]
    with pytest.raises(ValidationError, match="ends before it starts"):
        DutyRota.model_validate(SHIFTS | {"shifts": backwards})


def test_a_naive_instant_is_refused():
    with pytest.raises(ValueError, match="naive"):
        weekly().duty(datetime(2026, 11, 1))
