"""Security group rules as plain values, and the rules one NLB needs.

A `Rule` is one ingress permission: (group, protocol, port range, one source). Its
identity (`key`) is what AWS considers the rule to be; the description is an attribute,
and ours is `cloud-lb/<cluster>/<uid>`, which is how we recognise our rules among
everyone else's in a shared node security group. We only ever revoke rules that carry
our description, and a rule that already exists under someone else's description counts
as present (AWS would reject a duplicate anyway) and is never touched.

Rule sets, by `SecurityGroupMode`:
- loadBalancer: the NLB's own group admits each source range on each listener port.
  Every NLB of the cluster also carries one shared "backend" group, and each node group
  admits that backend group on the node-port range and the health-check ports: a few
  rules per cluster instead of a few per Service (a group holds 60 rules by default;
  per-Service node rules would stop the 21st Service). These rules are cluster-shared:
  created when missing, removed only with the cluster's last NLB.
- nodes: each node group admits each source range on each node port (instance targets
  keep the client's address), and the VPC CIDRs on each health-check port (per Service,
  as cloud-provider-aws does; it runs into the same 60-rule limit).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

FRONTEND = "<frontend-sg>"  # our NLB group before it exists; resolved when created
BACKEND = "<backend-sg>"  # the cluster's shared backend group before it exists


@dataclass(frozen=True, order=True)
class Rule:
    group_id: str
    protocol: str  # "tcp" | "udp"
    from_port: int
    to_port: int
    cidr: str = ""  # IPv4 or IPv6 network
    source_group: str = ""  # or a security group ID
    description: str = field(default="", compare=False)

    @property
    def key(self) -> tuple[str, str, int, int, str, str]:
        return (
            self.group_id,
            self.protocol,
            self.from_port,
            self.to_port,
            self.cidr,
            self.source_group,
        )

    def resolve(self, ids: dict[str, str]) -> Rule:
        """This rule with placeholders (FRONTEND, BACKEND) replaced by real group IDs."""
        return Rule(
            group_id=ids.get(self.group_id, self.group_id),
            protocol=self.protocol,
            from_port=self.from_port,
            to_port=self.to_port,
            cidr=self.cidr,
            source_group=ids.get(self.source_group, self.source_group),
            description=self.description,
        )

    def __str__(self) -> str:
        ports = (
            str(self.from_port)
            if self.from_port == self.to_port
            else f"{self.from_port}-{self.to_port}"
        )
        source = self.cidr or self.source_group
        return f"{self.group_id} {self.protocol}/{ports} from {source}"


def to_permission(rule: Rule) -> dict[str, Any]:
    """The `IpPermissions` entry that authorizes or revokes exactly this rule.

    The description goes along on revoke too: AWS matches rules without it, moto
    matches group-pair rules only with it, and we only revoke rules that carry ours.
    """
    permission: dict[str, Any] = {
        "IpProtocol": rule.protocol,
        "FromPort": rule.from_port,
        "ToPort": rule.to_port,
    }
    desc = {"Description": rule.description} if rule.description else {}
    if rule.source_group:
        permission["UserIdGroupPairs"] = [{"GroupId": rule.source_group, **desc}]
    elif ipaddress.ip_network(rule.cidr).version == 6:
        permission["Ipv6Ranges"] = [{"CidrIpv6": rule.cidr, **desc}]
    else:
        permission["IpRanges"] = [{"CidrIp": rule.cidr, **desc}]
    return permission


def from_group(group: dict[str, Any]) -> list[Rule]:
    """Every ingress rule of one `describe_security_groups` entry, flattened."""
    rules: list[Rule] = []
    gid = group["GroupId"]
    for perm in group.get("IpPermissions", []):
        proto = str(perm.get("IpProtocol", "-1"))
        lo, hi = int(perm.get("FromPort", -1)), int(perm.get("ToPort", -1))
        for r in perm.get("IpRanges", []):
            rules.append(
                Rule(gid, proto, lo, hi, cidr=r["CidrIp"], description=r.get("Description", ""))
            )
        for r in perm.get("Ipv6Ranges", []):
            rules.append(
                Rule(gid, proto, lo, hi, cidr=r["CidrIpv6"], description=r.get("Description", ""))
            )
        for r in perm.get("UserIdGroupPairs", []):
            rules.append(
                Rule(
                    gid,
                    proto,
                    lo,
                    hi,
                    source_group=r["GroupId"],
                    description=r.get("Description", ""),
                )
            )
    return rules


@dataclass(frozen=True)
class PortNeed:
    """What one target group needs let in on the nodes."""

    protocols: tuple[str, ...]  # ("tcp",), ("udp",), ("tcp", "udp")
    listener_port: int
    node_port: int
    health_port: int | None  # None when the check uses the traffic port itself


def frontend_rules(
    needs: Iterable[PortNeed], cidrs: Iterable[str], *, description: str
) -> list[Rule]:
    """The NLB group's rules: each source range on each listener port."""
    cidr_list = list(cidrs)
    return _dedupe(
        [
            Rule(
                FRONTEND,
                proto,
                need.listener_port,
                need.listener_port,
                cidr=cidr,
                description=description,
            )
            for need in needs
            for proto in need.protocols
            for cidr in cidr_list
        ]
    )


def node_rules_from_backend(
    needs: Iterable[PortNeed],
    node_groups: Iterable[str],
    *,
    node_port_range: tuple[int, int],
    description: str,
) -> list[Rule]:
    """loadBalancer mode: node groups admit the cluster's backend group on the node-port
    range (per protocol in use) and on health-check ports outside that range."""
    low, high = node_port_range
    need_list = list(needs)
    # tcp always: health checks are TCP/HTTP even for UDP ports (e.g. a UDP Service's
    # healthCheckNodePort lies inside the range)
    protocols = sorted({p for need in need_list for p in need.protocols} | {"tcp"})
    health = sorted(
        {
            need.health_port
            for need in need_list
            if need.health_port is not None and not low <= need.health_port <= high
        }
    )
    rules: list[Rule] = []
    for gid in node_groups:
        rules += [
            Rule(gid, proto, low, high, source_group=BACKEND, description=description)
            for proto in protocols
        ]
        rules += [
            Rule(gid, "tcp", port, port, source_group=BACKEND, description=description)
            for port in health
        ]
    return _dedupe(rules)


def node_rules_from_cidrs(
    needs: Iterable[PortNeed],
    node_groups: Iterable[str],
    cidrs: Iterable[str],
    vpc_cidrs: Iterable[str],
    *,
    description: str,
    shared_description: str,
    shared_ports: frozenset[int],
) -> list[Rule]:
    """nodes mode: node groups admit the clients and the NLB's health checks."""
    rules: list[Rule] = []
    cidr_list, vpc_list = list(cidrs), list(vpc_cidrs)
    for gid in node_groups:
        for need in needs:
            for proto in need.protocols:
                for cidr in cidr_list:
                    rules.append(
                        Rule(
                            gid,
                            proto,
                            need.node_port,
                            need.node_port,
                            cidr=cidr,
                            description=description,
                        )
                    )
            health = need.health_port if need.health_port is not None else need.node_port
            shared = health in shared_ports
            for cidr in vpc_list:
                rules.append(
                    Rule(
                        gid,
                        "tcp",
                        health,
                        health,
                        cidr=cidr,
                        description=shared_description if shared else description,
                    )
                )
    return _dedupe(rules)


def _dedupe(rules: list[Rule]) -> list[Rule]:
    seen: dict[tuple[str, str, int, int, str, str], Rule] = {}
    for rule in rules:
        seen.setdefault(rule.key, rule)
    return list(seen.values())
