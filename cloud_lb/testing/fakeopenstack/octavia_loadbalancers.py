"""Fake Octavia load balancers (single and fully-populated create, cascade delete, the
status tree), flavors, availability zones, providers, quotas and version discovery.

A fully-populated create takes listeners (each with a `default_pool` holding `members`
and a `healthmonitor`, or naming a top-level pool, and `l7policies` with their `rules`,
redirecting to named pools) and top-level `pools` in one body, validates the whole
graph and quota first, and stores it all in PENDING_CREATE: one API call, one
provisioning operation, as Octavia's graph create does.
"""

from __future__ import annotations

from typing import Any

from cloud_lb.testing.fakeopenstack import listing, neutron_ports, octavia_l7
from cloud_lb.testing.fakeopenstack import octavia_children as oc
from cloud_lb.testing.fakeopenstack import octavia_model as om
from cloud_lb.testing.fakeopenstack.store import Resource, Store, new_id, public, timestamp
from cloud_lb.testing.fakeopenstack.wire import Request, Response, Router

S = "load-balancer"
LB_UPDATABLE = {"name", "description", "admin_state_up", "tags", "vip_qos_policy_id"}
API_VERSION = "v2.27"


def _lookup(store: Store, lb_id: str) -> Resource:
    lb = store.get("loadbalancers", lb_id)
    if lb is None:
        raise om.not_found("loadbalancers", lb_id)
    return lb


def _vip(store: Store, body: dict[str, Any]) -> tuple[str, str, str, str, bool]:
    """(port_id, address, subnet_id, network_id, port_created) for the VIP."""
    if body.get("vip_port_id"):
        port = store.get("ports", body["vip_port_id"])
        if port is None:
            raise om.fault(400, f"Port {body['vip_port_id']} not found.")
        ip = port["fixed_ips"][0] if port["fixed_ips"] else {}
        return (port["id"], ip.get("ip_address", ""), ip.get("subnet_id", ""),
                port["network_id"], False)
    subnet = None
    if body.get("vip_subnet_id"):
        subnet = store.get("subnets", body["vip_subnet_id"])
        if subnet is None:
            raise om.fault(400, f"Subnet {body['vip_subnet_id']} not found.")
    elif body.get("vip_network_id"):
        if store.get("networks", body["vip_network_id"]) is None:
            raise om.fault(400, f"Network {body['vip_network_id']} not found.")
        subnet = neutron_ports.first_subnet(store, body["vip_network_id"])
        if subnet is None:
            raise om.validation("Supplied network does not contain a subnet.")
    else:
        raise om.validation("VIP must contain one of: vip_port_id, vip_network_id, "
                            "vip_subnet_id.")
    try:
        address = store.allocate_ip(subnet, body.get("vip_address"))
    except LookupError:
        raise om.fault(409, f"IP address {body['vip_address']} already allocated in subnet "
                            f"{subnet['id']}") from None
    except ValueError as exc:
        raise om.validation(str(exc)) from None
    return "", address, subnet["id"], subnet["network_id"], True


def _check_flavor(store: Store, body: dict[str, Any]) -> None:
    flavor_id = body.get("flavor_id")
    if flavor_id:
        flavor = store.get("flavors", flavor_id)
        if flavor is None:
            raise om.fault(400, f"Flavor {flavor_id} not found.")
        if not flavor.get("enabled", True):
            raise om.fault(400, f"The selected flavor is not allowed in this deployment: "
                                f"{flavor_id}")
    zone = body.get("availability_zone")
    if zone and not any(z["name"] == zone for z in store.all("availability_zones")):
        raise om.fault(400, f"Availability Zone {zone} not found.")


