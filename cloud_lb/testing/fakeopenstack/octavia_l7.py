"""Fake Octavia L7: policies (ordered per listener) and their rules, alone or inside a
fully-populated load balancer create.

Positions behave as Octavia's ordering list: a listener's policies are numbered 1..n;
creating at position p inserts there (past the end: appended), a PUT of `position`
moves the policy, and a deleted policy leaves the numbering when its deletion
completes (`octavia_model.renumber_policies`). Bodies are checked as Octavia's
`validate.sanitize_l7policy_api_args` and `validate.l7rule_data` check them: one
redirect target per action, redirect URLs with an http(s) scheme, comparison values
made of header characters (REGEX values must compile), at most 50 rules per policy, a
redirect pool on the same load balancer whose protocol the listener can forward to.
A policy create may carry its `rules` (Octavia's `L7PolicyPOST.rules`).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from cloud_lb.testing.fakeopenstack import listing
from cloud_lb.testing.fakeopenstack import octavia_model as om
from cloud_lb.testing.fakeopenstack.store import Resource, Store, new_id, timestamp
from cloud_lb.testing.fakeopenstack.wire import Request, Response, Router

S = "load-balancer"
ACTIONS = ("REDIRECT_TO_POOL", "REDIRECT_TO_URL", "REDIRECT_PREFIX", "REJECT")
RULE_TYPES = ("HOST_NAME", "PATH", "FILE_TYPE", "HEADER", "COOKIE", "SSL_CONN_HAS_CERT",
              "SSL_VERIFY_RESULT", "SSL_DN_FIELD")
COMPARE_TYPES = ("REGEX", "STARTS_WITH", "ENDS_WITH", "CONTAINS", "EQUAL_TO")
REDIRECT_CODES = (301, 302, 303, 307, 308)
MAX_RULES_PER_POLICY = 50
MAX_POSITION = 2147483647
_HEADER_VALUE = re.compile(r'\A[a-zA-Z0-9!"#$%&\'()*+,-./:;<=>?@[\]^_`{|}~\\]+\Z')
_QUOTED_VALUE = re.compile(r'\A"[a-zA-Z0-9 \t!"#$%&\'()*+,-./:;<=>?@[\]^_`{|}~\\]*"\Z')
_HEADER_NAME = re.compile(r"\A[a-zA-Z0-9!#$%&'*+-.^_`|~]+\Z")
POLICY_UPDATABLE = {"name", "description", "admin_state_up", "action", "redirect_pool_id",
                    "redirect_url", "redirect_prefix", "position", "tags",
                    "redirect_http_code"}
RULE_UPDATABLE = {"type", "compare_type", "key", "value", "invert", "admin_state_up", "tags"}


# -- ordering -------------------------------------------------------------------------
def policies_of(store: Store, listener_id: str) -> list[Resource]:
    return sorted((p for p in store.all("l7policies") if p["listener_id"] == listener_id),
                  key=lambda p: p["position"])


def place(store: Store, policy: Resource, position: int | None) -> None:
    """Put `policy` (already stored) at `position` of its listener, others shifting."""
    others = [p for p in policies_of(store, policy["listener_id"]) if p is not policy]
    index = len(others) if position is None else min(max(position, 1) - 1, len(others))
    others.insert(index, policy)
    for number, item in enumerate(others, start=1):
        item["position"] = number


# -- validation -----------------------------------------------------------------------
def _check_url(attribute: str, value: Any) -> None:
    parts = urlsplit(value) if isinstance(value, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc \
            or any(c.isspace() for c in value):
        raise om.fault(400, f"Supplied URL {value} is invalid.")


def check_rule(body: dict[str, Any]) -> None:
    om.check_choice("type", body.get("type"), RULE_TYPES)
    om.check_choice("compare_type", body.get("compare_type"), COMPARE_TYPES)
    kind, compare, value = body["type"], body["compare_type"], body.get("value")
    if not isinstance(value, str) or not value:
        raise om.invalid_input("value", value, "Mandatory field missing.")
    if kind in ("HEADER", "COOKIE") and not (
            isinstance(body.get("key"), str) and _HEADER_NAME.match(body["key"])):
        raise om.fault(400, "L7Rule: L7 rule type requires a key")
    if kind not in ("HOST_NAME", "PATH", "FILE_TYPE", "HEADER", "COOKIE"):
        return  # SSL_* rules: not used by cloud-lb, accepted as they come
    if kind == "FILE_TYPE" and compare not in ("REGEX", "EQUAL_TO"):
        raise om.fault(400, "L7Rule: invalid comparison type for rule type")
    if compare == "REGEX":
        try:
            re.compile(value)
        except re.error as exc:
            raise om.fault(400, f"Unable to parse regular expression: {exc}.") from None
    elif not (_HEADER_VALUE.match(value) or _QUOTED_VALUE.match(value)):
        raise om.fault(400, "Invalid characters in comparison value")


def build_rule(store: Store, policy: Resource, body: dict[str, Any]) -> Resource:
    check_rule(body)
    now = timestamp()
    return {"id": new_id(), "type": body["type"], "compare_type": body["compare_type"],
            "key": body.get("key"), "value": body["value"],
            "invert": bool(body.get("invert", False)),
            "admin_state_up": body.get("admin_state_up", True),
            "provisioning_status": "PENDING_CREATE", "operating_status": "OFFLINE",
            "project_id": store.project_id, "created_at": now, "updated_at": None,
            "tags": om.check_tags(body.get("tags")), "_lb_id": policy["_lb_id"],
            "_policy_id": policy["id"]}


def _check_pool(store: Store, listener: Resource, pool_id: Any,
                graph: dict[str, Resource] | None = None) -> None:
    pool = (graph or {}).get(str(pool_id)) or store.get("pools", str(pool_id or ""))
    if pool is None or pool["_lb_id"] != listener["_lb_id"] \
            or pool["provisioning_status"] == "PENDING_DELETE":
        raise om.fault(400, f"Pool {pool_id} could not be found.")
    if pool["protocol"] not in om.LISTENER_POOL_PROTOCOLS[listener["protocol"]]:
        raise om.validation(f"The pool protocol '{pool['protocol']}' is invalid while the "
                            f"listener protocol is '{listener['protocol']}'.")


def sanitize(store: Store, listener: Resource, body: dict[str, Any],
             current: Resource | None = None,
             graph: dict[str, Resource] | None = None) -> dict[str, Any]:
    # `graph`: pools by id of a fully-populated create, not stored yet
    """The policy fields after Octavia's rules: the action decides the one target kept."""
    merged = {**(current or {}), **body}
    action = merged.get("action")
    om.check_choice("action", action, ACTIONS)
    out = {"action": action, "redirect_pool_id": None, "redirect_url": None,
           "redirect_prefix": None, "redirect_http_code": None}
    if action == "REDIRECT_TO_POOL":
        if not merged.get("redirect_pool_id"):
            raise om.fault(400, "Invalid L7 Policy arguments: redirect_pool_id or "
                                "redirect_pool must not be None")
        _check_pool(store, listener, merged["redirect_pool_id"], graph)
        out["redirect_pool_id"] = merged["redirect_pool_id"]
    elif action in ("REDIRECT_TO_URL", "REDIRECT_PREFIX"):
        key = "redirect_url" if action == "REDIRECT_TO_URL" else "redirect_prefix"
        if not merged.get(key):
            raise om.fault(400, f"Invalid L7 Policy arguments: {key} must not be None")
        _check_url(key, merged[key])
        out[key] = merged[key]
        code = merged.get("redirect_http_code") or 302
        if code not in REDIRECT_CODES:
            raise om.invalid_input("redirect_http_code", code,
                                   f"Value should be one of: {REDIRECT_CODES}")
        out["redirect_http_code"] = code
    if listener["protocol"] in ("UDP", "SCTP", "PROMETHEUS"):
        raise om.validation(f"{listener['protocol']} protocol listener does not support "
                            f"L7 policies.")
    return out


