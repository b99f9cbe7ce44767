"""Whom to page: the duty rota's order from an instant, else the response team's people.

Pure: the instant is an argument.
"""

from __future__ import annotations

from datetime import datetime

from bot.incidents.rota import DutyRota


def page_order(rota: DutyRota | None, response_team: list[str], at: datetime) -> list[str]:
    """The duty manager first, then each next person on the rota once. Without a rota, the
    response team's people in the order the config lists them (user groups are skipped:
    a page goes to one person)."""
    if rota is not None:
        order = rota.page_order(at)
        if order:
            return order
    return [member for member in response_team if member[0] in "UW"]
