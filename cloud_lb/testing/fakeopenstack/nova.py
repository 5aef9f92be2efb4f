"""Fake Nova v2.1, only what a cloud controller needs: servers (list, detail, show,
create, delete) with their addresses, so nodes get `openstack:///<server-id>` providerIDs.

A created server is ACTIVE at once and gets a Neutron port on each requested network.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from cloud_lb.testing.fakeopenstack import listing, neutron_ports
from cloud_lb.testing.fakeopenstack.store import Resource, Store, new_id, public, timestamp
from cloud_lb.testing.fakeopenstack.wire import ApiError, Request, Response, Router

S = "compute"


def nova_error(status: int, kind: str, message: str) -> ApiError:
    return ApiError(status, {kind: {"code": status, "message": message}})


def _version(req: Request) -> dict[str, Any]:
    return {"id": "v2.1", "status": "CURRENT", "version": "2.96", "min_version": "2.1",
            "updated": "2013-07-23T11:33:21Z",
            "links": [{"rel": "self", "href": f"{req.service_url}/v2.1/"}]}


def create_server(store: Store, name: str, network_ids: list[str],
                  fixed_ip: str | None = None, metadata: dict[str, str] | None = None
                  ) -> Resource:
    server_id = new_id()
    addresses: dict[str, list[dict[str, Any]]] = {}
    for index, network_id in enumerate(network_ids):
        network = store.get("networks", network_id)
        if network is None:
            raise nova_error(400, "badRequest", f"Network {network_id} could not be found.")
        subnet = neutron_ports.first_subnet(store, network_id)
        wanted = fixed_ip if index == 0 else None
        outside = (wanted is not None and subnet is not None
                   and ipaddress.ip_address(wanted) not in ipaddress.ip_network(subnet["cidr"]))
        # an address outside the subnet (a node of a provider network, or of a demo on
        # loopback addresses) is reported by Nova but not allocated from Neutron's subnet
        port = neutron_ports.create_port(
            store, network_id=network_id, subnet=None if outside else subnet, name="",
            device_owner="compute:nova", device_id=server_id,
            ip_address=None if outside else wanted)
        ips = [ip["ip_address"] for ip in port["fixed_ips"]] or ([wanted] if wanted else [])
        addresses[network["name"]] = [
            {"addr": ip, "version": 6 if ":" in ip else 4,
             "OS-EXT-IPS:type": "fixed", "OS-EXT-IPS-MAC:mac_addr": port["mac_address"]}
            for ip in ips]
    now = timestamp() + "Z"
    server = {
        "id": server_id, "name": name, "status": "ACTIVE", "tenant_id": store.project_id,
        "user_id": "fake-user", "metadata": dict(metadata or {}), "hostId": new_id()[:24],
        "image": {"id": "fake-image"}, "flavor": {"original_name": "b3-8", "vcpus": 2,
                                                  "ram": 8192, "disk": 50},
        "created": now, "updated": now, "addresses": addresses, "accessIPv4": "",
        "accessIPv6": "", "links": [], "OS-EXT-STS:vm_state": "active",
        "OS-EXT-STS:power_state": 1, "OS-EXT-AZ:availability_zone": "nova",
        "OS-EXT-STS:task_state": None, "tags": [], "security_groups": [{"name": "default"}],
    }
    return store.put("servers", server)


def register(router: Router, store: Store) -> None:
    def versions(req: Request) -> Response:
        return Response(200, {"versions": [_version(req)]})

    def version(req: Request) -> Response:
        return Response(200, {"version": _version(req)})

    def lookup(server_id: str) -> Resource:
        server = store.get("servers", server_id)
        if server is None:
            raise nova_error(404, "itemNotFound",
                             f"Instance {server_id} could not be found.")
        return server

    def listing_handler(detail: bool) -> Any:
        def handler(req: Request) -> Response:
            with store.transaction():
                servers = [public(s) for s in store.all("servers")
                           if listing.matches(public(s), {k: v for k, v in req.query.items()
                                                          if k in ("name", "status")})]
                if not detail:
                    servers = [{"id": s["id"], "name": s["name"], "links": []}
                               for s in servers]
                return Response(200, {"servers": listing.page(servers, req.query)})
        return handler

    def show(req: Request) -> Response:
        with store.transaction():
            return Response(200, {"server": public(lookup(req.params["id"]))})

    def create(req: Request) -> Response:
        body = req.json_body("server")
        networks = [n.get("uuid") for n in body.get("networks") or [] if isinstance(n, dict)]
        if not body.get("name"):
            raise nova_error(400, "badRequest", "Invalid input for field/attribute name.")
        with store.transaction():
            server = create_server(store, body["name"], networks,
                                   metadata=body.get("metadata"))
            return Response(202, {"server": {"id": server["id"], "links": [],
                                             "OS-DCF:diskConfig": "MANUAL",
                                             "security_groups": server["security_groups"],
                                             "adminPass": "x"}})

    def delete(req: Request) -> Response:
        with store.transaction():
            server = lookup(req.params["id"])
            for port in store.all("ports"):
                if port["device_id"] == server["id"]:
                    neutron_ports.delete_port(store, port["id"])
            store.remove("servers", server["id"])
            return Response(204)

    router.add("GET", S, "/", versions, authenticated=False)
    router.add("GET", S, "/v2.1", version, authenticated=False)
    router.add("GET", S, "/v2.1/servers", listing_handler(False))
    router.add("GET", S, "/v2.1/servers/detail", listing_handler(True))
    router.add("POST", S, "/v2.1/servers", create)
    router.add("GET", S, "/v2.1/servers/{id}", show)
    router.add("DELETE", S, "/v2.1/servers/{id}", delete)
