"""Fake Octavia listeners, pools, members (incl. the batch update), health monitors.

`build_*` validate one object's request body and return the stored dict; they are shared
by the single-object POSTs and by the fully-populated load balancer create. Every write
checks the parent load balancer is mutable and starts a provisioning operation on it.
A TERMINATED_HTTPS listener's certificate references must load from the fake Barbican;
a pool that an L7 policy redirects to cannot be deleted (409, as Octavia's
PoolInUseByL7Policy). L7 policies and rules live in `octavia_l7`.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from cloud_lb.testing.fakeopenstack import barbican, listing, octavia_l7
from cloud_lb.testing.fakeopenstack import octavia_model as om
from cloud_lb.testing.fakeopenstack.store import Resource, Store, new_id, timestamp
from cloud_lb.testing.fakeopenstack.wire import Request, Response, Router

LISTENER_DEFAULTS: dict[str, Any] = {
    "connection_limit": -1, "timeout_client_data": 50000, "timeout_member_connect": 5000,
    "timeout_member_data": 50000, "timeout_tcp_inspect": 0, "insert_headers": {},
    "default_tls_container_ref": None, "sni_container_refs": [], "allowed_cidrs": None,
    "tls_ciphers": None, "tls_versions": None, "alpn_protocols": None,
    "client_ca_tls_container_ref": None, "client_authentication": "NONE",
    "client_crl_container_ref": None, "hsts_max_age": None, "hsts_include_subdomains": False,
    "hsts_preload": False,
}
LISTENER_UPDATABLE = set(LISTENER_DEFAULTS) | {"name", "description", "admin_state_up",
                                               "default_pool_id", "tags"}
POOL_UPDATABLE = {"name", "description", "admin_state_up", "lb_algorithm",
                  "session_persistence", "tags", "tls_enabled"}
MEMBER_UPDATABLE = {"name", "admin_state_up", "weight", "backup", "monitor_address",
                    "monitor_port", "tags"}
HM_UPDATABLE = {"name", "delay", "timeout", "max_retries", "max_retries_down", "http_method",
                "url_path", "expected_codes", "admin_state_up", "tags", "http_version",
                "domain_name"}


def _base(store: Store, body: dict[str, Any], lb_id: str) -> Resource:
    now = timestamp()
    return {
        "id": new_id(), "name": body.get("name") or "", "description": body.get("description")
        or "", "admin_state_up": body.get("admin_state_up", True),
        "provisioning_status": "PENDING_CREATE", "operating_status": "OFFLINE",
        "project_id": store.project_id, "created_at": now, "updated_at": None,
        "tags": om.check_tags(body.get("tags")), "_lb_id": lb_id,
    }


# -- builders -------------------------------------------------------------------------
def build_listener(store: Store, lb: Resource, body: dict[str, Any],
                   siblings: list[Resource]) -> Resource:
    om.check_choice("protocol", body.get("protocol"), om.LISTENER_PROTOCOLS)
    om.check_int("protocol_port", body.get("protocol_port"), 1, 65535)
    protocol, port = body["protocol"], body["protocol_port"]
    for other in siblings:
        if other["protocol_port"] == port and om.L4[other["protocol"]] == om.L4[protocol]:
            raise om.fault(409, f"Another Listener on this Load Balancer is already using "
                                f"protocol {other['protocol']} and protocol_port {port}")
    listener = _base(store, body, lb["id"])
    for key, default in LISTENER_DEFAULTS.items():
        listener[key] = body.get(key, default)
    for key in ("timeout_client_data", "timeout_member_connect", "timeout_member_data",
                "timeout_tcp_inspect"):
        om.check_int(key, listener[key], 0, 31536000)
    if listener["connection_limit"] != -1:
        om.check_int("connection_limit", listener["connection_limit"], 0, 2**31 - 1)
    if listener["insert_headers"] and protocol not in ("HTTP", "TERMINATED_HTTPS"):
        raise om.fault(400, f"insert_headers is not a valid option for a {protocol} "
                            f"protocol listener.")
    listener["allowed_cidrs"] = om.check_cidrs(listener["allowed_cidrs"], lb["vip_address"])
    listener["sni_container_refs"] = list(listener["sni_container_refs"] or [])
    listener.update(protocol=protocol, protocol_port=port, default_pool_id=None)
    check_tls(store, listener)
    return listener


def check_tls(store: Store, listener: Resource) -> None:
    """Octavia's listener TLS checks: TERMINATED_HTTPS needs a default certificate, only
    it may have certificates, and each reference must load from the key manager."""
    refs = [r for r in [listener["default_tls_container_ref"],
                        *listener["sni_container_refs"]] if r]
    if listener["protocol"] == "TERMINATED_HTTPS":
        if not listener["default_tls_container_ref"]:
            raise om.validation("An SNI or default certificate container reference must be "
                                "provided for TERMINATED_HTTPS protocol listeners.")
    elif refs:
        raise om.validation(f"Certificate container references are only allowed on "
                            f"TERMINATED_HTTPS protocol listeners, not "
                            f"{listener['protocol']}.")
    bad = [r for r in refs if barbican.tls_ref_problem(store, r)]
    if bad:
        raise om.fault(400, f"Could not retrieve certificate: {bad}")


def build_pool(store: Store, lb: Resource, body: dict[str, Any],
               listener: Resource | None) -> Resource:
    om.check_choice("protocol", body.get("protocol"), om.POOL_PROTOCOLS)
    om.check_choice("lb_algorithm", body.get("lb_algorithm"), om.LB_ALGORITHMS)
    if listener is not None:
        allowed = om.LISTENER_POOL_PROTOCOLS[listener["protocol"]]
        if body["protocol"] not in allowed:
            raise om.validation(f"The pool protocol '{body['protocol']}' is invalid while "
                                f"the listener protocol is '{listener['protocol']}'.")
        if listener.get("default_pool_id"):
            raise om.fault(409, "This listener already has a default pool")
    pool = _base(store, body, lb["id"])
    pool.update(protocol=body["protocol"], lb_algorithm=body["lb_algorithm"],
                session_persistence=body.get("session_persistence"),
                tls_enabled=bool(body.get("tls_enabled", False)), tls_ciphers=None,
                tls_versions=None, alpn_protocols=None, ca_tls_container_ref=None,
                crl_container_ref=None, tls_container_ref=None)
    if listener is not None:
        listener["default_pool_id"] = pool["id"]
    return pool


def build_member(store: Store, pool: Resource, body: dict[str, Any],
                 siblings: list[Resource]) -> Resource:
    address = body.get("address")
    try:
        ipaddress.ip_address(address)  # type: ignore[arg-type]
    except (ValueError, TypeError):
        raise om.invalid_input("address", address, "Value should be IPv4 or IPv6 format") \
            from None
    om.check_int("protocol_port", body.get("protocol_port"), 1, 65535)
    for other in siblings:
        if other["address"] == address and other["protocol_port"] == body["protocol_port"]:
            raise om.fault(409, f"Another member on this pool is already using ip {address} "
                                f"on protocol_port {body['protocol_port']}")
    subnet_id = body.get("subnet_id")
    if subnet_id and store.get("subnets", subnet_id) is None:
        raise om.fault(400, f"Subnet {subnet_id} not found.")
    weight = body.get("weight", 1)
    om.check_int("weight", weight, 0, 256)
    monitor_port = body.get("monitor_port")
    if monitor_port is not None:
        om.check_int("monitor_port", monitor_port, 1, 65535)
    member = _base(store, body, pool["_lb_id"])
    member.update(address=address, protocol_port=body["protocol_port"], weight=weight,
                  subnet_id=subnet_id, backup=bool(body.get("backup", False)),
                  monitor_address=body.get("monitor_address"), monitor_port=monitor_port,
                  vnic_type="normal", _pool_id=pool["id"])
    return member


def build_hm(store: Store, pool: Resource, body: dict[str, Any]) -> Resource:
    om.check_choice("type", body.get("type"), om.HM_TYPES)
    hm_type = body["type"]
    for key in ("delay", "timeout"):
        om.check_int(key, body.get(key), 0, 2**31 - 1)
    om.check_int("max_retries", body.get("max_retries"), 1, 10)
    om.check_int("max_retries_down", body.get("max_retries_down", 3), 1, 10)
    if pool["protocol"] == "UDP" and hm_type not in ("UDP-CONNECT", "TCP", "HTTP"):
        raise om.validation("The associated pool protocol is UDP, so only a "
                            "UDP-CONNECT/TCP/HTTP health monitor is supported.")
    if pool["protocol"] != "UDP" and hm_type == "UDP-CONNECT":
        raise om.validation("The UDP-CONNECT type is only supported for pools of type UDP.")
    if hm_type == "SCTP" and pool["protocol"] != "SCTP":
        raise om.validation("The SCTP type is only supported for pools of type SCTP.")
    http = hm_type in ("HTTP", "HTTPS")
    for key in ("http_method", "url_path", "expected_codes"):
        if body.get(key) and not http:
            raise om.fault(400, f"{key} is not a valid option for health monitors of type "
                                f"{hm_type}")
    if any(hm["_pool_id"] == pool["id"] for hm in store.all("healthmonitors")):
        raise om.fault(409, "This pool already has a health monitor")
    hm = _base(store, body, pool["_lb_id"])
    hm.update(type=hm_type, delay=body["delay"], timeout=body["timeout"],
              max_retries=body["max_retries"], max_retries_down=body.get("max_retries_down", 3),
              http_method=(body.get("http_method") or "GET") if http else None,
              url_path=(body.get("url_path") or "/") if http else None,
              expected_codes=(body.get("expected_codes") or "200") if http else None,
              http_version=body.get("http_version"), domain_name=body.get("domain_name"),
              _pool_id=pool["id"])
    return hm


def build_pool_tree(store: Store, lb: Resource, body: dict[str, Any],
                    listener: Resource | None) -> list[tuple[str, Resource]]:
    """A pool with its members and health monitor (single-call create), pool first."""
    pool = build_pool(store, lb, body, listener)
    out: list[tuple[str, Resource]] = [("pools", pool)]
    members: list[Resource] = []
    for m in body.get("members") or []:
        members.append(build_member(store, pool, m, members))
    out.extend(("members", m) for m in members)
    if body.get("healthmonitor"):
        out.append(("healthmonitors", build_hm(store, pool, body["healthmonitor"])))
    return out


# -- helpers for routes ---------------------------------------------------------------
def _lookup(store: Store, collection: str, rid: str) -> Resource:
    resource = store.get(collection, rid)
    if resource is None or resource["provisioning_status"] == "DELETED":
        raise om.not_found(collection, rid)
    return resource


def _lb_of(store: Store, resource: Resource) -> Resource:
    return store.data["loadbalancers"][resource["_lb_id"]]


# filters on relations, which are not attributes of the rendered object: Octavia maps
# them to its database columns (`loadbalancer_id` and `load_balancer_id` both work)
_RELATION_FILTERS = {"loadbalancer_id": "_lb_id", "load_balancer_id": "_lb_id",
                     "pool_id": "_pool_id"}


def _list(store: Store, collection: str, req: Request, key: str) -> Response:
    query = dict(req.query)
    relations = {_RELATION_FILTERS[k]: set(query.pop(k)) for k in list(query)
                 if k in _RELATION_FILTERS}
    rendered = [om.render(store, collection, r) for r in store.all(collection)
                if all(r.get(field) in values for field, values in relations.items())]
    rendered = [r for r in rendered if listing.matches(r, query)]
    return Response(200, {key: listing.page(rendered, req.query), f"{key}_links": []})


def _check_listener_update(store: Store, listener: Resource, body: dict[str, Any]) -> None:
    if "allowed_cidrs" in body:
        body["allowed_cidrs"] = om.check_cidrs(body["allowed_cidrs"],
                                               _lb_of(store, listener)["vip_address"])
    if body.get("default_pool_id"):
        pool = store.get("pools", body["default_pool_id"])
        if pool is None or pool["_lb_id"] != listener["_lb_id"]:
            raise om.fault(400, f"Pool {body['default_pool_id']} could not be found.")
        if pool["protocol"] not in om.LISTENER_POOL_PROTOCOLS[listener["protocol"]]:
            raise om.validation(f"The pool protocol '{pool['protocol']}' is invalid while "
                                f"the listener protocol is '{listener['protocol']}'.")
    if "default_tls_container_ref" in body or "sni_container_refs" in body:
        check_tls(store, {**listener, **body,
                          "sni_container_refs": list(body.get(
                              "sni_container_refs", listener["sni_container_refs"]) or [])})


def _update(store: Store, collection: str, resource: Resource, body: dict[str, Any],
            allowed: set[str]) -> None:
    lb = _lb_of(store, resource)
    om.require_mutable(store, lb)
    for key, value in body.items():
        if key not in allowed:
            raise om.invalid_input(key, value, "Attribute is read-only or unknown")
    if "tags" in body:
        body = {**body, "tags": om.check_tags(body["tags"])}
    resource.update(body)
    om.mark(resource, "PENDING_UPDATE")
    om.begin(store, lb)


def _delete(store: Store, collection: str, resource: Resource) -> None:
    lb = _lb_of(store, resource)
    om.require_mutable(store, lb)
    if collection == "pools":
        using = [p for p in store.all("l7policies") if p.get("redirect_pool_id") ==
                 resource["id"] and p["provisioning_status"] != "PENDING_DELETE"]
        if using:
            raise om.fault(409, f"Pool {resource['id']} is in use by L7 policy "
                                f"{using[0]['id']}")
    om.mark(resource, "PENDING_DELETE")
    for dependent in _dependents(store, collection, resource["id"]):
        om.mark(dependent, "PENDING_DELETE")
    om.begin(store, lb)


def _dependents(store: Store, collection: str, rid: str) -> list[Resource]:
    if collection == "pools":
        for listener in store.all("listeners"):
            if listener.get("default_pool_id") == rid:
                listener["default_pool_id"] = None
        return [r for c in ("members", "healthmonitors") for r in store.all(c)
                if r["_pool_id"] == rid]
    if collection == "listeners":
        policies = [p for p in store.all("l7policies") if p["listener_id"] == rid]
        ids = {p["id"] for p in policies}
        return policies + [r for r in store.all("l7rules") if r["_policy_id"] in ids]
    if collection == "l7policies":
        return [r for r in store.all("l7rules") if r["_policy_id"] == rid]
    return []


# -- routes ---------------------------------------------------------------------------
def register(router: Router, store: Store) -> None:
    S = "load-balancer"

    def generic(collection: str, key: str, builder_name: str) -> None:
        base = f"/v2/lbaas/{collection}"

        def get_one(req: Request) -> Response:
            with store.transaction():
                res = _lookup(store, collection, req.params["id"])
                return Response(200, {key: om.render(store, collection, res)})

        def get_all(req: Request) -> Response:
            with store.transaction():
                return _list(store, collection, req, collection)

        def put(req: Request) -> Response:
            allowed = {"listeners": LISTENER_UPDATABLE, "pools": POOL_UPDATABLE,
                       "healthmonitors": HM_UPDATABLE}.get(collection, set())
            with store.transaction():
                res = _lookup(store, collection, req.params["id"])
                body = dict(req.json_body(key))
                if collection == "listeners":
                    _check_listener_update(store, res, body)
                _update(store, collection, res, body, allowed | {"name", "description",
                                                                 "admin_state_up", "tags"})
                return Response(200, {key: om.render(store, collection, res)})

        def delete(req: Request) -> Response:
            with store.transaction():
                _delete(store, collection, _lookup(store, collection, req.params["id"]))
                return Response(204)

        router.add("GET", S, base, get_all)
        router.add("GET", S, base + "/{id}", get_one)
        router.add("PUT", S, base + "/{id}", put)
        router.add("DELETE", S, base + "/{id}", delete)

    for collection, key in (("listeners", "listener"), ("pools", "pool"),
                            ("healthmonitors", "healthmonitor")):
        generic(collection, key, collection)

    def create_listener(req: Request) -> Response:
        body = req.json_body("listener")
        with store.transaction():
            lb = _lookup(store, "loadbalancers", body.get("loadbalancer_id") or "")
            om.require_quota(store, {"listeners": 1})
            om.require_mutable(store, lb)
            siblings = [r for r in store.all("listeners") if r["_lb_id"] == lb["id"]]
            pool_body = body.get("default_pool")
            listener = build_listener(
                store, lb, {k: v for k, v in body.items() if k != "default_pool"}, siblings)
            if body.get("default_pool_id"):
                pool = _lookup(store, "pools", body["default_pool_id"])
                listener["default_pool_id"] = pool["id"]
            tree = build_pool_tree(store, lb, pool_body, listener) if pool_body else []
            store.put("listeners", listener)
            for collection, resource in tree:
                store.put(collection, resource)
            om.begin(store, lb)
            return Response(201, {"listener": om.render(store, "listeners", listener)})

    def create_pool(req: Request) -> Response:
        body = req.json_body("pool")
        with store.transaction():
            listener = None
            if body.get("listener_id"):
                listener = _lookup(store, "listeners", body["listener_id"])
                lb = _lb_of(store, listener)
            else:
                lb = _lookup(store, "loadbalancers", body.get("loadbalancer_id") or "")
            om.require_quota(store, {"pools": 1, "members": len(body.get("members") or []),
                                     "healthmonitors": 1 if body.get("healthmonitor") else 0})
            om.require_mutable(store, lb)
            tree = build_pool_tree(store, lb, body, listener)
            for collection, resource in tree:
                store.put(collection, resource)
            pool = tree[0][1]
            om.begin(store, lb)
            return Response(201, {"pool": om.render(store, "pools", pool)})

    def create_hm(req: Request) -> Response:
        body = req.json_body("healthmonitor")
        with store.transaction():
            pool = _lookup(store, "pools", body.get("pool_id") or "")
            lb = _lb_of(store, pool)
            om.require_quota(store, {"healthmonitors": 1})
            om.require_mutable(store, lb)
            hm = store.put("healthmonitors", build_hm(store, pool, body))
            om.begin(store, lb)
            return Response(201, {"healthmonitor": om.render(store, "healthmonitors", hm)})

    router.add("POST", S, "/v2/lbaas/listeners", create_listener)
    router.add("POST", S, "/v2/lbaas/pools", create_pool)
    router.add("POST", S, "/v2/lbaas/healthmonitors", create_hm)
    _register_members(router, store)
    octavia_l7.register(router, store)


def _register_members(router: Router, store: Store) -> None:
    S = "load-balancer"
    base = "/v2/lbaas/pools/{pool_id}/members"

    def members_of(pool_id: str) -> list[Resource]:
        return [m for m in store.all("members") if m["_pool_id"] == pool_id]

    def get_all(req: Request) -> Response:
        with store.transaction():
            _lookup(store, "pools", req.params["pool_id"])
            rendered = [om.render(store, "members", m)
                        for m in members_of(req.params["pool_id"])]
            rendered = [r for r in rendered if listing.matches(r, req.query)]
            return Response(200, {"members": listing.page(rendered, req.query),
                                  "members_links": []})

    def get_one(req: Request) -> Response:
        with store.transaction():
            member = _lookup(store, "members", req.params["id"])
            if member["_pool_id"] != req.params["pool_id"]:
                raise om.not_found("members", req.params["id"])
            return Response(200, {"member": om.render(store, "members", member)})

    def create(req: Request) -> Response:
        body = req.json_body("member")
        with store.transaction():
            pool = _lookup(store, "pools", req.params["pool_id"])
            lb = _lb_of(store, pool)
            om.require_quota(store, {"members": 1})
            om.require_mutable(store, lb)
            member = store.put("members", build_member(store, pool, body,
                                                       members_of(pool["id"])))
            om.begin(store, lb)
            return Response(201, {"member": om.render(store, "members", member)})

    def batch(req: Request) -> Response:
        """Declarative: the body is the pool's whole member set, matched by address:port."""
        body = req.json_body()
        wanted = body.get("members")
        if not isinstance(wanted, list):
            raise om.invalid_input("members", wanted, "Value should be a list")
        additive = (req.q("additive_only") or "").lower() == "true"
        with store.transaction():
            pool = _lookup(store, "pools", req.params["pool_id"])
            lb = _lb_of(store, pool)
            om.require_mutable(store, lb)
            current = {(m["address"], m["protocol_port"]): m for m in members_of(pool["id"])}
            seen: set[tuple[Any, Any]] = set()
            new: list[dict[str, Any]] = []
            for item in wanted:
                key = (item.get("address"), item.get("protocol_port"))
                if key in seen:
                    raise om.fault(409, f"Another member on this pool is already using ip "
                                        f"{key[0]} on protocol_port {key[1]}")
                seen.add(key)
                if key not in current:
                    new.append(item)
            om.require_quota(store, {"members": len(new)})
            built = [build_member(store, pool, item, []) for item in new]
            for item in wanted:
                key = (item.get("address"), item.get("protocol_port"))
                if key in current:
                    member = current[key]
                    update = {k: v for k, v in item.items() if k in MEMBER_UPDATABLE}
                    if "tags" in update:
                        update["tags"] = om.check_tags(update["tags"])
                    member.update(update)
                    om.mark(member, "PENDING_UPDATE")
            if not additive:
                for key, member in current.items():
                    if key not in seen:
                        om.mark(member, "PENDING_DELETE")
            for member in built:
                store.put("members", member)
            om.begin(store, lb)
            return Response(202)

    def put_one(req: Request) -> Response:
        with store.transaction():
            member = _lookup(store, "members", req.params["id"])
            _update(store, "members", member, dict(req.json_body("member")), MEMBER_UPDATABLE)
            return Response(200, {"member": om.render(store, "members", member)})

    def delete_one(req: Request) -> Response:
        with store.transaction():
            _delete(store, "members", _lookup(store, "members", req.params["id"]))
            return Response(204)

    router.add("GET", S, base, get_all)
    router.add("POST", S, base, create)
    router.add("PUT", S, base, batch)
    router.add("GET", S, base + "/{id}", get_one)
    router.add("PUT", S, base + "/{id}", put_one)
    router.add("DELETE", S, base + "/{id}", delete_one)

