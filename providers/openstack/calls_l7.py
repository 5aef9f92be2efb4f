"""The Octavia L7 and Barbican calls of the Ingress load balancers, through `Cloud.call`
(recorded, retried on 5xx/throttling, errors classified) like every other call.

Most go out as plain JSON on the service's session rather than through openstacksdk's
resource classes, for three reasons: openstacksdk's `L7Policy` drops
`redirect_http_code` (we set 308), a policy is created with its `rules` in one call
(Octavia's `L7PolicyPOST.rules`, unknown to the SDK), and a Barbican secret's payload
must never reach a log - keystoneauth logs request bodies at DEBUG unless the request
says `log=False`, which only the session call can say. Lists follow the service's
`next` links (Octavia's `<collection>_links`, Barbican's top-level `next`).
"""

from __future__ import annotations

from typing import Any

from openstack import exceptions as os_exc

from cloud_lb.provider import CloudError
from providers.openstack.calls import Cloud

BARBICAN_PAGE = 100  # Barbican's largest page


def _next_link(body: dict[str, Any], key: str) -> str | None:
    if isinstance(body.get("next"), str):
        return str(body["next"])
    for link in body.get(f"{key}_links") or []:
        if isinstance(link, dict) and link.get("rel") == "next" and link.get("href"):
            return str(link["href"])
    return None


class NoKeyManagerError(CloudError):
    """The cloud has no Barbican: nothing of ours can be there, and TLS cannot be."""


class L7Calls:
    def __init__(self, cloud: Cloud) -> None:
        self.cloud = cloud

    def _lb(self) -> Any:
        return self.cloud.conn.load_balancer

    def _km(self) -> Any:
        proxy = self.cloud.conn.key_manager
        try:
            proxy.get_endpoint  # noqa: B018 - openstacksdk's stand-in for a service
            #                     missing from the catalog raises on any attribute
        except os_exc.ServiceDisabledException as exc:
            raise NoKeyManagerError("this cloud's catalog has no key manager (Barbican)",
                                    operation="barbican", retryable=False) from exc
        return proxy

    @staticmethod
    def _paged(proxy: Any, path: str, key: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        url: str | None = path
        query: dict[str, Any] | None = params
        while url:
            response = proxy.get(url, params=query)
            os_exc.raise_from_response(response)
            body = response.json()
            items.extend(body.get(key) or [])
            url, query = _next_link(body, key), None  # the link carries the query
        return items

    def _send(self, proxy: Any, method: str, path: str, body: dict[str, Any] | None = None,
              *, log: bool = True) -> dict[str, Any]:
        response = proxy.request(path, method, json=body, log=log)
        os_exc.raise_from_response(response)
        return dict(response.json()) if response.content else {}

    # -- Octavia L7 ------------------------------------------------------------------
    def l7_policies(self, listener_id: str) -> list[dict[str, Any]]:
        return self.cloud.call(
            "octavia.list_l7_policies",
            lambda: self._paged(self._lb(), "/lbaas/l7policies", "l7policies",
                                {"listener_id": listener_id}), mutating=False) or []

    def l7_rules(self, policy_id: str) -> list[dict[str, Any]]:
        return self.cloud.call(
            "octavia.list_l7_rules",
            lambda: self._paged(self._lb(), f"/lbaas/l7policies/{policy_id}/rules", "rules",
                                {}), mutating=False, missing_ok=True) or []

    def create_l7_policy(self, body: dict[str, Any]) -> dict[str, Any]:
        return (self.cloud.call(
            "octavia.create_l7_policy",
            lambda: self._send(self._lb(), "POST", "/lbaas/l7policies", {"l7policy": body}),
            mutating=True) or {}).get("l7policy", {})

    def update_l7_policy(self, policy_id: str, attrs: dict[str, Any]) -> None:
        self.cloud.call("octavia.update_l7_policy",
                        lambda: self._send(self._lb(), "PUT",
                                           f"/lbaas/l7policies/{policy_id}",
                                           {"l7policy": attrs}), mutating=True)

    def delete_l7_policy(self, policy_id: str) -> None:
        self.cloud.call("octavia.delete_l7_policy",
                        lambda: self._send(self._lb(), "DELETE",
                                           f"/lbaas/l7policies/{policy_id}"),
                        mutating=True, missing_ok=True)

    def create_l7_rule(self, policy_id: str, body: dict[str, Any]) -> None:
        self.cloud.call("octavia.create_l7_rule",
                        lambda: self._send(self._lb(), "POST",
                                           f"/lbaas/l7policies/{policy_id}/rules",
                                           {"rule": body}), mutating=True)

    def update_l7_rule(self, policy_id: str, rule_id: str, attrs: dict[str, Any]) -> None:
        self.cloud.call("octavia.update_l7_rule",
                        lambda: self._send(self._lb(), "PUT",
                                           f"/lbaas/l7policies/{policy_id}/rules/{rule_id}",
                                           {"rule": attrs}), mutating=True)

    def delete_l7_rule(self, policy_id: str, rule_id: str) -> None:
        self.cloud.call("octavia.delete_l7_rule",
                        lambda: self._send(self._lb(), "DELETE",
                                           f"/lbaas/l7policies/{policy_id}/rules/{rule_id}"),
                        mutating=True, missing_ok=True)

    def create_listener(self, body: dict[str, Any]) -> dict[str, Any]:
        return (self.cloud.call(
            "octavia.create_listener",
            lambda: self._send(self._lb(), "POST", "/lbaas/listeners", {"listener": body}),
            mutating=True) or {}).get("listener", {})

    # -- Barbican --------------------------------------------------------------------
    def barbican_list(self, collection: str) -> list[dict[str, Any]]:
        """Every secret or container of the project (Barbican filters names exactly
        only, and ours are found by prefix)."""
        return self.cloud.call(
            f"barbican.list_{collection}",
            lambda: self._paged(self._km(), f"/{collection}", collection,
                                {"limit": BARBICAN_PAGE}), mutating=False) or []

    def create_secret(self, body: dict[str, Any]) -> str:
        """Store one secret; the reference comes back. The body holds key material:
        it goes out unlogged and never into an error message."""
        answer = self.cloud.call("barbican.create_secret",
                                 lambda: self._send(self._km(), "POST", "/secrets", body,
                                                    log=False), mutating=True) or {}
        return str(answer["secret_ref"])

    def create_container(self, body: dict[str, Any]) -> str:
        answer = self.cloud.call("barbican.create_container",
                                 lambda: self._send(self._km(), "POST", "/containers", body),
                                 mutating=True) or {}
        return str(answer["container_ref"])

    def delete_barbican(self, collection: str, ref: str) -> None:
        rid = ref.rstrip("/").split("/")[-1]
        self.cloud.call(f"barbican.delete_{collection.rstrip('s')}",
                        lambda: self._send(self._km(), "DELETE", f"/{collection}/{rid}"),
                        mutating=True, missing_ok=True)