def _graph_counts(body: dict[str, Any]) -> dict[str, int]:
    policies, rules = octavia_l7.graph_counts(body.get("listeners"))
    counts = {"loadbalancers": 1, "listeners": 0, "pools": 0, "members": 0,
              "healthmonitors": 0, "l7policies": policies, "l7rules": rules}
    pools = list(body.get("pools") or [])
    for listener in body.get("listeners") or []:
        counts["listeners"] += 1
        pool = listener.get("default_pool")
        if isinstance(pool, dict) and set(pool) - {"name"}:
            pools.append(pool)
    for pool in pools:
        counts["pools"] += 1
        counts["members"] += len(pool.get("members") or [])
        counts["healthmonitors"] += 1 if pool.get("healthmonitor") else 0
    return counts


def create(store: Store, body: dict[str, Any]) -> tuple[Resource, bool]:
    """Create (graph or not) inside a transaction; returns (lb, was_graph)."""
    _check_flavor(store, body)
    om.require_quota(store, _graph_counts(body))
    port_id, address, subnet_id, network_id, created = _vip(store, body)
    now = timestamp()
    lb: Resource = {
        "id": new_id(), "name": body.get("name") or "", "description":
        body.get("description") or "", "admin_state_up": body.get("admin_state_up", True),
        "provisioning_status": "PENDING_CREATE", "operating_status": "OFFLINE",
        "project_id": store.project_id, "created_at": now, "updated_at": None,
        "vip_address": address, "vip_port_id": port_id, "vip_subnet_id": subnet_id,
        "vip_network_id": network_id, "vip_qos_policy_id": body.get("vip_qos_policy_id"),
        "provider": body.get("provider") or "amphora", "flavor_id":
        body.get("flavor_id"), "availability_zone": body.get("availability_zone"),
        "tags": om.check_tags(body.get("tags")), "additional_vips": [],
        "vip_sg_ids": None, "_owns_vip_port": created,
    }
    graph = _build_graph(store, lb, body)  # validates everything before storing anything
    if created:
        port = neutron_ports.create_port(
            store, network_id=network_id, subnet=store.get("subnets", subnet_id),
            name=f"octavia-lb-{lb['id']}", device_owner="Octavia",
            device_id=f"lb-{lb['id']}", ip_address=address)
        lb["vip_port_id"] = port["id"]
    store.put("loadbalancers", lb)
    for collection, resource in graph:
        store.put(collection, resource)
    om.begin(store, lb, "PENDING_CREATE")
    return lb, bool(graph)


def _build_graph(store: Store, lb: Resource, body: dict[str, Any]) -> list[tuple[str, Resource]]:
    out: list[tuple[str, Resource]] = []
    named: dict[str, Resource] = {}

    def add_pool(pool_body: dict[str, Any], listener: Resource | None) -> Resource:
        tree = oc.build_pool_tree(store, lb, pool_body, listener)
        out.extend(tree)
        return tree[0][1]

    for pool_body in body.get("pools") or []:
        pool = add_pool(pool_body, None)
        if pool["name"]:
            named[pool["name"]] = pool
    listeners: list[Resource] = []
    policies: list[tuple[Resource, Any]] = []
    for listener_body in body.get("listeners") or []:
        body_copy = {k: v for k, v in listener_body.items()
                     if k not in ("default_pool", "l7policies")}
        listener = oc.build_listener(store, lb, body_copy, listeners)
        listeners.append(listener)
        out.append(("listeners", listener))
        pool_body = listener_body.get("default_pool")
        if isinstance(pool_body, dict) and set(pool_body) == {"name"}:
            ref = named.get(pool_body["name"])
            if ref is None:
                raise om.fault(400, f"Missing details for Pool object: {pool_body['name']}")
            listener["default_pool_id"] = ref["id"]
        elif isinstance(pool_body, dict):
            pool = add_pool(pool_body, listener)
            if pool["name"]:
                named.setdefault(pool["name"], pool)
        policies.append((listener, listener_body.get("l7policies")))
    # policies last: a policy may redirect to any named pool of the graph
    for listener, bodies in policies:
        out.extend(octavia_l7.graph_policies(store, listener, bodies, named))
    return out


