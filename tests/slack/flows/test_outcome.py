"""The one phrasing of what a request did: "Done: … Not done: …"."""

import asyncio

import pytest

from bot.slack.flows.outcome import CARD, ROOM, Outcome, PartlyDone, Step
from bot.slack.gateway import Problems, SlackCallFailed


async def refused(error: str) -> None:
    raise SlackCallFailed("update the message", error)


async def posted() -> str:
    return "1800000000.000100"


async def test_steps_done_and_not_done_in_one_sentence():
    outcome = Outcome("resolved INC-12")
    assert await outcome.step(ROOM, posted()) == "1800000000.000100"
    assert await outcome.step(CARD, refused("channel_not_found")) is None
    with pytest.raises(PartlyDone) as partly:
        outcome.finish()
    assert partly.value.outcome.sentence() == (
        "Done: resolved INC-12, posted in the room. "
        "Not done: the card could not be updated (channel_not_found)."
    )


async def test_a_step_collecting_several_failures_names_each_error_once():
    async def invite(problems: Problems) -> None:
        for user, error in (("U1", "user_not_found"), ("U2", "user_not_found"), ("U3", "x")):
            problems.add(SlackCallFailed(f"invite <@{user}>", error))

    outcome = Outcome("raised INC-3")
    await outcome.step(Step("invited the responders", "not every responder was invited"), invite)
    assert outcome.sentence() == (
        "Done: raised INC-3. Not done: not every responder was invited (user_not_found, x)."
    )


def test_everything_done_raises_nothing():
    outcome = Outcome("closed INC-1")
    outcome.finish()
    assert outcome.sentence() == "Done: closed INC-1." and not outcome


async def test_steps_are_told_in_the_order_they_started_not_finished():
    slow_done, fast_refused = asyncio.Event(), asyncio.Event()

    async def slow() -> None:
        await fast_refused.wait()  # finishes after the next step failed
        slow_done.set()

    async def fast() -> None:
        fast_refused.set()
        raise SlackCallFailed("set the topic", "is_archived")

    outcome = Outcome("moved INC-4 to identified")
    await asyncio.gather(
        outcome.step(ROOM, slow()),
        outcome.step(Step("set the topic", "the topic could not be set"), fast()),
        outcome.step(CARD, posted()),
    )
    assert slow_done.is_set()
    assert outcome.sentence() == (
        "Done: moved INC-4 to identified, posted in the room, updated the card. "
        "Not done: the topic could not be set (is_archived)."
    )
