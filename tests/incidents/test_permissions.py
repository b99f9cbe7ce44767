"""The permission rules on their own: no Slack, no database."""

import pytest

from bot.incidents.permissions import (
    Action,
    Actor,
    Candidate,
    CannotHoldRole,
    IncidentPermissions,
    NotAllowed,
    check_can_hold,
)
from bot.incidents.service import IncidentSnapshot
from bot.playbooks import Playbook
from bot.store.models import Incident

ALICE, BOB, CAROL = "UALICE0001", "UBOB000001", "UCAROL0001"
LEADS = "SLEADS0001"


def snapshot(permissions: dict | None = None, **roles) -> IncidentSnapshot:
    playbook = Playbook.model_validate(
        {
            "name": "default",
            "severities": {"SEV1": {"description": "Down"}},
            "permissions": permissions or {},
        }
    )
    holders = {"commander": ALICE, "comms": None, "tech": None} | roles
    return IncidentSnapshot(Incident(id=12, title="x", severity="SEV1"), playbook, holders)


def test_role_holders_and_admins_may_and_others_are_told_who_can():
    rules = IncidentPermissions(frozenset({CAROL, LEADS}))
    incident = snapshot(comms=BOB)
    assert rules.require(incident, Action.CLOSE, BOB) == Actor(BOB)
    assert rules.require(incident, Action.CLOSE, CAROL) == Actor(CAROL)
    assert rules.require(incident, Action.CLOSE, Actor("UERIN00001", frozenset({LEADS})))
    with pytest.raises(NotAllowed) as refused:
        rules.require(incident, Action.CLOSE, "UDAVE00001")
    assert str(refused.value) == (
        "Only the Incident Commander UALICE0001, the Comms Lead UBOB000001 or an incident "
        "admin can close INC-12."
    )
    mentioned = refused.value.sentence(lambda user: f"@{user}", str.upper)
    assert mentioned.startswith("Only the INCIDENT COMMANDER @UALICE0001, the COMMS LEAD")


def test_a_playbook_names_roles_people_and_groups_and_an_empty_list_leaves_it_to_admins():
    incident = snapshot(
        {"close": [], "severity": ["tech", CAROL, LEADS]}, comms=BOB, tech="UDAVE00001"
    )
    rules = IncidentPermissions()
    with pytest.raises(NotAllowed, match="^No one can close INC-12 now"):
        rules.require(incident, Action.CLOSE, ALICE)
    with pytest.raises(NotAllowed) as refused:
        rules.require(incident, Action.SEVERITY, ALICE)
    assert str(refused.value) == (
        "Only the Tech Lead UDAVE00001, UCAROL0001 or SLEADS0001 can change the severity of INC-12."
    )
    assert rules.require(incident, Action.SEVERITY, Actor("UERIN00001", frozenset({LEADS})))
    assert rules.require(incident, Action.SEVERITY, CAROL)


def test_someone_allowed_in_this_case_only_is_named():
    rules, incident = IncidentPermissions(), snapshot()
    owner = (("its owner", BOB),)
    assert rules.require(incident, Action.ACTION_ITEMS, BOB, owner) == Actor(BOB)
    with pytest.raises(NotAllowed, match="Only the Incident Commander UALICE0001 or its owner"):
        rules.require(incident, Action.ACTION_ITEMS, CAROL, owner)


@pytest.mark.parametrize(
    ("candidate", "why"),
    [
        (Candidate("UBOT000001", bot=True), "is a bot or an app, not a person"),
        (Candidate("USLACKBOT", system=True), "is a system account, not a person"),
        (Candidate("UGONE00001", deactivated=True), "is deactivated"),
    ],
)
def test_only_active_people_can_hold_roles(candidate, why):
    with pytest.raises(CannotHoldRole, match=why):
        check_can_hold(candidate)
    check_can_hold(Candidate(ALICE))