def register(router: Router, store: Store) -> None:
    def versions(req: Request) -> Response:
        link = [{"href": f"{req.service_url}/v2", "rel": "self"}]
        return Response(200, {"versions": [
            {"id": "v2.0", "status": "SUPPORTED", "updated": "2016-12-11T00:00:00Z",
             "links": link},
            {"id": API_VERSION, "status": "CURRENT", "updated": "2023-03-01T00:00:00Z",
             "links": link},
        ]})

    def get_all(req: Request) -> Response:
        with store.transaction():
            rendered = [om.render(store, "loadbalancers", lb)
                        for lb in store.all("loadbalancers")]
            rendered = [r for r in rendered if listing.matches(r, req.query)]
            return Response(200, {"loadbalancers": listing.page(rendered, req.query),
                                  "loadbalancers_links": []})

    def get_one(req: Request) -> Response:
        with store.transaction():
            lb = _lookup(store, req.params["id"])
            return Response(200, {"loadbalancer": om.render(store, "loadbalancers", lb)})

    def post(req: Request) -> Response:
        body = req.json_body("loadbalancer")
        with store.transaction():
            lb, graph = create(store, body)
            rendered = (om.render_full_lb(store, lb) if graph
                        else om.render(store, "loadbalancers", lb))
            return Response(201, {"loadbalancer": rendered})

    def put(req: Request) -> Response:
        body = req.json_body("loadbalancer")
        with store.transaction():
            lb = _lookup(store, req.params["id"])
            for key, value in body.items():
                if key not in LB_UPDATABLE:
                    raise om.invalid_input(key, value, "Attribute is read-only or unknown")
            om.require_mutable(store, lb)
            if "tags" in body:
                body = {**body, "tags": om.check_tags(body["tags"])}
            lb.update(body)
            om.begin(store, lb)
            return Response(200, {"loadbalancer": om.render(store, "loadbalancers", lb)})

    def delete(req: Request) -> Response:
        cascade = (req.q("cascade") or "").lower() == "true"
        with store.transaction():
            lb = _lookup(store, req.params["id"])
            om.require_mutable(store, lb, deleting=True)
            kids = om.children(store, lb["id"])
            if kids and not cascade:
                raise om.fault(400, f"Cannot delete Load Balancer {lb['id']} - it has "
                                    f"children")
            for _, child in kids:
                om.mark(child, "PENDING_DELETE")
            om.begin(store, lb, "PENDING_DELETE")
            return Response(204)

    def status_tree(req: Request) -> Response:
        with store.transaction():
            lb = _lookup(store, req.params["id"])
            return Response(200, {"statuses": {"loadbalancer": _tree(store, lb)}})

    def stats(req: Request) -> Response:
        with store.transaction():
            _lookup(store, req.params["id"])
            return Response(200, {"stats": {"active_connections": 0, "bytes_in": 0,
                                            "bytes_out": 0, "request_errors": 0,
                                            "total_connections": 0}})

    router.add("GET", S, "/", versions, authenticated=False)
    router.add("GET", S, "/v2", versions, authenticated=False)
    router.add("GET", S, "/v2/lbaas/loadbalancers", get_all)
    router.add("POST", S, "/v2/lbaas/loadbalancers", post)
    router.add("GET", S, "/v2/lbaas/loadbalancers/{id}", get_one)
    router.add("PUT", S, "/v2/lbaas/loadbalancers/{id}", put)
    router.add("DELETE", S, "/v2/lbaas/loadbalancers/{id}", delete)
    router.add("GET", S, "/v2/lbaas/loadbalancers/{id}/status", status_tree)
    router.add("GET", S, "/v2/lbaas/loadbalancers/{id}/stats", stats)
    _register_catalogs(router, store)