def build_policy(store: Store, listener: Resource, body: dict[str, Any],
                 graph: dict[str, Resource] | None = None) -> Resource:
    """A policy of `listener` from a create body (redirect pool already resolved)."""
    fields = sanitize(store, listener, {**body, "listener_id": listener["id"]}, graph=graph)
    position = body.get("position", MAX_POSITION)
    om.check_int("position", position, 1, MAX_POSITION)
    rules = body.get("rules") or []
    if not isinstance(rules, list) or len(rules) > MAX_RULES_PER_POLICY:
        raise om.fault(400, f"Too many rules already present on L7 policy: at most "
                            f"{MAX_RULES_PER_POLICY}")
    now = timestamp()
    return {"id": new_id(), "name": body.get("name") or "",
            "description": body.get("description") or "",
            "admin_state_up": body.get("admin_state_up", True),
            "provisioning_status": "PENDING_CREATE", "operating_status": "OFFLINE",
            "project_id": store.project_id, "created_at": now, "updated_at": None,
            "tags": om.check_tags(body.get("tags")), "listener_id": listener["id"],
            "position": position, **fields, "_lb_id": listener["_lb_id"]}


def graph_policies(store: Store, listener: Resource, bodies: Any,
                   named_pools: dict[str, Resource]) -> list[tuple[str, Resource]]:
    """The `l7policies` of one listener in a fully-populated create, positions set."""
    out: list[tuple[str, Resource]] = []
    ordered: list[Resource] = []
    for body in bodies or []:
        body = dict(body)
        target = body.pop("redirect_pool", None)
        if target is not None:
            name = target.get("name") if isinstance(target, dict) else None
            if not name or name not in named_pools:
                raise om.fault(400, f"Missing details for Pool object: {name}")
            body["redirect_pool_id"] = named_pools[name]["id"]
        policy = build_policy(store, listener, body,
                              {p["id"]: p for p in named_pools.values()})
        position = body.get("position")
        ordered.insert(len(ordered) if position is None else
                       min(position - 1, len(ordered)), policy)
        out.append(("l7policies", policy))
        out.extend(("l7rules", build_rule(store, policy, rule))
                   for rule in body.get("rules") or [])
    for number, policy in enumerate(ordered, start=1):
        policy["position"] = number
    return out


