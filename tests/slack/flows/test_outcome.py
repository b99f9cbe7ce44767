"""The one phrasing of what a request did: "Done: … Not done: …"."""

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
