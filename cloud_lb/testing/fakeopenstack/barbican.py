"""Fake Barbican v1, the little an Octavia TLS listener needs: secrets (store, read the
metadata or the payload, delete) and certificate containers referencing them.

Payloads are kept in private fields and never appear in listings or call logs.
"""

from __future__ import annotations

from typing import Any

from cloud_lb.testing.fakeopenstack.store import Resource, Store, new_id, public, timestamp
from cloud_lb.testing.fakeopenstack.wire import ApiError, Request, Response, Router

S = "key-manager"


def barbican_error(status: int, title: str, description: str) -> ApiError:
    return ApiError(status, {"code": status, "title": title, "description": description})


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
        with store.transaction():
            rid = new_id()
            store.put("secrets", {
                "id": rid, "name": body.get("name"), "status": "ACTIVE",
                "secret_type": body.get("secret_type", "opaque"),
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
            return Response(200, {"secrets": items, "total": len(items)})

    def delete(collection: str) -> Any:
        def handler(req: Request) -> Response:
            with store.transaction():
                lookup(collection, req.params["id"])
                store.remove(collection, req.params["id"])
                return Response(204)
        return handler

    def create_container(req: Request) -> Response:
        body: dict[str, Any] = req.json_body()
        with store.transaction():
            for item in body.get("secret_refs") or []:
                lookup("secrets", str(item.get("secret_ref", "")).rstrip("/").split("/")[-1])
            rid = new_id()
            store.put("containers", {
                "id": rid, "name": body.get("name"), "type": body.get("type", "generic"),
                "status": "ACTIVE", "secret_refs": body.get("secret_refs") or [],
                "created": timestamp(), "updated": timestamp(),
            })
            return Response(201, {"container_ref": ref(req, "containers", rid)})

    def show_container(req: Request) -> Response:
        with store.transaction():
            container = lookup("containers", req.params["id"])
            return Response(200, {**public(container),
                                  "container_ref": ref(req, "containers", container["id"])})

    router.add("GET", S, "/", versions, authenticated=False)
    router.add("POST", S, "/v1/secrets", create_secret)
    router.add("GET", S, "/v1/secrets", list_secrets)
    router.add("GET", S, "/v1/secrets/{id}", show_secret)
    router.add("GET", S, "/v1/secrets/{id}/payload", payload)
    router.add("DELETE", S, "/v1/secrets/{id}", delete("secrets"))
    router.add("POST", S, "/v1/containers", create_container)
    router.add("GET", S, "/v1/containers/{id}", show_container)
    router.add("DELETE", S, "/v1/containers/{id}", delete("containers"))
