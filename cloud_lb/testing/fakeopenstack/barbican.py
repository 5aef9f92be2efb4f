"""Fake Barbican v1, what an Octavia TLS listener needs: secrets (store, read the
metadata or the payload, list, delete) and containers (generic or `certificate`, whose
`secret_refs` name `certificate`, `private_key` and optionally `intermediates` and
`private_key_passphrase`), listed with Barbican's paging (`limit` default 10, at most
100, `offset`, a `next` link and `total`) and a `name` filter.

`tls_ref_problem()` is what Octavia's certificate manager does with a listener's
`default_tls_container_ref` / `sni_container_refs`: the reference must name a
certificate container whose certificate and key secrets exist, or a secret (a PKCS12
bundle). Payloads are kept in private fields and never appear in listings or call logs.
"""

from __future__ import annotations

from typing import Any

from cloud_lb.testing.fakeopenstack.store import Resource, Store, new_id, public, timestamp
from cloud_lb.testing.fakeopenstack.wire import ApiError, Request, Response, Router

S = "key-manager"
DEFAULT_LIMIT = 10
MAX_LIMIT = 100
SECRET_TYPES = ("symmetric", "public", "private", "passphrase", "certificate", "opaque")
CONTAINER_TYPES = ("generic", "rsa", "certificate")
CERTIFICATE_REFS = ("certificate", "private_key", "intermediates", "private_key_passphrase")
NAME_MAX = 255


def barbican_error(status: int, title: str, description: str) -> ApiError:
    return ApiError(status, {"code": status, "title": title, "description": description})


def _ref_id(ref: Any) -> str:
    return str(ref or "").rstrip("/").split("/")[-1]


def tls_ref_problem(store: Store, ref: Any) -> bool:
    """True when Octavia could not load a certificate from `ref`."""
    rid = _ref_id(ref)
    if "/containers/" in str(ref):
        container = store.get("containers", rid)
        if container is None or container["type"] != "certificate":
            return True
        names = {item["name"]: _ref_id(item["secret_ref"]) for item in container["secret_refs"]}
        return not all(k in names and store.get("secrets", names[k]) is not None
                       for k in ("certificate", "private_key"))
    return "/secrets/" not in str(ref) or store.get("secrets", rid) is None


def _name(body: dict[str, Any]) -> Any:
    name = body.get("name")
    if name is not None and (not isinstance(name, str) or len(name) > NAME_MAX):
        raise barbican_error(400, "Bad Request",
                             f"Provided object does not match schema 'Secret': name must be "
                             f"a string of at most {NAME_MAX} characters")
    return name


def _page(req: Request, collection: str, items: list[Resource]) -> Response:
    try:
        limit = min(int(req.q("limit") or DEFAULT_LIMIT), MAX_LIMIT)
        offset = max(int(req.q("offset") or 0), 0)
    except ValueError:
        raise barbican_error(400, "Bad Request", "limit and offset must be integers") \
            from None
    name = req.q("name")
    if name is not None:
        items = [i for i in items if i.get("name") == name]
    body: dict[str, Any] = {collection: items[offset:offset + limit], "total": len(items)}
    base = f"{req.service_url}/v1/{collection}?limit={limit}"
    if name is not None:
        base += f"&name={name}"
    if offset + limit < len(items):
        body["next"] = f"{base}&offset={offset + limit}"
    if offset:
        body["previous"] = f"{base}&offset={max(offset - limit, 0)}"
    return Response(200, body)


