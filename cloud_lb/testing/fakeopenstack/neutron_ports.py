"""Neutron ports as the other fake services need them (Octavia VIPs, Nova servers).

Deleting a port disassociates the floating IPs that pointed at it, as Neutron does when
a load balancer's VIP port goes away.
"""

from __future__ import annotations

from typing import Any

from cloud_lb.testing.fakeopenstack.store import Resource, Store, new_id, timestamp


def mac_address() -> str:
    raw = new_id().replace("-", "")[:10]
    return "fa:16:" + ":".join(raw[i:i + 2] for i in range(0, 8, 2))


def create_port(store: Store, *, network_id: str, subnet: Resource | None, name: str = "",
                device_owner: str = "", device_id: str = "", ip_address: str | None = None,
                tags: list[str] | None = None, description: str = "",
                security_groups: list[str] | None = None) -> Resource:
    fixed_ips: list[dict[str, Any]] = []
    if subnet is not None:
        fixed_ips.append({"subnet_id": subnet["id"],
                          "ip_address": store.allocate_ip(subnet, ip_address)})
    now = timestamp()
    port = {
        "id": new_id(), "name": name, "network_id": network_id, "admin_state_up": True,
        "mac_address": mac_address(), "fixed_ips": fixed_ips, "device_id": device_id,
        "device_owner": device_owner, "status": "ACTIVE" if device_owner else "DOWN",
        "project_id": store.project_id, "tenant_id": store.project_id,
        "security_groups": list(security_groups or []), "allowed_address_pairs": [],
        "binding:vnic_type": "normal", "port_security_enabled": True,
        "description": description, "tags": list(tags or []), "created_at": now,
        "updated_at": now, "revision_number": 1,
    }
    return store.put("ports", port)


def delete_port(store: Store, port_id: str) -> None:
    store.remove("ports", port_id)
    for fip in store.all("floatingips"):
        if fip.get("port_id") == port_id:
            disassociate(fip)


def disassociate(fip: Resource) -> None:
    fip.update({"port_id": None, "fixed_ip_address": None, "router_id": None,
                "status": "DOWN", "updated_at": timestamp()})
    fip["revision_number"] = fip.get("revision_number", 0) + 1


def first_subnet(store: Store, network_id: str, version: int = 4) -> Resource | None:
    for subnet in store.all("subnets"):
        if subnet["network_id"] == network_id and subnet.get("ip_version", 4) == version:
            return subnet
    return None
