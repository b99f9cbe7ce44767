"""The people directory against the fake Slack, on a controlled clock."""

from datetime import UTC
from zoneinfo import ZoneInfo

import pytest

from bot.background import BackgroundTasks
from bot.incidents import IncidentError
from bot.slack.people import (
    DIRECTORY_SECONDS,
    MISS_REFRESH_SECONDS,
    PERSON_SECONDS,
    WORKSPACE_RETRY_SECONDS,
    People,
)


@pytest.fixture
def slack(gateway_to_fake):
    fake, gateway, clock = gateway_to_fake
    fake.add_user("UANN000001", "ann", tz="Europe/Paris")
    fake.add_user("UBEN000001", "ben", tz="Not/AZone")
    return fake, People(gateway, BackgroundTasks(), clock), clock


async def test_a_person_is_asked_once_until_they_expire(slack):
    fake, people, clock = slack
    assert await people.name("UANN000001") == "ann"
    assert await people.zone("UANN000001") == ZoneInfo("Europe/Paris")
    assert len(fake.calls_to("users.info")) == 1
    clock.now += PERSON_SECONDS
    fake.users["UANN000001"]["profile"]["display_name"] = "Annie"
    assert await people.name("UANN000001") == "Annie"
    assert len(fake.calls_to("users.info")) == 2


async def test_unknown_people_and_zones_fall_back(slack):
    _, people, _ = slack
    assert await people.name("UNOBODY001") == "UNOBODY001"
    assert await people.zone("UNOBODY001") == UTC
    assert await people.zone("UBEN000001") == UTC  # a zone Python does not know
    assert await people.names(["UANN000001", "S0GROUP01", "UNOBODY001"]) == {
        "UANN000001": "ann",
        "UNOBODY001": "UNOBODY001",
    }


async def test_names_are_found_from_a_listing_kept_for_minutes(slack):
    fake, people, clock = slack
    assert await people.find("ANN") == "UANN000001"
    assert await people.find("Ben") == "UBEN000001"  # real name, any case
    assert len(fake.calls_to("users.list")) == 1
    clock.now += DIRECTORY_SECONDS
    assert await people.find("ann") == "UANN000001"
    assert len(fake.calls_to("users.list")) == 2  # a stale listing is not trusted


async def test_a_miss_lists_again_at_most_once_a_minute(slack):
    fake, people, clock = slack
    assert await people.find("cat") is None
    fake.add_user("UCAT000001", "cat")
    assert await people.find("cat") is None  # too soon to list again
    clock.now += MISS_REFRESH_SECONDS
    assert await people.find("cat") == "UCAT000001"
    assert len(fake.calls_to("users.list")) == 2


async def test_deleted_people_are_refused(slack):
    fake, people, _ = slack
    fake.users["UBEN000001"]["deleted"] = True
    with pytest.raises(IncidentError, match="can't find the user UBEN000001"):
        await people.resolve("UBEN000001", None)
    with pytest.raises(IncidentError, match="anyone called @ben"):
        await people.resolve(None, "ben")
    assert await people.resolve(None, "ann") == "UANN000001"


async def test_user_change_replaces_the_cached_person(slack):
    fake, people, _ = slack
    await people.find("ann")
    people.learn(fake.users["UANN000001"] | {"tz": "Asia/Tokyo", "name": "anna"})
    assert await people.zone("UANN000001") == ZoneInfo("Asia/Tokyo")
    assert await people.find("anna") == "UANN000001"
    assert len(fake.calls_to("users.list")) == 1 and not fake.calls_to("users.info")


async def test_an_unknown_workspace_is_asked_in_the_background_once_a_minute(slack):
    fake, people, clock = slack
    assert people.workspace() is None  # startup asked a moment ago (and Slack could not say)
    assert people.tasks.pending == 0 and not fake.calls_to("auth.test")
    clock.now += WORKSPACE_RETRY_SECONDS
    assert people.workspace() is None  # the caller never waits for Slack
    assert people.workspace() is None and people.tasks.pending == 1  # one question at a time
    await people.tasks.drain()
    assert people.workspace() == "https://warroom-demo.slack.com/"
    assert len(fake.calls_to("auth.test")) == 1