def register(router: Router, store: Store) -> None:
    def versions(req: Request) -> Response:
        return Response(300, {"versions": {"values": [{
            "id": "v1", "status": "stable", "links": [
                {"rel": "self", "href": f"{req.service_url}/v1/"}],
            "media-types": [{"base": "application/json",
                             "type": "application/vnd.openstack.key-manager-v1+json"}]}]}})

    def lookup(collection: str, rid: str) -> Resource:
        found = store.get(collection, rid)
        if found is None:
            kind = "Secret" if collection == "secrets" else "Container"
            raise barbican_error(404, "Not Found", f"{kind} not found.")
        return found

    def ref(req: Request, collection: str, rid: str) -> str:
        return f"{req.service_url}/v1/{collection}/{rid}"

    def create_secret(req: Request) -> Response:
        body: dict[str, Any] = req.json_body()
        secret_type = body.get("secret_type", "opaque")
        if secret_type not in SECRET_TYPES:
            raise barbican_error(400, "Bad Request",
                                 f"Invalid secret_type {secret_type!r}")
        if "payload" in body and not body.get("payload_content_type"):
            raise barbican_error(400, "Bad Request",
                                 "payload_content_type is required with a payload")
        with store.transaction():
            rid = new_id()
            store.put("secrets", {
                "id": rid, "name": _name(body), "status": "ACTIVE",
                "secret_type": secret_type,
                "content_types": {"default": body.get("payload_content_type", "text/plain")},
                "created": timestamp(), "updated": timestamp(), "expiration": None,
                "algorithm": body.get("algorithm"), "bit_length": body.get("bit_length"),
                "mode": body.get("mode"), "_payload": body.get("payload", ""),
            })
            return Response(201, {"secret_ref": ref(req, "secrets", rid)})

    def show_secret(req: Request) -> Response:
        with store.transaction():
            secret = lookup("secrets", req.params["id"])
            return Response(200, {**public(secret),
                                  "secret_ref": ref(req, "secrets", secret["id"])})

    def payload(req: Request) -> Response:
        with store.transaction():
            return Response(200, str(lookup("secrets", req.params["id"])["_payload"]))

    def list_secrets(req: Request) -> Response:
        with store.transaction():
            items = [{**public(s), "secret_ref": ref(req, "secrets", s["id"])}
                     for s in store.all("secrets")]
            return _page(req, "secrets", items)

    def delete(collection: str) -> Any:
        def handler(req: Request) -> Response:
            with store.transaction():
                lookup(collection, req.params["id"])
                store.remove(collection, req.params["id"])
                return Response(204)
        return handler

    def create_container(req: Request) -> Response:
        body: dict[str, Any] = req.json_body()
        kind = body.get("type", "generic")
        if kind not in CONTAINER_TYPES:
            raise barbican_error(400, "Bad Request", f"Invalid container type {kind!r}")
        refs = body.get("secret_refs") or []
        with store.transaction():
            for item in refs:
                lookup("secrets", _ref_id(item.get("secret_ref")))
            if kind == "certificate":
                names = [item.get("name") for item in refs]
                unknown = [n for n in names if n not in CERTIFICATE_REFS]
                if unknown or "certificate" not in names or len(set(names)) != len(names):
                    raise barbican_error(
                        400, "Bad Request",
                        "Provided object does not match schema 'Container': a certificate "
                        "container holds one 'certificate' and optionally 'private_key', "
                        "'intermediates', 'private_key_passphrase'")
            rid = new_id()
            store.put("containers", {
                "id": rid, "name": _name(body), "type": kind, "status": "ACTIVE",
                "secret_refs": [{"name": item.get("name"), "secret_ref": item["secret_ref"]}
                                for item in refs],
                "consumers": [], "created": timestamp(), "updated": timestamp(),
            })
            return Response(201, {"container_ref": ref(req, "containers", rid)})

    def rendered_container(req: Request, container: Resource) -> Resource:
        return {**public(container), "container_ref": ref(req, "containers", container["id"])}

    def show_container(req: Request) -> Response:
        with store.transaction():
            return Response(200, rendered_container(
                req, lookup("containers", req.params["id"])))

    def list_containers(req: Request) -> Response:
        with store.transaction():
            items = [rendered_container(req, c) for c in store.all("containers")]
            return _page(req, "containers", items)

    router.add("GET", S, "/", versions, authenticated=False)
    router.add("POST", S, "/v1/secrets", create_secret)
    router.add("GET", S, "/v1/secrets", list_secrets)
    router.add("GET", S, "/v1/secrets/{id}", show_secret)
    router.add("GET", S, "/v1/secrets/{id}/payload", payload)
    router.add("DELETE", S, "/v1/secrets/{id}", delete("secrets"))
    router.add("POST", S, "/v1/containers", create_container)
    router.add("GET", S, "/v1/containers", list_containers)
    router.add("GET", S, "/v1/containers/{id}", show_container)
    router.add("DELETE", S, "/v1/containers/{id}", delete("containers"))
