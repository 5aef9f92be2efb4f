"""What GCE rejects in the global L7 chain: URL maps, target proxies, SSL certificates.

The rules an Ingress controller can trip over, modelled on the Compute API's documented
behaviour (and its wording, closely enough to be recognisable):

- URL map: exactly one default (`defaultService`, `defaultUrlRedirect` or
  `defaultRouteAction.weightedBackendServices`), the same for every path matcher and
  path rule; host patterns (`*`, `*.example.com`, `example.com`) each in one host rule
  only; path matchers named once and named by host rules that exist; paths that start
  with `/`, carry `*` only as a final `/*`, no `?` or `#`, and appear once per path
  matcher. Backend services of one URL map share a load-balancing scheme; route actions
  beyond `urlRewrite` (fault injection, retries, ...) need `EXTERNAL_MANAGED` ones (the
  classic Application Load Balancer has no advanced traffic management).
- Target HTTPS proxy: 1 to 15 certificates.
- SSL certificate (self-managed): a PEM certificate and the matching PEM private key
  (parsed with `cryptography`, which tests have); GCE fills in `expireTime` and
  `subjectAlternativeNames`. The key is stored hidden (never returned) and never echoed
  in an error, even a malformed one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from cloud_lb.testing.fakegce import fields as f
from cloud_lb.testing.fakegce.context import Ctx
from cloud_lb.testing.fakegce.errors import invalid, invalid_field
from cloud_lb.testing.fakegce.links import check_name

Json = dict[str, Any]
HOST_RE = re.compile(r"^(\*|(\*[.-])?[a-z0-9]([-a-z0-9.]*[a-z0-9])?)(:\d{1,5})?$")
REDIRECT_CODES = (
    "MOVED_PERMANENTLY_DEFAULT",
    "FOUND",
    "SEE_OTHER",
    "TEMPORARY_REDIRECT",
    "PERMANENT_REDIRECT",
)
CLASSIC_ROUTE_ACTIONS = frozenset({"urlRewrite", "weightedBackendServices"})
MAX_PATH = 1024


# -- URL maps ------------------------------------------------------------------------------


def _check_default(holder: Json, where: str, *, rule: bool = False) -> None:
    """Exactly one of service, redirect, weighted services at one level of the map (a
    path rule spells them `service`, `urlRedirect`, `routeAction`)."""
    service_key, redirect_key, action_key = (
        ("service", "urlRedirect", "routeAction")
        if rule
        else ("defaultService", "defaultUrlRedirect", "defaultRouteAction")
    )
    given = [k for k in (service_key, redirect_key) if holder.get(k)]
    if _weighted(holder.get(action_key)):
        given.append(f"{action_key}.weightedBackendServices")
    if len(given) > 1:
        raise invalid(f"{where}: only one of {given} may be set.")
    if not given:
        raise invalid(
            f"{where}: one of {service_key}, {redirect_key} or "
            f"{action_key}.weightedBackendServices must be set."
        )
    if holder.get(redirect_key):
        _check_redirect(holder[redirect_key], f"{where}.{redirect_key}")
    if isinstance(holder.get(action_key), dict):
        _check_route_action(holder[action_key], f"{where}.{action_key}")


def _weighted(action: Any) -> bool:
    return isinstance(action, dict) and bool(action.get("weightedBackendServices"))


def _check_redirect(redirect: Json, where: str) -> None:
    f.enum(redirect, "redirectResponseCode", REDIRECT_CODES, REDIRECT_CODES[0], where=where)
    redirect.setdefault("stripQuery", False)
    redirect.setdefault("httpsRedirect", False)
    if redirect.get("pathRedirect") and redirect.get("prefixRedirect"):
        raise invalid(f"{where}: pathRedirect and prefixRedirect cannot both be set.")


def _check_route_action(action: Json, where: str) -> None:
    fault = action.get("faultInjectionPolicy")
    if isinstance(fault, dict) and isinstance(fault.get("abort"), dict):
        abort = fault["abort"]
        f.integer(abort, "httpStatus", 0, 200, 599, where=f"{where}.faultInjectionPolicy.abort")
        percentage = float(abort.get("percentage", 0.0))
        if not 0.0 <= percentage <= 100.0:
            raise invalid_field(
                f"{where}.faultInjectionPolicy.abort.percentage", f"'{percentage}'. Must be 0..100"
            )


def _check_path(path: Any, where: str) -> str:
    text = str(path)
    if not text.startswith("/"):
        raise invalid_field(where, f"'{text}'. Must start with '/'")
    if "*" in text[:-1] or (text.endswith("*") and not text.endswith("/*")):
        raise invalid_field(where, f"'{text}'. '*' is only allowed as a final '/*'")
    if "?" in text or "#" in text or len(text) > MAX_PATH:
        raise invalid_field(where, f"'{text}'. No '?' or '#', at most {MAX_PATH} characters")
    return text


def _services(body: Json) -> Iterator[str]:
    """Every backend-service link a URL map references (resolved to full URLs)."""

    def of(holder: Json, service_key: str, action_key: str) -> Iterator[str]:
        if holder.get(service_key):
            yield holder[service_key]
        action = holder.get(action_key)
        if isinstance(action, dict):
            for weighted in action.get("weightedBackendServices", []):
                if weighted.get("backendService"):
                    yield weighted["backendService"]

    yield from of(body, "defaultService", "defaultRouteAction")
    for matcher in body.get("pathMatchers", []):
        yield from of(matcher, "defaultService", "defaultRouteAction")
        for rule in matcher.get("pathRules", []):
            yield from of(rule, "service", "routeAction")


def _advanced_actions(body: Json) -> list[str]:
    """Route-action fields beyond what the classic load balancer supports."""
    actions = [body.get("defaultRouteAction")]
    for matcher in body.get("pathMatchers", []):
        actions.append(matcher.get("defaultRouteAction"))
        actions += [rule.get("routeAction") for rule in matcher.get("pathRules", [])]
    return sorted({k for a in actions if isinstance(a, dict) for k in a} - CLASSIC_ROUTE_ACTIONS)


def url_map_scheme(ctx: Ctx, body: Json) -> str | None:
    """The load-balancing scheme of the backend services a URL map uses (None: none)."""
    schemes = set()
    for link in _services(body):
        service = ctx.resolve(link)
        if service is not None:
            schemes.add(service.get("loadBalancingScheme", "EXTERNAL"))
    if len(schemes) > 1:
        raise invalid(
            f"All backend services of a URL map must have the same loadBalancingScheme, "
            f"got {sorted(schemes)}."
        )
    return next(iter(schemes), None)


def prepare_url_map(ctx: Ctx, body: Json, old: Json | None) -> None:
    _check_default(body, "resource")
    names: set[str] = set()
    for i, matcher in enumerate(body.get("pathMatchers", [])):
        where = f"resource.pathMatchers[{i}]"
        name = check_name(matcher.get("name"), f"{where}.name")
        if name in names:
            raise invalid(f"Duplicate path matcher name '{name}'.")
        names.add(name)
        _check_default(matcher, where)
        seen: set[str] = set()
        for j, rule in enumerate(matcher.get("pathRules", [])):
            rule_where = f"{where}.pathRules[{j}]"
            paths = f.require(rule, "paths", where=rule_where)
            for path in paths:
                text = _check_path(path, f"{rule_where}.paths")
                if text in seen:
                    raise invalid(f"{where}: duplicate path '{text}' in path matcher '{name}'.")
                seen.add(text)
            _check_default(rule, rule_where, rule=True)
    hosts: set[str] = set()
    for i, rule in enumerate(body.get("hostRules", [])):
        where = f"resource.hostRules[{i}]"
        if rule.get("pathMatcher") not in names:
            raise invalid_field(
                f"{where}.pathMatcher", f"'{rule.get('pathMatcher')}' names no path matcher"
            )
        for host in f.require(rule, "hosts", where=where):
            if not isinstance(host, str) or not HOST_RE.fullmatch(host):
                raise invalid_field(f"{where}.hosts", f"'{host}' is not a valid host pattern")
            if host in hosts:
                raise invalid(f"Duplicate host '{host}' in the host rules of the URL map.")
            hosts.add(host)
    scheme = url_map_scheme(ctx, body)
    advanced = _advanced_actions(body)
    if advanced and scheme == "EXTERNAL":
        raise invalid(
            f"URL maps for classic Application Load Balancers only support urlRewrite in "
            f"route actions, got {advanced}; use EXTERNAL_MANAGED backend services."
        )


# -- global forwarding rules to target proxies -------------------------------------------------


def check_proxy_rule(ctx: Ctx, body: Json, scheme: str, protocol: str) -> None:
    """A forwarding rule to a target HTTP(S) proxy: TCP, one port, global, and the
    scheme of the backend services behind the proxy's URL map."""
    if ctx.scope.kind != "global":
        raise invalid_field("resource.target", "global target proxies need a global rule")
    if protocol != "TCP":
        raise invalid_field("resource.IPProtocol", f"'{protocol}'. Target proxies take TCP")
    if scheme not in ("EXTERNAL", "EXTERNAL_MANAGED"):
        raise invalid_field(
            "resource.loadBalancingScheme", f"'{scheme}'. Must be EXTERNAL or EXTERNAL_MANAGED"
        )
    low, high = f.port_spec(body.get("portRange", ""), "resource.portRange")
    if low != high:
        raise invalid_field(
            "resource.portRange", f"'{body['portRange']}'. A target proxy takes a single port"
        )
    proxy = ctx.resolve(body["target"])
    url_map = ctx.resolve(proxy["urlMap"]) if proxy and proxy.get("urlMap") else None
    if url_map is None:
        return
    wanted = url_map_scheme(ctx, url_map)
    if wanted is not None and wanted != scheme:
        raise invalid(
            f"The loadBalancingScheme of the forwarding rule ({scheme}) must match that of "
            f"the backend services of URL map '{url_map['name']}' ({wanted})."
        )


