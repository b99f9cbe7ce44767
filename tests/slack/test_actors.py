"""Who is acting: the user groups that grant permissions, asked of the fake Slack and kept
for a while, on a controlled clock."""

import pytest

from bot.incidents.permissions import Actor
from bot.playbooks import Playbook, PlaybookLibrary
from bot.slack.actors import GROUP_SECONDS, Actors, named_groups

ANN, BEN = "UANN000001", "UBEN000001"
ADMINS, LEADS = "SADMINS001", "SLEADS0001"


@pytest.fixture
def slack(gateway_to_fake):
    fake, gateway, clock = gateway_to_fake
    fake.add_usergroup(ADMINS, [ANN])
    fake.add_usergroup(LEADS, [BEN])
    return fake, Actors(gateway, [ADMINS, LEADS], clock), clock


def test_the_groups_that_matter_are_the_admins_and_the_playbooks_ones():
    playbook = Playbook.model_validate(
        {
            "name": "default",
            "severities": {"SEV1": {"description": "Down"}},
            "permissions": {"close": ["commander", LEADS, BEN]},
        }
    )
    library = PlaybookLibrary({"default": playbook}, "default")
    assert named_groups([ANN, ADMINS], library) == {ADMINS, LEADS}


async def test_membership_is_asked_once_per_group_until_it_expires(slack):
    fake, actors, clock = slack
    assert await actors.of(ANN) == Actor(ANN, frozenset({ADMINS}))
    assert await actors.of(BEN) == Actor(BEN, frozenset({LEADS}))
    assert len(fake.calls_to("usergroups.users.list")) == 2

    fake.add_usergroup(ADMINS, [ANN, BEN])  # Ben joins the admins
    assert await actors.of(BEN) == Actor(BEN, frozenset({LEADS}))  # not yet asked again
    clock.now += GROUP_SECONDS
    assert await actors.of(BEN) == Actor(BEN, frozenset({ADMINS, LEADS}))
    assert len(fake.calls_to("usergroups.users.list")) == 4


async def test_a_group_slack_cannot_list_grants_nothing_and_is_asked_again(slack):
    fake, actors, _ = slack
    fake.fail("usergroups.users.list", "missing_scope", usergroup=ADMINS)
    assert await actors.of(ANN) == Actor(ANN)  # still acts as a role holder would
    assert await actors.of(ANN) == Actor(ANN, frozenset({ADMINS}))  # asked again: answered


async def test_with_no_groups_named_nothing_is_asked(slack):
    fake, actors, _ = slack
    assert await Actors(actors.gateway, []).of(ANN) == Actor(ANN)
    assert fake.calls_to("usergroups.users.list") == []
