"""Other people's resources, planted in each cloud's fake before cloud-lb runs.

For a Service `web` (whose names they copy) and a Service `pinned` (whose
loadBalancerIP is someone else's reserved address):

- the provider's own `plant_foreign(ref)` look-alikes: resources with exactly the names
  `web` would get, tagged for another cluster or not tagged at all (and, per cloud, a
  floating IP tagged like ours for another cluster, a foreign security group, a legacy
  cloud-provider-gcp forwarding rule and address, another cluster's local state entry);
- a static address reserved by the user outside cloud-lb (a floating IP, an Elastic IP,
  a reserved GCE address, another cluster's local address), named by `pinned`.

`flat(world)` is the whole fake cloud as {key: resource}; `view(world, keys)` the part
that was planted, compared with == before and after every step.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from cloud_lb.model import LBRef
from tests.reliability.worlds import World


@dataclass
class Planted:
    keys: set[str]  # every planted resource
    static_ip: str | None  # the address `pinned` asks for (None: the cloud has none)
    static_keys: set[str]  # the resources that make up that address


def flat(world: World) -> dict[str, Any]:
    snap = world.snapshot()
    name = world.provider_name
    if name == "openstack":
        return {f"{coll}/{rid}": res for coll, items in snap.items() for rid, res in items.items()}
    if name == "gcp":
        out = dict(snap["resources"])
        out.update({f"members:{group}": members for group, members in snap["members"].items()})
        return out
    if name == "aws":
        return {f"{kind}/{key}": value for kind in ("lbs", "tgs", "sgs")
                for key, value in snap[kind].items()} | {
            f"eip/{a['AllocationId']}": a
            for a in world.fake.client("ec2").describe_addresses()["Addresses"]}
    return {f"{file}/{key}": entry for (file, key), entry in snap.items()}


# what using a user's static address may change on it: its association's bookkeeping
ASSOCIATION_FIELDS = frozenset({"revision_number", "updated_at", "status", "users"})


def view(world: World, keys: set[str], *, static: bool = False) -> dict[str, Any]:
    """The planted resources now. `static`: without the association bookkeeping that
    using a static address changes (its existence, tags and description must stay)."""
    everything = flat(world)
    out = {key: everything.get(key) for key in sorted(keys)}
    if static:
        out = {k: ({f: v for f, v in r.items() if f not in ASSOCIATION_FIELDS}
                   if isinstance(r, dict) else r) for k, r in out.items()}
    return out


def describe_changes(before: dict[str, Any], now: dict[str, Any]) -> str:
    """Which planted resources changed, field by field (for assertion messages)."""
    lines = []
    for key, value in now.items():
        old = before.get(key)
        if value == old:
            continue
        if not isinstance(value, dict) or not isinstance(old, dict):
            lines.append(f"{key}: {old!r} -> {value!r}")
            continue
        for field in sorted(set(old) | set(value)):
            if old.get(field) != value.get(field):
                lines.append(f"{key}.{field}: {old.get(field)!r} -> {value.get(field)!r}")
    return "\n".join(lines)


def plant(world: World, web: LBRef) -> Planted:
    before = set(flat(world))
    static_ip = _PLANTERS[world.provider_name](world, web)
    after = flat(world)
    keys = set(after) - before
    static_keys = {k for k in keys if static_ip and static_ip in json.dumps(after[k], default=str)}
    return Planted(keys=keys, static_ip=static_ip, static_keys=static_keys)


def _openstack(world: World, web: LBRef) -> str:
    from providers.openstack.testing import plant_foreign

    plant_foreign(world.fake, web)
    user_fip = world.fake.plant_floating_ip(tags=[], description="reserved by a user")
    return str(user_fip["floating_ip_address"])


def _aws(world: World, web: LBRef) -> str:
    world.fake.plant_foreign(web)
    ec2 = world.fake.client("ec2")
    # a security group with our name pattern and no tags at all, in another VPC-less style
    ec2.create_security_group(GroupName=f"k8s-elb-{web.name}-untagged",
                              Description="a look-alike without tags", VpcId=world.fake.vpc_id)
    eip = ec2.allocate_address(Domain="vpc")
    return str(eip["PublicIp"])


def _gcp(world: World, web: LBRef) -> str:
    from providers.gcp.testing import REGION, plant_foreign

    plant_foreign(world.fake, web)
    reserved = world.fake.create("addresses", REGION, {"name": "user-reserved",
                                                       "description": "reserved by a user"})
    return str(reserved["address"])


def _local(world: World, web: LBRef) -> str:
    from providers.local.state import Record, atomic_write_json, provider_id_for, record_to_json
    from providers.local.state import state_file_name

    state_dir = world.fake  # the local world's fake cloud is its state dir
    pool = list(__import__("ipaddress").ip_network(world.section["addressPool"]).hosts())
    other = LBRef(f"{web.cluster}-other", web.kind, web.namespace, web.name, web.uid)

    def put(cluster: str, key: str, entry: dict[str, Any]) -> None:
        path = state_dir / state_file_name(cluster)
        try:
            document = json.loads(path.read_text())
        except FileNotFoundError:
            document = {"version": 1, "cluster": cluster, "loadBalancers": {}}
        document["loadBalancers"][key] = entry
        atomic_write_json(path, document)

    # another cluster's load balancer for the same object, on the pool's last address:
    # that address is what `pinned` asks for (someone else's static IP)
    foreign = record_to_json(Record.for_ref(other, str(pool[-1])))
    put(other.cluster, provider_id_for(other), foreign)
    # an entry under exactly the id `web` gets, in our own file, tagged for the other one
    lookalike = record_to_json(Record.for_ref(other, str(pool[-2])))
    lookalike["providerId"] = provider_id_for(web)
    put(web.cluster, provider_id_for(web), lookalike)
    return str(pool[-1])


_PLANTERS = {"openstack": _openstack, "aws": _aws, "gcp": _gcp, "local": _local}
