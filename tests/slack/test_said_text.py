"""Said text in Slack's dialect: parsed once, rendered for each surface."""

import pytest

from bot.simulator.dialect import as_slack_sends
from bot.slack.text import (
    Broadcast,
    ChannelRef,
    Link,
    Person,
    UserGroup,
    Words,
    for_executives,
    for_room,
    from_typed,
    parse,
    plain_text,
    slug,
    visible_length,
)

SAID = (
    "p99 &gt; 5s &amp; rising, <@U1|bob> <#C1|ops> <!here> <!subteam^S1|@sre> "
    "<https://x.io/a?b=1&amp;c=2|R&amp;D runbook> &lt;@U2&gt;"
)


def test_parse_reads_words_and_references():
    assert parse(SAID) == [
        Words("p99 > 5s & rising, "),
        Person("U1", "bob"),
        Words(" "),
        ChannelRef("C1", "ops"),
        Words(" "),
        Broadcast("here"),
        Words(" "),
        UserGroup("S1", "@sre"),
        Words(" "),
        Link("https://x.io/a?b=1&c=2", "R&D runbook"),
        Words(" <@U2>"),  # typed, not picked: words
    ]


def test_angle_brackets_that_are_no_reference_stay_words():
    assert parse("a <b> c <@nobody>") == [Words("a <b> c <@nobody>")]


def test_executives_read_names_and_labels_escaped_once_and_nothing_pings():
    rendered = for_executives(SAID, {"U1": "Bob Jones"})
    assert rendered == (
        "p99 &gt; 5s &amp; rising, @Bob Jones #ops @here @sre R&amp;D runbook &lt;@U2&gt;"
    )
    assert "<" not in rendered.replace("&lt;", "")  # no markup Slack would act on


def test_the_room_keeps_people_and_links_but_does_not_repeat_a_broadcast():
    assert for_room(SAID) == (
        "p99 &gt; 5s &amp; rising, <@U1> <#C1|ops> @here @sre "
        "<https://x.io/a?b=1&amp;c=2|R&amp;D runbook> &lt;@U2&gt;"
    )


def test_plain_text_for_pages_and_exports():
    assert plain_text("<@U1> fixed <#C9> &amp; <mailto:a@b.c>", {"U1": "ann"}) == (
        "@ann fixed #C9 & a@b.c"
    )


@pytest.mark.parametrize(
    "typed",
    ["R&D login down", "p99 > 5s & rising", "<script>alert(1)</script>", "a &amp; b", "<@U1>"],
)
def test_typed_text_round_trips_through_slack_and_modals(typed):
    """Whether it came by a command (escaped by Slack) or a modal (raw), it reads as typed."""
    assert plain_text(from_typed(typed)) == typed
    assert visible_length(from_typed(typed)) == len(typed)


def test_titles_slug_and_count_as_typed():
    said = as_slack_sends("R&D login down")
    assert said == "R&amp;D login down"
    assert slug(said, 60) == "r-d-login-down"
    assert visible_length(said) == 14


def test_the_simulator_escapes_words_but_not_slack_markup():
    assert as_slack_sends("p99 > 5s & <@U1> see <https://x.io|R&D> <b>") == (
        "p99 &gt; 5s &amp; <@U1> see <https://x.io|R&amp;D> &lt;b&gt;"
    )
