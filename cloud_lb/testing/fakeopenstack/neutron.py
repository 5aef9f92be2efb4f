"""Fake Neutron v2.0: networks, subnets, ports, floating IPs, security groups, tags.

Answers as Neutron does: `{"<resource>": {...}}` bodies, `NeutronError` error bodies
(`FloatingIPNotFound`, `OverQuota` as a 409, `IpAddressAlreadyAllocated`,
`FloatingIPPortAlreadyAssociated`, ...), attribute filters and the tag filters on
lists, tags in create bodies (the `tag-creation` extension) and the `/tags` sub-resource
(replace all, add one, remove one). Tags longer than 60 characters are rejected, as
Neutron rejects them.
"""

from __future__ import annotations

from typing import Any

from cloud_lb.testing.fakeopenstack import listing, neutron_ports
from cloud_lb.testing.fakeopenstack.store import Resource, Store, new_id, public, timestamp
from cloud_lb.testing.fakeopenstack.wire import ApiError, Request, Response, Router

S = "network"
MAX_TAG_LEN = 60
# URL collection -> (store collection, body key, display name, NotFound type)
RESOURCES = {
    "networks": ("networks", "network", "Network", "NetworkNotFound"),
    "subnets": ("subnets", "subnet", "Subnet", "SubnetNotFound"),
    "ports": ("ports", "port", "Port", "PortNotFound"),
    "floatingips": ("floatingips", "floatingip", "Floating IP", "FloatingIPNotFound"),
    "security-groups": ("security_groups", "security_group", "Security group",
                        "SecurityGroupNotFound"),
    "security-group-rules": ("security_group_rules", "security_group_rule",
                             "Security group rule", "SecurityGroupRuleNotFound"),
}
EXTENSIONS = ("router", "external-net", "standard-attr-tag", "tag-creation",
              "security-group", "quotas", "allowed-address-pairs", "port-security",
              "standard-attr-description", "standard-attr-revisions", "fip-port-details")


def neutron_error(status: int, kind: str, message: str) -> ApiError:
    return ApiError(status, {"NeutronError": {"type": kind, "message": message,
                                              "detail": ""}})


def not_found(url_collection: str, rid: str) -> ApiError:
    _, _, name, kind = RESOURCES[url_collection]
    if url_collection == "security-groups":
        return neutron_error(404, kind, f"Security group {rid} does not exist")
    return neutron_error(404, kind, f"{name} {rid} could not be found.")


def bad_request(message: str) -> ApiError:
    return neutron_error(400, "HTTPBadRequest", message)


