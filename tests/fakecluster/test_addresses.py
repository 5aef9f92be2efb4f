"""Node subnets: unique per cluster, never the reserved ranges, claimed through the kernel."""

from __future__ import annotations

import ipaddress

import pytest

from cloud_lb.testing.fakecluster import addresses
from cloud_lb.testing.fakecluster.addresses import SubnetUnavailableError


def test_two_automatic_claims_get_different_subnets_outside_the_reserved_ranges() -> None:
    with addresses.claim_free_subnet() as first, addresses.claim_free_subnet() as second:
        assert first.network != second.network
        for claim in (first, second):
            assert claim.network.prefixlen == 24
            assert claim.network.subnet_of(ipaddress.IPv4Network("127.0.0.0/8"))
            assert not any(claim.network.subnet_of(r) for r in addresses.RESERVED)


def test_a_claimed_subnet_cannot_be_claimed_again_until_released() -> None:
    with addresses.claim_free_subnet() as held:
        with pytest.raises(SubnetUnavailableError, match="in use"):
            addresses.claim_subnet(held.network)
        network = held.network
    with addresses.claim_subnet(network) as again:
        assert again.network == network


def test_automatic_choice_skips_a_subnet_someone_holds(monkeypatch: pytest.MonkeyPatch) -> None:
    # pin the starting point so the second claim must probe past the first
    monkeypatch.setattr(addresses.os, "getpid", lambda: 0)
    monkeypatch.setattr(addresses, "_counter", iter([0, 0]))
    with addresses.claim_free_subnet() as first, addresses.claim_free_subnet() as second:
        assert first.network == addresses._auto_subnet(0)
        assert second.network == addresses._auto_subnet(1)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("127.0.0.0/24", "127.0.0.1"),  # would put a node on the host's own loopback
        ("127.0.1.0/16", "/24"),  # not a /24
        ("10.0.0.0/24", "/24 inside 127.0.0.0/8"),  # not loopback: nothing could bind it
        ("banana", "not an IPv4"),
    ],
)
def test_user_subnets_are_validated(value: str, message: str) -> None:
    with pytest.raises(SubnetUnavailableError, match=message):
        addresses.parse_subnet(value)


def test_node_addresses_are_hosts_one_to_254() -> None:
    claim = addresses.SubnetClaim(ipaddress.IPv4Network("127.9.8.0/24"))
    assert claim.host(1) == "127.9.8.1"
    assert claim.host(254) == "127.9.8.254"
    for bad in (0, 255):
        with pytest.raises(ValueError, match="outside 1..254"):
            claim.host(bad)