# -- target proxies and certificates ---------------------------------------------------------


def prepare_target_http_proxy(ctx: Ctx, body: Json, old: Json | None) -> None:
    f.require(body, "urlMap")


def prepare_target_https_proxy(ctx: Ctx, body: Json, old: Json | None) -> None:
    f.require(body, "urlMap")
    certs = f.require(body, "sslCertificates")
    if len(certs) > 15:
        raise invalid("A target HTTPS proxy may have at most 15 SSL certificates.")
    f.enum(body, "quicOverride", ("NONE", "ENABLE", "DISABLE"), "NONE")


def prepare_ssl_certificate(ctx: Ctx, body: Json, old: Json | None) -> None:
    kind = f.enum(body, "type", ("SELF_MANAGED", "MANAGED"), "SELF_MANAGED")
    if kind != "SELF_MANAGED":
        return
    cert_pem = str(f.require(body, "certificate"))
    key_pem = str(f.require(body, "privateKey"))
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    try:
        cert = x509.load_pem_x509_certificate(cert_pem.encode())
    except ValueError:
        raise invalid_field("resource.certificate", "must be a PEM certificate") from None
    try:
        key = serialization.load_pem_private_key(key_pem.encode(), password=None)
    except (ValueError, TypeError):
        # never echo the key, even a malformed one
        raise invalid_field("resource.privateKey", "must be a PEM private key") from None
    public = serialization.PublicFormat.SubjectPublicKeyInfo
    encoding = serialization.Encoding.DER
    if key.public_key().public_bytes(encoding, public) != cert.public_key().public_bytes(
        encoding, public
    ):
        raise invalid("The SSL certificate and the private key do not match.")
    try:
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
        body["subjectAlternativeNames"] = names.value.get_values_for_type(x509.DNSName)
    except x509.ExtensionNotFound:
        body["subjectAlternativeNames"] = []
    body["expireTime"] = cert.not_valid_after_utc.strftime("%Y-%m-%dT%H:%M:%S.000-00:00")
