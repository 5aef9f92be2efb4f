"""Fake Keystone v3: version discovery and `POST /v3/auth/tokens`.

Password (user name or id, with domain) and application-credential (id, or name plus
user) authentication are accepted; the answer carries the token in `X-Subject-Token`
and a service catalog whose endpoints all point back at this server (load-balancer,
network, compute, key-manager, identity). Wrong credentials get Keystone's 401 body.
Other services validate the `X-Auth-Token` header against the tokens issued here.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from cloud_lb.testing.fakeopenstack.store import new_id
from cloud_lb.testing.fakeopenstack.wire import ApiError, Request, Response, Router

REGION = "RegionOne"
DOMAIN = {"id": "default", "name": "Default"}
# (service type, path prefix on this server, catalog name)
CATALOG_SERVICES = (
    ("identity", "identity", "keystone"),
    ("load-balancer", "load-balancer", "octavia"),
    ("network", "network", "neutron"),
    ("compute", "compute", "nova"),
    ("key-manager", "key-manager", "barbican"),
)


def keystone_error(status: int, title: str, message: str) -> ApiError:
    return ApiError(status, {"error": {"code": status, "title": title, "message": message}})


def unauthorized() -> ApiError:
    return keystone_error(401, "Unauthorized",
                          "The request you have made requires authentication.")


@dataclass
class Identity:
    """Who may authenticate, and the one project they are scoped to."""

    project_id: str
    project_name: str = "k8s-project"
    users: dict[str, dict[str, str]] = field(default_factory=dict)  # name -> {id, password}
    app_credentials: dict[str, dict[str, str]] = field(default_factory=dict)  # id -> {...}
    tokens: dict[str, dict[str, Any]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    token_lifetime: timedelta = timedelta(hours=1)
    # service types left out of the catalog (a cloud without Barbican, say)
    hidden_services: set[str] = field(default_factory=set)

    def add_user(self, name: str, password: str) -> str:
        user_id = new_id().replace("-", "")
        self.users[name] = {"id": user_id, "password": password}
        return user_id

    def add_app_credential(self, user: str, name: str, secret: str) -> str:
        cred_id = new_id().replace("-", "")
        self.app_credentials[cred_id] = {"name": name, "secret": secret,
                                         "user_id": self.users[user]["id"], "user": user}
        return cred_id

    def validate(self, token: str | None) -> dict[str, Any]:
        with self.lock:
            body = self.tokens.get(token or "")
        if body is None:
            raise unauthorized()
        expires = datetime.strptime(body["expires_at"], "%Y-%m-%dT%H:%M:%S.%fZ")
        if expires.replace(tzinfo=UTC) < datetime.now(UTC):
            raise unauthorized()
        return body


def _version(base: str) -> dict[str, Any]:
    return {
        "id": "v3.14", "status": "stable", "updated": "2020-04-07T00:00:00Z",
        "links": [{"rel": "self", "href": f"{base}/identity/v3/"}],
        "media-types": [{"base": "application/json",
                         "type": "application/vnd.openstack.identity-v3+json"}],
    }


def register(router: Router, identity: Identity) -> None:
    def versions(req: Request) -> Response:
        return Response(300, {"versions": {"values": [_version(req.base_url)]}})

    def version(req: Request) -> Response:
        return Response(200, {"version": _version(req.base_url)})

    def issue(req: Request) -> Response:
        try:
            auth = req.json_body("auth")
            ident = auth["identity"]
            methods = ident["methods"]
        except (KeyError, ValueError, TypeError):
            raise keystone_error(400, "Bad Request",
                                 "Invalid input for field 'identity': 'methods' is a required "
                                 "property") from None
        if "application_credential" in methods:
            user_name, user_id, cred = _check_app_credential(identity, ident)
            scope_extra: dict[str, Any] = {"application_credential": {
                "id": cred, "name": identity.app_credentials[cred]["name"], "restricted": True}}
        elif "password" in methods:
            user_name, user_id = _check_password(identity, ident)
            _check_scope(identity, auth.get("scope"))
            scope_extra = {}
        else:
            raise unauthorized()
        token_id = "gAAAA" + secrets.token_urlsafe(48)
        now = datetime.now(UTC)
        body = {
            "methods": methods,
            "user": {"id": user_id, "name": user_name, "domain": DOMAIN,
                     "password_expires_at": None},
            "audit_ids": [secrets.token_urlsafe(16)],
            "expires_at": (now + identity.token_lifetime).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "issued_at": now.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "project": {"id": identity.project_id, "name": identity.project_name,
                        "domain": DOMAIN},
            "is_domain": False,
            "roles": [{"id": "r-member", "name": "member"},
                      {"id": "r-lb-member", "name": "load-balancer_member"}],
            "catalog": _catalog(req.base_url, identity.hidden_services),
            **scope_extra,
        }
        with identity.lock:
            identity.tokens[token_id] = body
        return Response(201, {"token": body}, {"X-Subject-Token": token_id})

    def check(req: Request) -> Response:
        body = identity.validate(req.headers.get("x-subject-token"))
        return Response(200, {"token": body}, {"X-Subject-Token": req.headers["x-subject-token"]})

    router.add("GET", "identity", "/", versions, authenticated=False)
    router.add("GET", "identity", "/v3", version, authenticated=False)
    router.add("POST", "identity", "/v3/auth/tokens", issue, authenticated=False)
    router.add("GET", "identity", "/v3/auth/tokens", check)


def _catalog(base: str, hidden: set[str]) -> list[dict[str, Any]]:
    catalog = []
    for service_type, prefix, name in CATALOG_SERVICES:
        if service_type in hidden:
            continue
        url = f"{base}/{prefix}" + ("/v3" if service_type == "identity" else "")
        catalog.append({
            "type": service_type, "name": name, "id": f"svc-{prefix}",
            "endpoints": [
                {"id": f"ep-{prefix}-{iface}", "interface": iface, "region": REGION,
                 "region_id": REGION, "url": url}
                for iface in ("public", "internal")
            ],
        })
    return catalog


def _check_password(identity: Identity, ident: dict[str, Any]) -> tuple[str, str]:
    user = (ident.get("password") or {}).get("user") or {}
    name, uid, password = user.get("name"), user.get("id"), user.get("password")
    for user_name, record in identity.users.items():
        if (name == user_name or uid == record["id"]) and password == record["password"]:
            return user_name, record["id"]
    raise unauthorized()


def _check_app_credential(identity: Identity, ident: dict[str, Any]) -> tuple[str, str, str]:
    cred = ident.get("application_credential") or {}
    secret = cred.get("secret")
    for cred_id, record in identity.app_credentials.items():
        by_id = cred.get("id") == cred_id
        by_name = cred.get("name") == record["name"] and (
            (cred.get("user") or {}).get("name") == record["user"]
            or (cred.get("user") or {}).get("id") == record["user_id"])
        if (by_id or by_name) and secret == record["secret"]:
            return record["user"], record["user_id"], cred_id
    raise unauthorized()


def _check_scope(identity: Identity, scope: Any) -> None:
    if not scope:
        return
    project = scope.get("project") or {}
    if project.get("id") in (None, identity.project_id) and project.get("name") in (
            None, identity.project_name):
        return
    raise unauthorized()
