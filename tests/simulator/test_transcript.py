"""The demo's printout: a channel as a person reads it."""

from bot.simulator import Workspace, render_channel


def test_a_channel_reads_like_slack():
    workspace = Workspace()
    alice = workspace.add_user("UALICE0001", "alice")
    room = workspace.add_channel("inc-1", [alice])
    card = workspace.add_message(
        room,
        {
            "ts": workspace.next_ts(),
            "text": "fallback",
            "edited": True,
            "blocks": [
                {"type": "header", "text": {"type": "plain_text", "text": "INC-1"}},
                {"type": "section", "fields": [{"type": "mrkdwn", "text": "*Status*\nOpen"}]},
                {"type": "actions", "elements": [{"text": {"text": "Resolve"}}]},
            ],
        },
    )
    workspace.set_pinned(room, card["ts"])
    said = f"<@{alice}> says 5 &lt; 6 in <#{room}|inc-1>, see <https://x.test|the graph>"
    workspace.add_message(room, {"ts": workspace.next_ts(), "user": alice, "text": said})
    workspace.add_message(
        room, {"ts": workspace.next_ts(), "text": "just you", "subtype": "ephemeral"}
    )
    assert render_channel(workspace, room) == (
        "  warroom 📌 (edited): == INC-1 ==\n"
        "    *Status*: Open\n"
        "    [Resolve]\n"
        "  alice: @alice says 5 < 6 in #inc-1, see the graph (https://x.test)"
    )
