"""Property: when AWS holds exactly what was rendered, the diff is empty (an unchanged
resync makes no call), whatever the spec; and an empty cloud diffs into creations only."""

from __future__ import annotations

import os

from hypothesis import given, settings
from hypothesis import strategies as st

from cloud_lb.model import (
    Backend,
    HealthCheck,
    HealthCheckProtocol,
    IPFamily,
    LBRef,
    Listener,
    LoadBalancerSpec,
    ObjectKind,
    Protocol,
)
from providers.aws import annotations as ann
from providers.aws.annotations import parse
from providers.aws.config import SecurityGroupMode
from providers.aws.diff import diff
from providers.aws.naming import rule_description
from providers.aws.render import Placement, Settings, render
from providers.aws.security_groups import BACKEND, FRONTEND
from providers.aws.state import (
    Desired,
    Observed,
    ObservedListener,
    ObservedLoadBalancer,
    ObservedTargetGroup,
)
from providers.aws.subnets import SubnetInfo

EXAMPLES = 400 if os.environ.get("CLOUD_LB_FULL") == "1" else 40
REF = LBRef("prod", ObjectKind.SERVICE, "shop", "cart", "uid-7")
IDS = {FRONTEND: "sg-front", BACKEND: "sg-back"}
PLACEMENT = Placement(
    subnets=(
        SubnetInfo("subnet-a", "za", "10.0.1.0/24", ("2600::/64",)),
        SubnetInfo("subnet-b", "zb", "10.0.2.0/24", ("2600:0:0:1::/64",)),
    ),
    frontend_sg_id="sg-front",
    backend_sg_id="sg-back",
    node_security_groups=("sg-nodes",),
    vpc_cidrs=("10.0.0.0/16",),
)

checks = st.sampled_from(
    [
        HealthCheck(protocol=HealthCheckProtocol.HTTP, port=10256, path="/healthz"),
        HealthCheck(
            protocol=HealthCheckProtocol.HTTP, port=31999, path="/healthz", interval_seconds=10
        ),
        HealthCheck(
            protocol=HealthCheckProtocol.TCP, port=30001, interval_seconds=30, timeout_seconds=30
        ),
    ]
)


@st.composite
def specs(draw: st.DrawFn) -> LoadBalancerSpec:
    ports = draw(st.lists(st.integers(1, 3000), min_size=1, max_size=4, unique=True))
    listeners: list[Listener] = []
    for i, port in enumerate(ports):
        node_port = 30001 + i
        for proto in draw(
            st.sampled_from([(Protocol.TCP,), (Protocol.UDP,), (Protocol.TCP, Protocol.UDP)])
        ):
            listeners.append(
                Listener(f"{proto.value}-{port}", proto, port, node_port, draw(checks))
            )
    options = draw(
        st.dictionaries(
            st.sampled_from([ann.CROSS_ZONE, ann.PROXY_PROTOCOL, ann.SCHEME]),
            st.just("x"),
            max_size=3,
        )
    )
    values = {ann.CROSS_ZONE: "true", ann.PROXY_PROTOCOL: "*", ann.SCHEME: "internal"}
    return LoadBalancerSpec(
        ref=REF,
        listeners=tuple(listeners),
        backends=tuple(
            Backend(f"n{i}", f"10.0.1.{i + 10}", f"aws:///za/i-0{i}")
            for i in range(draw(st.integers(0, 4)))
        ),
        source_ranges=tuple(
            draw(
                st.lists(
                    st.sampled_from(["192.0.2.0/24", "198.51.100.0/24", "2001:db8::/32"]),
                    unique=True,
                    max_size=3,
                )
            )
        ),
        ip_families=draw(st.sampled_from([(IPFamily.IPV4,), (IPFamily.IPV4, IPFamily.IPV6)])),
        options=tuple(sorted((k, values[k]) for k in options)),
    )


def mirror(desired: Desired) -> Observed:
    """What AWS would report after applying `desired` exactly."""
    lb = desired.lb
    tgs = tuple(
        ObservedTargetGroup(
            arn=f"arn:tg/{tg.name}",
            name=tg.name,
            protocol=tg.protocol,
            port=tg.port,
            health=tg.health,
            attributes=tg.attributes,
            tags=tg.tags,
            targets=desired.targets,
        )
        for tg in desired.target_groups
    )
    return Observed(
        lb=ObservedLoadBalancer(
            arn="arn:lb",
            name=lb.name,
            dns_name="x.elb",
            scheme=lb.scheme,
            ip_address_type=lb.ip_address_type,
            subnets=lb.subnet_ids,
            security_groups=tuple(IDS.get(g, g) for g in lb.security_groups),
            tags=lb.tags,
        ),
        attributes=lb.attributes,
        listeners=tuple(
            ObservedListener(f"arn:li/{li.port}", li.port, li.protocol, f"arn:tg/{li.target_group}")
            for li in desired.listeners
        ),
        target_groups=tgs,
        frontend_sg_id="sg-front" if desired.frontend_sg else None,
        backend_sg_id="sg-back" if desired.backend_sg else None,
        rules=tuple(r.resolve(IDS) for r in desired.rules),
    )


@settings(max_examples=EXAMPLES, deadline=None)
@given(spec=specs(), mode=st.sampled_from(list(SecurityGroupMode)))
def test_what_was_rendered_diffs_to_nothing(
    spec: LoadBalancerSpec, mode: SecurityGroupMode
) -> None:
    opts = parse(spec.options)
    desired = render(spec, opts, placement=PLACEMENT, settings=Settings(mode=mode))
    d = diff(desired, mirror(desired), our_description=rule_description(REF))
    assert d.changes() == []


@settings(max_examples=EXAMPLES, deadline=None)
@given(spec=specs())
def test_an_empty_cloud_diffs_into_creations_only(spec: LoadBalancerSpec) -> None:
    desired = render(
        spec,
        parse(spec.options),
        settings=Settings(),
        placement=Placement(subnets=PLACEMENT.subnets, node_security_groups=("sg-nodes",)),
    )
    changes = diff(desired, Observed(), our_description=rule_description(REF)).changes()
    assert not any(c.action == "delete" for c in changes)
    assert sum(c.resource == "listener" for c in changes) == len(desired.listeners)
    assert sum(c.resource == "target-group" and c.action == "create" for c in changes) == len(
        desired.target_groups
    )