def _tree(store: Store, lb: Resource) -> dict[str, Any]:
    def brief(r: Resource) -> dict[str, Any]:
        return {"id": r["id"], "name": r["name"], "provisioning_status":
                r["provisioning_status"], "operating_status": r["operating_status"]}

    def pool_tree(pool: Resource) -> dict[str, Any]:
        out = brief(pool)
        out["members"] = [{**brief(m), "address": m["address"],
                           "protocol_port": m["protocol_port"]}
                          for m in store.all("members") if m["_pool_id"] == pool["id"]]
        hms = [h for h in store.all("healthmonitors") if h["_pool_id"] == pool["id"]]
        if hms:
            out["health_monitor"] = {**brief(hms[0]), "type": hms[0]["type"]}
        return out

    tree = brief(lb)
    tree["listeners"] = []
    for listener in store.all("listeners"):
        if listener["_lb_id"] != lb["id"]:
            continue
        item = brief(listener)
        pools = [p for p in store.all("pools") if p["id"] == listener.get("default_pool_id")]
        item["pools"] = [pool_tree(p) for p in pools]
        tree["listeners"].append(item)
    tree["pools"] = [pool_tree(p) for p in store.all("pools") if p["_lb_id"] == lb["id"]]
    return tree


def _register_catalogs(router: Router, store: Store) -> None:
    def lister(collection: str, key: str) -> Any:
        def handler(req: Request) -> Response:
            with store.transaction():
                rendered = [public(r) for r in store.all(collection)]
                rendered = [r for r in rendered if listing.matches(r, req.query)]
                return Response(200, {key: listing.page(rendered, req.query),
                                      f"{key}_links": []})
        return handler

    def flavor(req: Request) -> Response:
        with store.transaction():
            found = store.get("flavors", req.params["id"])
            if found is None:
                raise om.not_found("flavors", req.params["id"])
            return Response(200, {"flavor": public(found)})

    def providers(req: Request) -> Response:
        return Response(200, {"providers": [
            {"name": "amphora", "description": "The Octavia Amphora driver."},
            {"name": "ovn", "description": "Octavia OVN driver."}]})

    def quota_body() -> dict[str, Any]:
        q = store.quotas
        return {"load_balancer": q["load_balancer"], "listener": q["listener"],
                "pool": q["pool"], "member": q["member"], "health_monitor":
                q["health_monitor"], "l7policy": q["l7policy"], "l7rule": q["l7rule"],
                "project_id": store.project_id}

    def quota_all(req: Request) -> Response:
        return Response(200, {"quotas": [quota_body()], "quotas_links": []})

    def quota_one(req: Request) -> Response:
        return Response(200, {"quota": quota_body()})

    def quota_put(req: Request) -> Response:
        body = req.json_body("quota")
        with store.transaction():
            for key, value in body.items():
                if key not in store.quotas or key in ("floatingip", "port"):
                    raise om.invalid_input(key, value, "Unknown quota")
                om.check_int(key, value, -1, 2**31 - 1)
                store.quotas[key] = value
            return Response(202, {"quota": quota_body()})

    router.add("GET", S, "/v2/lbaas/flavors", lister("flavors", "flavors"))
    router.add("GET", S, "/v2/lbaas/flavors/{id}", flavor)
    router.add("GET", S, "/v2/lbaas/availabilityzones",
               lister("availability_zones", "availability_zones"))
    router.add("GET", S, "/v2/lbaas/providers", providers)
    router.add("GET", S, "/v2/lbaas/quotas", quota_all)
    router.add("GET", S, "/v2/lbaas/quotas/defaults", quota_one)
    router.add("GET", S, "/v2/lbaas/quotas/{project_id}", quota_one)
    router.add("PUT", S, "/v2/lbaas/quotas/{project_id}", quota_put)


def add_flavor(store: Store, name: str, description: str = "") -> Resource:
    flavor = {"id": new_id(), "name": name, "description": description,
              "flavor_profile_id": new_id(), "enabled": True}
    return store.put("flavors", flavor)
