"""/metrics after a declared incident, JSON log lines without secrets, /healthz."""

import io
import json
import logging
import sqlite3
import time

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.logs import configure_logging, log_format
from bot.simulator import wait_for
from tests.conftest import ALICE, SECRET


async def get(bot, path):
    async with aiohttp.ClientSession() as session, session.get(bot.url + path) as response:
        return response.status, await response.text()


async def scrape(bot) -> dict[tuple, float]:
    status, text = await get(bot, "/metrics")
    assert status == 200
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def test_metrics_after_a_declared_incident(bot):
    bot.fake.fail("conversations.setTopic", "internal_error", status=500)  # retried once
    bot.fake.fail("pins.add", "not_pinnable", times=5)  # refused for good
    room = await bot.declare("SEV1 Checkout down")
    await bot.slack.say(ALICE, room["id"], "errors from the payment provider")
    await bot.slack.command(ALICE, "update", room["id"])
    await bot.settled()
    await wait_for(lambda: bot.runtime.metrics.scheduler_lag.collect(), what="a tick")

    metrics = await scrape(bot)
    assert metrics[("warroom_slack_requests_total", (("kind", "command"),))] == 2
    assert metrics[("warroom_slack_requests_total", (("kind", "event"),))] >= 1
    assert metrics[("warroom_slack_ack_seconds_count", (("kind", "command"),))] == 2
    assert metrics[("warroom_events_stored_total", ())] >= 1
    assert metrics[("warroom_slack_api_calls_total", (("method", "conversations.create"),))] == 1
    assert (
        metrics[("warroom_slack_api_retries_total", (("method", "conversations.setTopic"),))] == 1
    )
    pins = ("warroom_slack_api_errors_total", (("error", "not_pinnable"), ("method", "pins.add")))
    assert metrics[pins] >= 1
    assert metrics[("warroom_incidents_open", (("severity", "SEV1"),))] == 1
    assert metrics[("warroom_incidents_open", (("severity", "SEV4"),))] == 0
    assert metrics[("warroom_update_drafts_waiting", ())] == 1
    assert metrics[("warroom_slack_last_answer_timestamp_seconds", ())] > time.time() - 60
    assert metrics[("warroom_scheduler_lag_seconds_count", ())] >= 1


@pytest.fixture
def json_logs():
    """The process's logging as `LOG_FORMAT=json` sets it up (at DEBUG: every library's
    lines too), captured; restored afterwards."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    captured = io.StringIO()
    configure_logging(log_format({"LOG_FORMAT": "json"}), logging.DEBUG, stream=captured)
    yield captured
    root.handlers[:], root.level = saved[0], saved[1]


async def test_json_logs_carry_context_and_no_secrets(bot, json_logs):
    bot.fake.fail("chat.postMessage", "channel_not_found", times=1)  # a failure worth logging
    room = await bot.declare("SEV2 Search is slow")
    await bot.slack.say(ALICE, room["id"], "looking at the index")
    await bot.slack.command(ALICE, "status identified the index is cold", room["id"])
    await bot.settled()

    lines = json_logs.getvalue().splitlines()
    assert len(lines) > 10
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    assert all({"time", "level", "logger", "message"} <= record.keys() for record in records)
    assert any(r.get("incident") == "INC-1" and r.get("slack_request_id") for r in records)
    for secret in ("xoxb-test", SECRET):
        assert not [line for line in lines if secret in line]


def test_log_format_is_checked():
    assert log_format({}) == "text" and log_format({"LOG_FORMAT": "JSON"}) == "json"
    with pytest.raises(Exception, match="LOG_FORMAT: 'xml' is not one of text, json"):
        log_format({"LOG_FORMAT": "xml"})


async def test_healthz_stays_up_while_slack_is_away(bot):
    status, body = await get(bot, "/healthz")
    health = json.loads(body)
    assert status == 200 and health["ok"] and health["database"] == "ok"
    assert health["slack_last_answered"] is not None  # the token check at startup
    await bot.fake.stop()
    status, body = await get(bot, "/healthz")
    assert (
        status == 200 and json.loads(body)["slack_last_answered"] == health["slack_last_answered"]
    )


async def test_healthz_fails_fast_when_the_database_takes_no_writes(bot, tmp_path):
    if not bot.runtime.db.is_sqlite:
        pytest.skip("holds SQLite's write lock from outside")
    blocker = sqlite3.connect(tmp_path / "incidents.db", isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # another writer holds the lock and never lets go
    try:
        started = time.monotonic()
        status, body = await get(bot, "/healthz")
        assert status == 503 and time.monotonic() - started < 2.5
        assert json.loads(body) == {
            "ok": False,
            "database": "the database did not answer within 1 s",
            "slack_last_answered": json.loads(body)["slack_last_answered"],
        }
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert (await get(bot, "/healthz"))[0] == 200
