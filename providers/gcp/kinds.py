"""The Compute collections the provider uses, and how each is reached through the SDK.

A `Kind` names the `google-cloud-compute` client (an attribute of `Compute`), the
proto-plus message, the keyword naming one resource (`forwarding_rule=...`), the scope
and the list request. The `api_name` is GCE's collection name as the call records
spell it (`compute.<api_name>.<verb>`). Regional kinds serve the Services' passthrough
load balancers; global kinds (`global...`, `urlMap`, target proxies, certificates) the
Ingresses' Application Load Balancers.
"""

from __future__ import annotations

from dataclasses import dataclass

from google.cloud import compute_v1 as c


@dataclass(frozen=True)
class Kind:
    api_name: str  # for call records: compute.<api_name>.<verb>
    client: str  # attribute of Compute holding the client
    message: type  # the proto-plus resource type
    arg: str  # keyword naming the resource: forwarding_rule=...
    scope: str  # "region" | "global" | "zone"
    list_request: type
    resource_name: str  # how logs, plans and errors name it


KINDS: dict[str, Kind] = {
    # regional passthrough load balancers (Services)
    "address": Kind(
        "addresses",
        "addresses",
        c.Address,
        "address",
        "region",
        c.ListAddressesRequest,
        "address",
    ),
    "healthCheck": Kind(
        "regionHealthChecks",
        "health_checks",
        c.HealthCheck,
        "health_check",
        "region",
        c.ListRegionHealthChecksRequest,
        "health-check",
    ),
    "backendService": Kind(
        "regionBackendServices",
        "backend_services",
        c.BackendService,
        "backend_service",
        "region",
        c.ListRegionBackendServicesRequest,
        "backend-service",
    ),
    "forwardingRule": Kind(
        "forwardingRules",
        "forwarding_rules",
        c.ForwardingRule,
        "forwarding_rule",
        "region",
        c.ListForwardingRulesRequest,
        "forwarding-rule",
    ),
    "firewall": Kind(
        "firewalls",
        "firewalls",
        c.Firewall,
        "firewall",
        "global",
        c.ListFirewallsRequest,
        "firewall",
    ),
    "instanceGroup": Kind(
        "instanceGroups",
        "instance_groups",
        c.InstanceGroup,
        "instance_group",
        "zone",
        c.ListInstanceGroupsRequest,
        "instance-group",
    ),
    # global Application Load Balancers (Ingresses)
    "globalAddress": Kind(
        "globalAddresses",
        "global_addresses",
        c.Address,
        "address",
        "global",
        c.ListGlobalAddressesRequest,
        "global-address",
    ),
    "globalHealthCheck": Kind(
        "healthChecks",
        "global_health_checks",
        c.HealthCheck,
        "health_check",
        "global",
        c.ListHealthChecksRequest,
        "health-check",
    ),
    "globalBackendService": Kind(
        "backendServices",
        "global_backend_services",
        c.BackendService,
        "backend_service",
        "global",
        c.ListBackendServicesRequest,
        "backend-service",
    ),
    "sslCertificate": Kind(
        "sslCertificates",
        "ssl_certificates",
        c.SslCertificate,
        "ssl_certificate",
        "global",
        c.ListSslCertificatesRequest,
        "ssl-certificate",
    ),
    "urlMap": Kind(
        "urlMaps",
        "url_maps",
        c.UrlMap,
        "url_map",
        "global",
        c.ListUrlMapsRequest,
        "url-map",
    ),
    "targetHttpProxy": Kind(
        "targetHttpProxies",
        "target_http_proxies",
        c.TargetHttpProxy,
        "target_http_proxy",
        "global",
        c.ListTargetHttpProxiesRequest,
        "target-http-proxy",
    ),
    "targetHttpsProxy": Kind(
        "targetHttpsProxies",
        "target_https_proxies",
        c.TargetHttpsProxy,
        "target_https_proxy",
        "global",
        c.ListTargetHttpsProxiesRequest,
        "target-https-proxy",
    ),
    "globalForwardingRule": Kind(
        "globalForwardingRules",
        "global_forwarding_rules",
        c.ForwardingRule,
        "forwarding_rule",
        "global",
        c.ListGlobalForwardingRulesRequest,
        "forwarding-rule",
    ),
}

# the SDK client class behind each `Kind.client`
CLIENTS: dict[str, type] = {
    "addresses": c.AddressesClient,
    "health_checks": c.RegionHealthChecksClient,
    "backend_services": c.RegionBackendServicesClient,
    "forwarding_rules": c.ForwardingRulesClient,
    "firewalls": c.FirewallsClient,
    "instance_groups": c.InstanceGroupsClient,
    "regions": c.RegionsClient,
    "global_addresses": c.GlobalAddressesClient,
    "global_health_checks": c.HealthChecksClient,
    "global_backend_services": c.BackendServicesClient,
    "ssl_certificates": c.SslCertificatesClient,
    "url_maps": c.UrlMapsClient,
    "target_http_proxies": c.TargetHttpProxiesClient,
    "target_https_proxies": c.TargetHttpsProxiesClient,
    "global_forwarding_rules": c.GlobalForwardingRulesClient,
}
