"""What an address reaches, however it is spelled: the check between our side and the other side compares it."""

import pytest

from tracker.channels import joined, reaches


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


@pytest.mark.parametrize(
    "address",
    [
        "http://127.1:9/x",
        "http://0x7f000001:9/x",
        "http://2130706433:9/x",
        "http://0177.0.0.1:9/x",
        "http://[::ffff:127.0.0.1]:9/x",
        "json://127.1:9/",
    ],
)
def test_an_ip_address_in_any_spelling_the_resolver_takes_is_one_host(address):
    """A hook at the other side's server by another spelling of its IP address went to the same server unseen."""
    assert "//127.0.0.1:9" in reaches(address), sorted(reaches(address))


def test_an_ipv6_address_is_compared_in_one_spelling_and_a_name_of_digits_and_letters_stays_a_name():
    assert "//2001:db8::1:9" in reaches("http://[2001:db8:0::1]:9/") and "//2001:db8::1:9" in reaches(
        "http://[2001:db8::1]:9/"
    )
    assert "//1e1.test:80" in reaches("http://1e1.test/")


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        ("noc@mail.eastland.example", "hotline@eastland.example"),
        ("https://www.eastland.example/hook", "hotline@eastland.example"),
        ("https://www.eastland.example/hook", "https://eastland.example/their"),
        ("https://www.eastland.example:8443/hook", "https://eastland.example/their"),
        ("noc@eastland.example", "hotline@mod.eastland.example"),
        ("http://localhost:8302/x", "http://127.0.0.1:8302/their"),
        ("http://desk.localhost:8302/x", "http://127.0.0.1:8302/their"),
        ("http://[::1]:8302/x", "http://127.0.0.1:8302/their"),
        ("http://127.0.0.2:8302/x", "http://127.1:8302/their"),
    ],
)
def test_a_name_under_theirs_or_another_name_of_this_host_joins_their_side(ours, theirs):
    """An internal line at noc@mail.eastland.example or http://localhost was saved beside counterpart lines at
    eastland.example and 127.0.0.1: our alerts, with their acknowledge links, went to the other side."""
    assert joined(reaches(ours), reaches(theirs)) and joined(reaches(theirs), reaches(ours)), (ours, theirs)


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        ("noc@northmark.example", "hotline@eastland.example"),
        ("noc@eastland.example.org", "hotline@eastland.example"),
        ("noc@noteastland.example", "hotline@eastland.example"),
        ("http://10.0.0.1:80/x", "http://0.0.1:80/y"),
        ("north-desk", "eastland-desk"),
    ],
)
def test_other_names_other_ports_and_labels_stay_apart(ours, theirs):
    assert not joined(reaches(ours), reaches(theirs)), (ours, sorted(reaches(ours)), sorted(reaches(theirs)))


@pytest.mark.parametrize(
    "ours",
    ["https://eastland.example:8443/hook", "https://ops.eastland.example:8443/hook", "json://eastland.example:8080/x"],
)
def test_a_named_host_of_theirs_joins_their_side_at_any_port(ours):
    """Only the standard ports of their mail domain's web server were theirs: an internal hook at
    https://eastland.example:8443 was saved, and our alert with its acknowledge link went there."""
    assert joined(reaches(ours), reaches("hotline@eastland.example")), sorted(reaches(ours))


def test_an_ip_address_is_still_compared_with_its_port():
    """One host may serve both sides' receivers (a test bench, a relay): by address, the port tells them apart."""
    assert not joined(reaches("http://127.0.0.1:9000/ours"), reaches("http://127.0.0.1:8302/theirs"))
