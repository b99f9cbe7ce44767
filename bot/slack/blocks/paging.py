"""Block Kit for paging: the direct message with Acknowledge, what the room is told, oncall."""

from __future__ import annotations

from datetime import timedelta

from bot.incidents.paging import Acknowledged, Escalation, PageOut
from bot.incidents.privacy import Viewer, shown_to
from bot.incidents.rota import Duty
from bot.playbooks import format_duration
from bot.slack.blocks.common import context, plain, private_headline, section, slack_date
from bot.slack.text import channel, escape, user


def _incident_line(out: PageOut | Acknowledged) -> str:
    """The incident as the person paged may see it (not yet in a private war room)."""
    incident = out.incident
    if not shown_to(incident, Viewer(out.page.user_id)):
        return f"*{private_headline(incident.reference)}*"
    return f"*{incident.reference}* ({incident.severity}): *{escape(incident.title)}*"


def _room(out: PageOut) -> str:
    """A private war room is named once the person paged is in it (acknowledging invites)."""
    shown = shown_to(out.incident, Viewer(out.page.user_id))
    return channel(out.incident.channel_id) if shown else "a private channel, once you acknowledge"


def page_message(out: PageOut, ack_within) -> tuple[str, list]:
    text = f"📟 You are paged as the duty MIM manager for {out.incident.reference}"
    return text, [
        section(f"📟 You are paged as the duty MIM manager: {_incident_line(out)}"),
        context(
            f"War room: {_room(out)} · acknowledge within "
            f"{format_duration(ack_within)}, or the next on the rota is paged."
        ),
        {
            "type": "actions",
            "block_id": "page",
            "elements": [
                {
                    "type": "button",
                    "action_id": "page_acknowledge",
                    "text": plain("Acknowledge"),
                    "style": "primary",
                    "value": str(out.page.id),
                }
            ],
        },
    ]


def acknowledged_message(acked: Acknowledged, offer_command: bool) -> tuple[str, list]:
    text = f"✅ You acknowledged the page for {acked.incident.reference}"
    blocks = [
        section(f"✅ You acknowledged: {_incident_line(acked)}"),
        context(f"You are invited to {channel(acked.incident.channel_id)}."),
    ]
    if offer_command:
        blocks.append(
            {
                "type": "actions",
                "block_id": "page_command",
                "elements": [
                    {
                        "type": "button",
                        "action_id": "page_take_command",
                        "text": plain("Take command"),
                        "value": str(acked.incident.id),
                    }
                ],
            }
        )
    return text, blocks


def took_command(incident) -> str:
    return f"🎖️ You took command of {incident.reference}: {channel(incident.channel_id)}."


def paging_in_room(out: PageOut, ack_within) -> str:
    return (
        f"📟 Paging {user(out.page.user_id)}, the duty MIM manager "
        f"(acknowledge within {format_duration(ack_within)})."
    )


def escalation_in_room(escalation: Escalation, ack_within) -> str:
    silent = user(escalation.unanswered.user_id)
    if escalation.page is None:
        return (
            f"📟 No answer from {silent} either: everyone on the duty rota has been paged "
            "and nobody acknowledged. Call the duty manager directly."
        )
    return (
        f"📟 No answer from {silent} within {format_duration(ack_within)}: paging "
        f"{user(escalation.page.user_id)}, the next on the rota."
    )


def acknowledged_in_room(acked: Acknowledged) -> str:
    after = format_duration_or_now(acked.seconds)
    return f"✅ {user(acked.page.user_id)} acknowledged the page ({after}) and is on the way."


def format_duration_or_now(seconds: int) -> str:
    return f"after {format_duration(timedelta(seconds=seconds))}" if seconds else "at once"


def on_call(duty: Duty | None, fallback: list[str]) -> str:
    """`/incident oncall`: who is the duty MIM manager now, and who is next."""
    if duty is None:
        if not fallback:
            return "No duty rota is configured (`duty_rota`), and no `response_team` to page."
        return (
            "No duty rota is configured: major incidents page the response team in order: "
            + ", ".join(user(u) for u in fallback)
            + "."
        )
    lines = []
    if duty.now:
        lines.append(f"📟 On duty now: {user(duty.now.user)} until {slack_date(duty.now.end)}")
    else:
        lines.append("📟 Nobody is on duty right now.")
    if duty.next:
        lines.append(f"Next: {user(duty.next.user)} from {slack_date(duty.next.start)}")
    return "\n".join(lines)
