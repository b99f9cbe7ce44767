"""The numbers of `/incident stats` on the web: in `/status.json` and in `/metrics`, as
the scheduler last gathered them, checked against the history worked out by hand in
tests/incidents/test_stats.py (told before the bot starts, drills and private incidents
in it)."""

import json
from pathlib import Path

import aiohttp
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from bot.incidents.actions import ActionItems
from bot.simulator import wait_for
from bot.store import Database
from tests.incidents.test_stats import EXPECTED_30D_JSON, seed_history
from tests.incidents.test_updates import Clock


@pytest.fixture
def playbooks() -> list[dict]:
    """The shipped playbooks, which the history's cadences come from."""
    return [yaml.safe_load(path.read_text()) for path in sorted(Path("playbooks").glob("*.yaml"))]


@pytest.fixture
async def clock(database_url):
    """The history told before the bot starts; the bot's now is the history's NOW."""
    clock, db = Clock(), Database(database_url)
    await seed_history(db, clock)
    await db.dispose()
    return clock


async def get(bot, path: str) -> str:
    async with aiohttp.ClientSession() as session, session.get(bot.url + path) as response:
        assert response.status == 200
        return await response.text()


async def shown_numbers(bot) -> dict:
    return json.loads(await get(bot, "/status.json"))["numbers"]


async def test_status_json_carries_every_number_of_each_window(bot):
    # Gathered by the scheduler at startup, not by a request.
    await wait_for(lambda: bot.runtime.numbers.windows, what="the first gathering")
    numbers = await shown_numbers(bot)

    assert list(numbers) == ["30d", "90d", "365d"]
    assert numbers["30d"] == EXPECTED_30D_JSON  # the drill is in none; INC-5 is not named
    ninety = numbers["90d"]
    assert (ninety["incidents"], ninety["by_severity"]) == (6, {"SEV1": 4, "SEV3": 2})
    assert ninety["time_to_resolve"] == {
        "incidents": 5,
        "median_seconds": 95 * 60.0,
        "p90_seconds": 180 * 60.0,
    }
    assert (ninety["longest_silence_seconds"], ninety["longest_silence_in"]) == (10800.0, "INC-1")
    assert (ninety["action_items_open"], ninety["action_items_overdue"]) == (6, 3)
    assert numbers["365d"]["incidents"] == 6


async def scrape(bot) -> dict[tuple, float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(await get(bot, "/metrics"))
        for sample in family.samples
        if sample.name.startswith("warroom_stats_")
    }


async def test_metrics_carry_every_number_of_each_window(bot):
    await wait_for(lambda: bot.runtime.numbers.windows, what="the first gathering")
    metrics = await scrape(bot)

    def stat(name: str, **labels) -> float:
        return metrics[
            (f"warroom_stats_{name}", tuple(sorted({"window": "30d", **labels}.items())))
        ]

    assert stat("incidents") == 5
    assert stat("incidents_by_severity", severity="SEV1") == 3
    assert stat("incidents_by_severity", severity="SEV3") == 2
    assert stat("incidents_by_playbook", playbook="default") == 4
    assert stat("incidents_by_playbook", playbook="(private)") == 1
    expected_times = {
        "identify": (20, 30),
        "mitigate": (60, 150),
        "resolve": (85, 180),
        "first_update": (25, 120),
    }
    for milestone, (median, p90) in expected_times.items():
        assert stat("time_to_seconds", milestone=milestone, quantile="0.5") == median * 60
        assert stat("time_to_seconds", milestone=milestone, quantile="0.9") == p90 * 60
    assert (stat("updates_sent"), stat("updates_on_time")) == (5, 3)
    assert stat("longest_silence_seconds") == 7200
    assert stat("reratings", direction="downgraded") == stat("reratings", direction="raised") == 1
    assert (stat("action_items", state="open"), stat("action_items", state="overdue")) == (5, 2)
    assert stat("incidents", window="90d") == 6 and stat("incidents", window="365d") == 6
    assert stat("action_items", window="90d", state="overdue") == 3
    # Nothing names an incident: no title, no reference, as labels or otherwise.
    assert not [key for key in metrics if any(name in ("title", "incident") for name, _ in key[1])]


async def test_a_request_shows_the_numbers_last_gathered_until_the_next_gathering(bot, clock):
    await wait_for(lambda: bot.runtime.numbers.windows, what="the first gathering")
    items = ActionItems(bot.runtime.service)
    overdue = [
        item
        for item in await items.of_incident(2)  # INC-2: one overdue, one not
        if item.due.isoformat() == "2026-11-20"
    ]
    await items.mark_done(overdue[0].id, "UALICE0001")
    assert (await shown_numbers(bot))["30d"]["action_items_open"] == 5  # not gathered for it
    scraped = await scrape(bot)
    assert scraped[("warroom_stats_action_items", (("state", "open"), ("window", "30d")))] == 5

    await bot.runtime.numbers.refresh()  # what the scheduler runs every minute

    async def after() -> dict:
        return (await shown_numbers(bot))["30d"]

    changed = await wait_until_changed(after, "action_items_open", 5)  # the page's 2 s cache
    assert (changed["action_items_open"], changed["action_items_overdue"]) == (4, 1)
    scraped = await scrape(bot)
    assert scraped[("warroom_stats_action_items", (("state", "overdue"), ("window", "30d")))] == 1


async def wait_until_changed(read, key: str, was) -> dict:
    latest = {}

    async def changed() -> bool:
        latest.update(await read())
        return latest[key] != was

    await wait_for(changed, timeout=10, what=f"{key} to change")
    return latest
