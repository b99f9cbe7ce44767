"""A drill's scorecard as Markdown, for the post-incident review document."""

from __future__ import annotations

from bot.incidents.drills import ScoredDrill
from bot.incidents.scorecard import Measure

MARKS = {True: "✅", False: "❌", None: "➖"}


def verdict(measures: list[Measure]) -> str:
    judged = [m for m in measures if m.met is not None]
    return f"{sum(1 for m in judged if m.met)} of {len(judged)} targets met"


def scorecard_markdown(scored: ScoredDrill) -> str:
    incident = scored.snapshot.incident
    lines = [f"## Drill scorecard ({incident.reference})", ""]
    if scored.scenario:
        lines.append(f"Scenario: {scored.scenario}")
    if not scored.measures:
        lines.append("The scorecard is made when the drill is resolved.")
        return "\n".join(lines) + "\n"
    lines += [
        verdict(scored.measures) + f", against the {scored.snapshot.playbook.name} playbook's "
        "drill targets.",
        "",
        "| | measure | result | target |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {MARKS[m.met]} | {_cell(m.label)} | {_cell(m.result)} | {_cell(m.target)} |"
        for m in scored.measures
    ]
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