def graph_counts(listeners: Any) -> tuple[int, int]:
    """(policies, rules) of a fully-populated create body, for the quota check."""
    policies = [p for li in listeners or [] for p in li.get("l7policies") or []]
    return len(policies), sum(len(p.get("rules") or []) for p in policies)


# -- routes ---------------------------------------------------------------------------
def _lookup(store: Store, collection: str, rid: str) -> Resource:
    found = store.get(collection, rid)
    if found is None or found["provisioning_status"] == "DELETED":
        raise om.not_found(collection, rid)
    return found


def _lb_of(store: Store, resource: Resource) -> Resource:
    return store.data["loadbalancers"][resource["_lb_id"]]


def _rules_of(store: Store, policy_id: str) -> list[Resource]:
    return [r for r in store.all("l7rules") if r["_policy_id"] == policy_id]


def register(router: Router, store: Store) -> None:
    base = "/v2/lbaas/l7policies"

    def create_policy(req: Request) -> Response:
        body = req.json_body("l7policy")
        with store.transaction():
            listener = _lookup(store, "listeners", body.get("listener_id") or "")
            lb = _lb_of(store, listener)
            om.require_quota(store, {"l7policies": 1,
                                     "l7rules": len(body.get("rules") or [])})
            om.require_mutable(store, lb)
            policy = build_policy(store, listener, body)
            rules = [build_rule(store, policy, r) for r in body.get("rules") or []]
            store.put("l7policies", policy)
            place(store, policy, body.get("position"))
            for rule in rules:
                store.put("l7rules", rule)
            om.begin(store, lb)
            return Response(201, {"l7policy": om.render(store, "l7policies", policy)})

    def get_policies(req: Request) -> Response:
        with store.transaction():
            rendered = [om.render(store, "l7policies", p)
                        for p in sorted(store.all("l7policies"),
                                        key=lambda p: (p["listener_id"], p["position"]))]
            rendered = [r for r in rendered if listing.matches(r, req.query)]
            return Response(200, {"l7policies": listing.page(rendered, req.query),
                                  "l7policies_links": []})

    def get_policy(req: Request) -> Response:
        with store.transaction():
            policy = _lookup(store, "l7policies", req.params["id"])
            return Response(200, {"l7policy": om.render(store, "l7policies", policy)})

    def put_policy(req: Request) -> Response:
        body = dict(req.json_body("l7policy"))
        with store.transaction():
            policy = _lookup(store, "l7policies", req.params["id"])
            lb = _lb_of(store, policy)
            om.require_mutable(store, lb)
            for key, value in body.items():
                if key not in POLICY_UPDATABLE:
                    raise om.invalid_input(key, value, "Attribute is read-only or unknown")
            listener = store.data["listeners"][policy["listener_id"]]
            fields = sanitize(store, listener, body, policy)
            position = body.pop("position", None)
            if position is not None:
                om.check_int("position", position, 1, MAX_POSITION)
            if "tags" in body:
                body["tags"] = om.check_tags(body["tags"])
            policy.update({**body, **fields})
            if position is not None:
                place(store, policy, position)
            om.mark(policy, "PENDING_UPDATE")
            om.begin(store, lb)
            return Response(200, {"l7policy": om.render(store, "l7policies", policy)})

    def delete_policy(req: Request) -> Response:
        with store.transaction():
            policy = _lookup(store, "l7policies", req.params["id"])
            lb = _lb_of(store, policy)
            om.require_mutable(store, lb)
            om.mark(policy, "PENDING_DELETE")
            for rule in _rules_of(store, policy["id"]):
                om.mark(rule, "PENDING_DELETE")
            om.begin(store, lb)
            return Response(204)

    def rules_all(req: Request) -> Response:
        with store.transaction():
            _lookup(store, "l7policies", req.params["policy_id"])
            rendered = [om.render(store, "l7rules", r)
                        for r in _rules_of(store, req.params["policy_id"])]
            rendered = [r for r in rendered if listing.matches(r, req.query)]
            return Response(200, {"rules": listing.page(rendered, req.query),
                                  "rules_links": []})

    def rule_of(req: Request) -> Resource:
        rule = _lookup(store, "l7rules", req.params["id"])
        if rule["_policy_id"] != req.params["policy_id"]:
            raise om.not_found("l7rules", req.params["id"])
        return rule

    def rule_get(req: Request) -> Response:
        with store.transaction():
            return Response(200, {"rule": om.render(store, "l7rules", rule_of(req))})

    def rule_create(req: Request) -> Response:
        body = req.json_body("rule")
        with store.transaction():
            policy = _lookup(store, "l7policies", req.params["policy_id"])
            lb = _lb_of(store, policy)
            om.require_quota(store, {"l7rules": 1})
            om.require_mutable(store, lb)
            if len(_rules_of(store, policy["id"])) >= MAX_RULES_PER_POLICY:
                raise om.fault(409, f"Too many rules already present on L7 policy "
                                    f"{policy['id']}")
            rule = store.put("l7rules", build_rule(store, policy, body))
            om.begin(store, lb)
            return Response(201, {"rule": om.render(store, "l7rules", rule)})

    def rule_put(req: Request) -> Response:
        body = dict(req.json_body("rule"))
        with store.transaction():
            rule = rule_of(req)
            lb = _lb_of(store, rule)
            om.require_mutable(store, lb)
            for key, value in body.items():
                if key not in RULE_UPDATABLE:
                    raise om.invalid_input(key, value, "Attribute is read-only or unknown")
            check_rule({**rule, **body})
            if "tags" in body:
                body["tags"] = om.check_tags(body["tags"])
            rule.update(body)
            om.mark(rule, "PENDING_UPDATE")
            om.begin(store, lb)
            return Response(200, {"rule": om.render(store, "l7rules", rule)})

    def rule_delete(req: Request) -> Response:
        with store.transaction():
            rule = rule_of(req)
            lb = _lb_of(store, rule)
            om.require_mutable(store, lb)
            om.mark(rule, "PENDING_DELETE")
            om.begin(store, lb)
            return Response(204)

    router.add("POST", S, base, create_policy)
    router.add("GET", S, base, get_policies)
    router.add("GET", S, base + "/{id}", get_policy)
    router.add("PUT", S, base + "/{id}", put_policy)
    router.add("DELETE", S, base + "/{id}", delete_policy)
    router.add("GET", S, base + "/{policy_id}/rules", rules_all)
    router.add("POST", S, base + "/{policy_id}/rules", rule_create)
    router.add("GET", S, base + "/{policy_id}/rules/{id}", rule_get)
    router.add("PUT", S, base + "/{policy_id}/rules/{id}", rule_put)
    router.add("DELETE", S, base + "/{policy_id}/rules/{id}", rule_delete)