def check_tags(value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise bad_request(f"Invalid input for tags. Reason: '{value}' is not a list.")
    for tag in value:
        if not isinstance(tag, str) or not tag:
            raise bad_request(f"Invalid input for tags. Reason: '{tag}' is not a valid "
                              f"string.")
        if len(tag) > MAX_TAG_LEN:
            raise bad_request(f"Invalid input for tags. Reason: '{tag}' exceeds maximum "
                              f"length of {MAX_TAG_LEN}.")
    return list(dict.fromkeys(value))


def _stamp(resource: Resource) -> None:
    resource["updated_at"] = timestamp()
    resource["revision_number"] = resource.get("revision_number", 0) + 1


def register(router: Router, store: Store) -> None:
    def versions(req: Request) -> Response:
        return Response(200, {"versions": [{"status": "CURRENT", "id": "v2.0", "links": [
            {"href": f"{req.service_url}/v2.0/", "rel": "self"}]}]})

    def extensions(req: Request) -> Response:
        return Response(200, {"extensions": [
            {"alias": a, "name": a, "description": a, "updated": "2017-01-01T00:00:00-00:00",
             "links": []} for a in EXTENSIONS]})

    def lookup(url_collection: str, rid: str) -> Resource:
        found = store.get(RESOURCES[url_collection][0], rid)
        if found is None:
            raise not_found(url_collection, rid)
        return found

    def render(url_collection: str, resource: Resource) -> Resource:
        out = public(resource)
        if url_collection == "networks":
            out["subnets"] = [s["id"] for s in store.all("subnets")
                              if s["network_id"] == resource["id"]]
        if url_collection == "security-groups":
            out["security_group_rules"] = [
                public(r) for r in store.all("security_group_rules")
                if r["security_group_id"] == resource["id"]]
        return out

    def list_handler(url_collection: str) -> Any:
        collection = RESOURCES[url_collection][0]

        def handler(req: Request) -> Response:
            with store.transaction():
                query = dict(req.query)
                fixed = query.pop("fixed_ips", [])
                rendered = [render(url_collection, r) for r in store.all(collection)]
                rendered = [r for r in rendered if listing.matches(r, query)
                            and _fixed_ips_match(r, fixed)]
                return Response(200, {collection: listing.page(rendered, req.query)})
        return handler

    def show_handler(url_collection: str) -> Any:
        key = RESOURCES[url_collection][1]

        def handler(req: Request) -> Response:
            with store.transaction():
                return Response(200, {key: render(url_collection,
                                                  lookup(url_collection, req.params["id"]))})
        return handler

    for url_collection in RESOURCES:
        base = f"/v2.0/{url_collection}"
        router.add("GET", S, base, list_handler(url_collection))
        router.add("GET", S, base + "/{id}", show_handler(url_collection))
        _register_tags(router, store, url_collection, lookup)

    router.add("GET", S, "/", versions, authenticated=False)
    router.add("GET", S, "/v2.0/extensions", extensions)
    _register_floatingips(router, store, lookup)
    _register_writes(router, store, lookup, render)


def _fixed_ips_match(resource: Resource, filters: list[str]) -> bool:
    for f in filters:
        key, _, value = f.partition("=")
        if not any(ip.get(key) == value for ip in resource.get("fixed_ips", [])):
            return False
    return True


def _register_tags(router: Router, store: Store, url_collection: str, lookup: Any) -> None:
    base = f"/v2.0/{url_collection}/{{id}}/tags"

    def get(req: Request) -> Response:
        with store.transaction():
            return Response(200, {"tags": lookup(url_collection, req.params["id"])["tags"]})

    def replace(req: Request) -> Response:
        with store.transaction():
            resource = lookup(url_collection, req.params["id"])
            resource["tags"] = check_tags(req.json_body().get("tags"))
            _stamp(resource)
            return Response(200, {"tags": resource["tags"]})

    def add_one(req: Request) -> Response:
        with store.transaction():
            resource = lookup(url_collection, req.params["id"])
            tags = check_tags(resource["tags"] + [req.params["tag"]])
            resource["tags"] = tags
            _stamp(resource)
            return Response(201)

    def remove_one(req: Request) -> Response:
        with store.transaction():
            resource = lookup(url_collection, req.params["id"])
            if req.params["tag"] not in resource["tags"]:
                raise neutron_error(404, "TagNotFound",
                                    f"Tag {req.params['tag']} could not be found.")
            resource["tags"].remove(req.params["tag"])
            _stamp(resource)
            return Response(204)

    def remove_all(req: Request) -> Response:
        with store.transaction():
            resource = lookup(url_collection, req.params["id"])
            resource["tags"] = []
            _stamp(resource)
            return Response(204)

    router.add("GET", S, base, get)
    router.add("PUT", S, base, replace)
    router.add("DELETE", S, base, remove_all)
    router.add("PUT", S, base + "/{tag}", add_one)
    router.add("DELETE", S, base + "/{tag}", remove_one)


def _register_floatingips(router: Router, store: Store, lookup: Any) -> None:
    def associate(fip: Resource, port_id: str | None, fixed_ip: str | None) -> None:
        if port_id is None:
            neutron_ports.disassociate(fip)
            return
        port = store.get("ports", port_id)
        if port is None:
            raise not_found("ports", port_id)
        v4 = [ip["ip_address"] for ip in port["fixed_ips"] if ":" not in ip["ip_address"]]
        address = fixed_ip or (v4[0] if v4 else None)
        if address is None:
            raise bad_request(f"Bad floatingip request: Port {port_id} does not have any "
                              f"fixed IPv4 addresses.")
        for other in store.all("floatingips"):
            if other is not fip and other.get("port_id") == port_id \
                    and other.get("fixed_ip_address") == address:
                raise neutron_error(
                    409, "FloatingIPPortAlreadyAssociated",
                    f"Cannot associate floating IP {fip['floating_ip_address']} "
                    f"({fip['id']}) with port {port_id} using fixed IP {address}, as that "
                    f"fixed IP already has a floating IP on external network "
                    f"{other['floating_network_id']}.")
        fip.update({"port_id": port_id, "fixed_ip_address": address, "status": "ACTIVE",
                    "router_id": "router-" + fip["floating_network_id"][:8]})

    def create(req: Request) -> Response:
        body = req.json_body("floatingip")
        unknown = set(body) - {"floating_network_id", "floating_ip_address", "port_id",
                               "fixed_ip_address", "description", "tags", "subnet_id",
                               "project_id", "tenant_id", "dns_name", "dns_domain",
                               "qos_policy_id"}
        if unknown:
            raise bad_request(f"Unrecognized attribute(s) '{', '.join(sorted(unknown))}'")
        with store.transaction():
            network = store.get("networks", body.get("floating_network_id") or "")
            if network is None:
                raise not_found("networks", body.get("floating_network_id") or "")
            if not network.get("router:external"):
                raise bad_request(f"Bad floatingip request: Network {network['id']} is not a "
                                  f"valid external network.")
            left = store.quota_left("floatingip", "floatingips")
            if left is not None and left < 1:
                raise neutron_error(409, "OverQuota",
                                    "Quota exceeded for resources: ['floatingip'].")
            subnet = (store.get("subnets", body["subnet_id"]) if body.get("subnet_id")
                      else neutron_ports.first_subnet(store, network["id"]))
            if subnet is None:
                raise neutron_error(409, "ExternalIpAddressExhausted",
                                    f"Unable to find any IP address on external network "
                                    f"{network['id']}.")
            try:
                address = store.allocate_ip(subnet, body.get("floating_ip_address"))
            except LookupError:
                raise neutron_error(409, "IpAddressAlreadyAllocated",
                                    f"IP address {body['floating_ip_address']} already "
                                    f"allocated in subnet {subnet['id']}") from None
            except ValueError as exc:
                raise neutron_error(409, "ExternalIpAddressExhausted", str(exc)) from None
            now = timestamp()
            fip: Resource = {
                "id": new_id(), "floating_ip_address": address,
                "floating_network_id": network["id"], "router_id": None, "port_id": None,
                "fixed_ip_address": None, "status": "DOWN", "project_id": store.project_id,
                "tenant_id": store.project_id, "description": body.get("description", ""),
                "tags": check_tags(body.get("tags")), "qos_policy_id": None,
                "port_forwardings": [], "dns_domain": "", "dns_name": "",
                "created_at": now, "updated_at": now, "revision_number": 0,
                "_subnet_id": subnet["id"],
            }
            associate(fip, body.get("port_id"), body.get("fixed_ip_address"))
            store.put("floatingips", fip)
            return Response(201, {"floatingip": public(fip)})

    def update(req: Request) -> Response:
        body = req.json_body("floatingip")
        with store.transaction():
            fip = lookup("floatingips", req.params["id"])
            if "port_id" in body:
                associate(fip, body["port_id"], body.get("fixed_ip_address"))
            if "description" in body:
                fip["description"] = body["description"]
            _stamp(fip)
            return Response(200, {"floatingip": public(fip)})

    def delete(req: Request) -> Response:
        with store.transaction():
            lookup("floatingips", req.params["id"])
            store.remove("floatingips", req.params["id"])
            return Response(204)

    router.add("POST", S, "/v2.0/floatingips", create)
    router.add("PUT", S, "/v2.0/floatingips/{id}", update)
    router.add("DELETE", S, "/v2.0/floatingips/{id}", delete)


def _register_writes(router: Router, store: Store, lookup: Any, render: Any) -> None:
    """Ports and security groups (and their rules): create, update name/tags, delete."""

    def create_port(req: Request) -> Response:
        body = req.json_body("port")
        with store.transaction():
            network = lookup("networks", body.get("network_id") or "")
            fixed = (body.get("fixed_ips") or [{}])[0]
            subnet = (store.get("subnets", fixed["subnet_id"]) if fixed.get("subnet_id")
                      else neutron_ports.first_subnet(store, network["id"]))
            try:
                port = neutron_ports.create_port(
                    store, network_id=network["id"], subnet=subnet,
                    name=body.get("name", ""), device_owner=body.get("device_owner", ""),
                    device_id=body.get("device_id", ""), ip_address=fixed.get("ip_address"),
                    tags=check_tags(body.get("tags")), description=body.get("description", ""))
            except LookupError:
                raise neutron_error(409, "IpAddressInUse",
                                    f"Unable to complete operation for network "
                                    f"{network['id']}. The IP address "
                                    f"{fixed.get('ip_address')} is in use.") from None
            return Response(201, {"port": public(port)})

    def delete_port(req: Request) -> Response:
        with store.transaction():
            lookup("ports", req.params["id"])
            neutron_ports.delete_port(store, req.params["id"])
            return Response(204)

    def create_sg(req: Request) -> Response:
        body = req.json_body("security_group")
        with store.transaction():
            left = store.quota_left("security_group", "security_groups")
            if left is not None and left < 1:
                raise neutron_error(409, "OverQuota",
                                    "Quota exceeded for resources: ['security_group'].")
            sg = make_security_group(store, body.get("name", ""), body.get("description", ""),
                                     check_tags(body.get("tags")))
            return Response(201, {"security_group": render("security-groups", sg)})

    def update_sg(req: Request) -> Response:
        body = req.json_body("security_group")
        with store.transaction():
            sg = lookup("security-groups", req.params["id"])
            sg.update({k: v for k, v in body.items() if k in ("name", "description")})
            _stamp(sg)
            return Response(200, {"security_group": render("security-groups", sg)})

    def delete_sg(req: Request) -> Response:
        with store.transaction():
            sg = lookup("security-groups", req.params["id"])
            if any(sg["id"] in p.get("security_groups", []) for p in store.all("ports")):
                raise neutron_error(409, "SecurityGroupInUse",
                                    f"Security Group {sg['id']} in use.")
            for rule in store.all("security_group_rules"):
                if rule["security_group_id"] == sg["id"]:
                    store.remove("security_group_rules", rule["id"])
            store.remove("security_groups", sg["id"])
            return Response(204)

    def create_rule(req: Request) -> Response:
        body = req.json_body("security_group_rule")
        with store.transaction():
            sg = lookup("security-groups", body.get("security_group_id") or "")
            if body.get("direction") not in ("ingress", "egress"):
                raise bad_request(f"Invalid input for direction. Reason: "
                                  f"'{body.get('direction')}' is not in "
                                  f"['ingress', 'egress'].")
            rule = {"id": new_id(), "security_group_id": sg["id"],
                    "direction": body["direction"],
                    "ethertype": body.get("ethertype", "IPv4"),
                    "protocol": body.get("protocol"),
                    "port_range_min": body.get("port_range_min"),
                    "port_range_max": body.get("port_range_max"),
                    "remote_ip_prefix": body.get("remote_ip_prefix"),
                    "remote_group_id": body.get("remote_group_id"),
                    "description": body.get("description", ""),
                    "project_id": store.project_id, "tenant_id": store.project_id,
                    "created_at": timestamp(), "updated_at": timestamp(),
                    "revision_number": 0, "tags": []}
            for other in store.all("security_group_rules"):
                same = {k: other[k] for k in rule if k not in ("id", "created_at",
                                                               "updated_at", "description")}
                if same == {k: rule[k] for k in same}:
                    raise neutron_error(409, "SecurityGroupRuleExists",
                                        f"Security group rule already exists. Rule id is "
                                        f"{other['id']}.")
            store.put("security_group_rules", rule)
            _stamp(sg)
            return Response(201, {"security_group_rule": public(rule)})

    def delete_rule(req: Request) -> Response:
        with store.transaction():
            lookup("security-group-rules", req.params["id"])
            store.remove("security_group_rules", req.params["id"])
            return Response(204)

    router.add("POST", S, "/v2.0/ports", create_port)
    router.add("DELETE", S, "/v2.0/ports/{id}", delete_port)
    router.add("POST", S, "/v2.0/security-groups", create_sg)
    router.add("PUT", S, "/v2.0/security-groups/{id}", update_sg)
    router.add("DELETE", S, "/v2.0/security-groups/{id}", delete_sg)
    router.add("POST", S, "/v2.0/security-group-rules", create_rule)
    router.add("DELETE", S, "/v2.0/security-group-rules/{id}", delete_rule)


def make_security_group(store: Store, name: str, description: str = "",
                        tags: list[str] | None = None) -> Resource:
    now = timestamp()
    sg = {"id": new_id(), "name": name, "description": description, "stateful": True,
          "project_id": store.project_id, "tenant_id": store.project_id,
          "tags": list(tags or []), "created_at": now, "updated_at": now,
          "revision_number": 1}
    return store.put("security_groups", sg)


def make_network(store: Store, name: str, cidr: str, *, external: bool = False,
                 gateway: str | None = None) -> tuple[Resource, Resource]:
    """A network with one subnet (admin setup, not an API call)."""
    import ipaddress
    now = timestamp()
    network = {"id": new_id(), "name": name, "status": "ACTIVE", "admin_state_up": True,
               "shared": False, "router:external": external, "mtu": 1500,
               "project_id": store.project_id, "tenant_id": store.project_id,
               "tags": [], "availability_zones": ["nova"], "port_security_enabled": True,
               "description": "", "created_at": now, "updated_at": now,
               "revision_number": 1}
    store.put("networks", network)
    net = ipaddress.ip_network(cidr)
    hosts = list(net.hosts()) if net.num_addresses <= 65536 else []
    subnet = {"id": new_id(), "name": f"{name}-subnet", "network_id": network["id"],
              "cidr": cidr, "ip_version": net.version,
              "gateway_ip": gateway or (str(hosts[0]) if hosts else None),
              "enable_dhcp": True, "dns_nameservers": [], "host_routes": [],
              "allocation_pools": [{"start": str(hosts[1]), "end": str(hosts[-1])}]
              if len(hosts) > 1 else [],
              "project_id": store.project_id, "tenant_id": store.project_id, "tags": [],
              "description": "", "subnetpool_id": None, "created_at": now,
              "updated_at": now, "revision_number": 0}
    store.put("subnets", subnet)
    return network, subnet
