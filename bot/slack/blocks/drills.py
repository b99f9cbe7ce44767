"""Drills in Slack: the scripted injects posted in the drill's war room, and the scorecard."""

from __future__ import annotations

from bot.incidents.drills import DueInject, ScoredDrill
from bot.render.drills import MARKS, verdict
from bot.scenarios import InjectKind
from bot.slack.blocks.common import DRILL_MARK, context, drill_mark, section
from bot.slack.text import escape, user


def inject_post(due: DueInject) -> str:
    """An inject as the team sees it in the room (questions go to the comms lead instead)."""
    text = escape(due.inject.text)
    if due.inject.kind == InjectKind.OFFLINE:
        role = escape(due.role_title or "")
        who = f"{user(due.holder)}, the {role}," if due.holder else f"The {role}"
        return (
            f"{drill_mark(due.snapshot)}🔌 *Inject:* {text}\n"
            f"{who} is offline for the rest of the drill: the role is vacant and they can "
            "hold no role until it ends. Hand it over (`/incident assign`) and carry on "
            "without them."
        )
    return f"{drill_mark(due.snapshot)}🎬 *Inject:* {text}"


def scorecard(scored: ScoredDrill) -> tuple[str, list]:
    incident = scored.snapshot.incident
    title = f"{DRILL_MARK} scorecard · {incident.reference} · {verdict(scored.measures)}"
    lines = [
        f"{MARKS[m.met]} *{escape(m.label)}:* {escape(m.result)} _(target: {escape(m.target)})_"
        for m in scored.measures
    ]
    blocks = [section(f"*{title}*"), section("\n".join(lines))]
    scenario = f"Scenario `{escape(scored.scenario)}` · " if scored.scenario else ""
    blocks.append(
        context(
            f"{scenario}Targets from the {escape(scored.snapshot.playbook.name)} playbook's "
            "`drill_targets`. `/incident report` includes this scorecard."
        )
    )
    return title, blocks
