from datetime import UTC, datetime

import pytest

from bot.slack.text import (
    escape,
    mentioned,
    message_time,
    parse_mention,
    plain_text,
    truncate,
    war_room_name,
)

DAY = datetime(2026, 11, 22, tzinfo=UTC)


def test_escape_makes_mentions_and_links_inert():
    assert (
        escape("<!channel> & <@U1> <https://x|y>")
        == "&lt;!channel&gt; &amp; &lt;@U1&gt; &lt;https://x|y&gt;"
    )


@pytest.mark.parametrize(
    ("title", "name"),
    [
        ("Checkout API returning 500s!", "inc-20261122-checkout-api-returning-500s"),
        ("   ", "inc-20261122-incident"),
        ("Ünïcödé — café", "inc-20261122-unicode-cafe"),
        ("<!channel>", "inc-20261122-channel"),
    ],
)
def test_war_room_name(title, name):
    assert war_room_name("inc", DAY, title) == name


def test_war_room_name_stays_within_80_with_suffix():
    name = war_room_name("inc", DAY, "word " * 40, attempt=11)
    assert len(name) <= 80 and name.endswith("-12") and "--" not in name


def test_parse_mention():
    assert parse_mention("<@U0123ABC|bob>") == ("U0123ABC", None)
    assert parse_mention("<@W0123ABC>") == ("W0123ABC", None)
    assert parse_mention("@bob") == (None, "bob")
    assert parse_mention("bob") == (None, None)


def test_truncate():
    assert truncate("abcdef", 4) == "abc…" and truncate("abc", 4) == "abc"


def test_message_time_reads_a_slack_ts_as_an_aware_datetime():
    assert message_time("1795338000.000100") == datetime(2026, 11, 22, 9, 0, 0, 100, tzinfo=UTC)


def test_mentions_are_found_and_named_for_readers_outside_slack():
    text = "ping <@UALICE0001|alice> and <@W0BOB00001>, not <#C1|room> or U12345678"
    assert mentioned(text) == {"UALICE0001", "W0BOB00001"}
    assert plain_text(text, {"UALICE0001": "Alice"}) == (
        "ping @Alice and @W0BOB00001, not #room or U12345678"
    )
