"""Choosing the playbook at declaration: on the command line and in the form."""

import copy
import json

import pytest

from bot.simulator import wait_for
from tests.conftest import ALICE, TEST_PLAYBOOK

BREACH = {
    "name": "security-breach",
    "description": "Data breach",
    "default_severity": "SEV1",
    "private": True,
    "severities": {
        "SEV1": {"description": "Confirmed data access", "major": True, "update_every": "30m"},
        "SEV2": {"description": "Suspected intrusion", "major": True, "update_every": "1h"},
    },
    "checklist": ["Preserve evidence"],
}


@pytest.fixture
def playbooks():
    return [copy.deepcopy(TEST_PLAYBOOK), BREACH]


async def test_playbook_on_the_command_line_is_shown_on_the_card(bot):
    room = await bot.declare("SEV2 Leaked API key playbook=security-breach")
    card = json.dumps(room["messages"][0]["blocks"])
    assert "security-breach" in card and "Suspected intrusion" in card
    assert room["is_private"]  # the playbook's default
    assert any("Preserve evidence" in m["text"] for m in room["messages"])


async def test_picking_a_playbook_in_the_form_changes_its_severities(bot):
    await bot.slack.command(ALICE, "declare", bot.general)
    view_id = await wait_for(lambda: next(iter(bot.fake.views), None), what="the declare form")
    await bot.slack.pick_in_view(ALICE, view_id, "declare_playbook", "security-breach")
    await wait_for(
        lambda: "Confirmed data access" in json.dumps(bot.fake.views[view_id]),
        what="the form to update",
    )
    view = bot.fake.views[view_id]
    severity = next(b for b in view["blocks"] if b.get("block_id") == "severity")
    assert [o["value"] for o in severity["element"]["options"]] == ["SEV1", "SEV2"]
    await bot.slack.submit(
        ALICE,
        view_id,
        {
            "title": {"value": "Customer export found on a public bucket"},
            "severity": {"selected_option": {"value": "SEV1"}},
            "private": {"selected_options": [{"value": "private"}]},
        },
    )
    await bot.settled()
    (incident,) = await bot.service.list_open()
    assert incident.incident.playbook == "security-breach" and incident.incident.private
