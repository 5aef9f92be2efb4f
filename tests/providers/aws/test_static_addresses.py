"""Elastic IPs and private addresses: used when asked, checked first, never released."""

from __future__ import annotations

import dataclasses

import pytest

from cloud_lb.provider import InvalidSpecError
from providers.aws import annotations as ann
from providers.aws.naming import load_balancer_name
from tests.providers.aws.conftest import Harness


def _allocate(aws: Harness, n: int) -> list[str]:
    return [aws.ec2().allocate_address(Domain="vpc")["AllocationId"] for _ in range(n)]


def test_eip_allocations_pin_the_addresses_and_survive_delete(aws: Harness) -> None:
    allocations = _allocate(aws, 2)
    provider = aws.provider()
    spec = aws.spec(options={ann.EIP_ALLOCATIONS: ",".join(allocations)})
    provider.ensure(spec)
    name = load_balancer_name(spec.ref)
    lb = aws.lb(name)
    assert len(lb["AvailabilityZones"]) == 2
    assert provider.plan(spec) == []
    # other addresses mean a new NLB (AWS cannot swap them in place)
    other = _allocate(aws, 2)
    moved = dataclasses.replace(spec, options=((ann.EIP_ALLOCATIONS, ",".join(other)),))
    assert any("static addresses" in str(c) for c in provider.plan(moved))
    provider.ensure(moved)
    assert aws.lb(name)["LoadBalancerArn"] != lb["LoadBalancerArn"]
    provider.delete(spec.ref)
    left = {a["AllocationId"] for a in aws.ec2().describe_addresses()["Addresses"]}
    assert set(allocations + other) <= left  # we never release what we did not allocate


@pytest.mark.parametrize("count", [1, 3])
def test_one_allocation_per_subnet(aws: Harness, count: int) -> None:
    provider = aws.provider()
    spec = aws.spec(options={ann.EIP_ALLOCATIONS: ",".join(_allocate(aws, count))})
    with pytest.raises(InvalidSpecError) as err:
        provider.ensure(spec)
    assert err.value.field == ann.EIP_ALLOCATIONS
    assert aws.recorder.mutations() == 0


def test_unknown_allocation_is_a_user_error_before_any_change(aws: Harness) -> None:
    provider = aws.provider()
    spec = aws.spec(
        options={ann.EIP_ALLOCATIONS: "eipalloc-0000000000000001,eipalloc-0000000000000002"}
    )
    with pytest.raises(InvalidSpecError) as err:
        provider.ensure(spec)
    assert err.value.field == ann.EIP_ALLOCATIONS
    assert aws.recorder.mutations() == 0


def test_load_balancer_ip_uses_that_elastic_ip_in_one_subnet(aws: Harness) -> None:
    address = aws.ec2().allocate_address(Domain="vpc")["PublicIp"]
    provider = aws.provider()
    spec = aws.spec(static_ip=address)
    provider.ensure(spec)
    assert len(aws.lb(load_balancer_name(spec.ref))["AvailabilityZones"]) == 1
    with pytest.raises(InvalidSpecError) as err:
        provider.ensure(aws.spec(static_ip="192.0.2.44"))
    assert err.value.field == "spec.loadBalancerIP"


def test_private_addresses_for_an_internal_nlb_must_be_in_the_subnets(aws: Harness) -> None:
    provider = aws.provider()
    ok = aws.spec(options={ann.SCHEME: "internal", ann.PRIVATE_IPV4: "10.0.1.100,10.0.2.100"})
    provider.ensure(ok)
    assert aws.lb(load_balancer_name(ok.ref))["Scheme"] == "internal"
    bad = aws.spec(options={ann.SCHEME: "internal", ann.PRIVATE_IPV4: "10.0.1.100,10.0.1.101"})
    with pytest.raises(InvalidSpecError) as err:
        provider.ensure(bad)
    assert "10.0.1.101" in str(err.value)
