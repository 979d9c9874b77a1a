"""What an address reaches, however it is spelled: the check between our side and the other side compares it."""

import pytest

from tracker.channels import reaches


@pytest.mark.parametrize(
    "address",
    [
        "hotline@eastland.test",
        "Ops <hotline@eastland.test>",
        "HOTLINE@Eastland.Test",
        "desk@ours.test,hotline@eastland.test",
        "desk@ours.test; hotline@eastland.test",
        '"Ops" <hotline@eastland.test>, desk@ours.test',
    ],
)
def test_every_mailbox_an_address_names_reaches_its_domain(address):
    """A line saved before outbox lines named one recipient may hold a display name or a list: each mailbox in it
    reaches its own address and domain, so delivery still refuses our alerts over it (sides.theirs)."""
    found = reaches(address)
    assert {"hotline@eastland.test", "@eastland.test", "//eastland.test:443"} <= found, sorted(found)


def test_a_label_reaches_itself_only():
    assert reaches("North-Desk") == {"north-desk"}
    assert reaches("") == set() and reaches(None) == set()


def test_a_mailbox_of_ours_beside_theirs_reaches_both_and_nothing_else():
    found = reaches("desk@ours.test,hotline@eastland.test")
    domains = {item for item in found if item.startswith("@")}
    assert domains == {"@ours.test", "@eastland.test"}, sorted(found)
