"""A fake Google Compute Engine REST API that `google-cloud-compute` talks to unchanged.

There is no Compute Engine emulator, so cloud-lb ships this one: the load-balancing
collections (addresses, forwardingRules, backendServices, healthChecks, instanceGroups,
firewalls, and the L7 urlMaps, targetHttp(s)Proxies, sslCertificates), zonal/regional/
global operations that go PENDING -> RUNNING -> DONE and apply their change when DONE,
and GCE's errors: 409 alreadyExists, 404 notFound, 412 on a stale fingerprint, 400
resourceInUseByAnotherResource / resourceNotReady, name validation, quotas; plus fault
injection (latency, 5xx, 429 rateLimitExceeded) and a call log.

    from cloud_lb.testing.fakegce import FakeGCE
    with FakeGCE(project="p") as fake:
        fake.add_instance("us-central1-a", "node-1")
        ... compute_v1.XClient(credentials=AnonymousCredentials(),
                               client_options={"api_endpoint": fake.url}) ...

Module map: `server` (HTTP + FakeGCE), `routing` (paths -> verbs), `handlers` (verbs),
`collections` + `validation` (per-collection rules), `operations`, `store`, `filters`
(list filters), `faults`, `errors`, `links`.
"""

from cloud_lb.testing.fakegce.errors import GCEError
from cloud_lb.testing.fakegce.faults import Fault, Faults
from cloud_lb.testing.fakegce.server import DEFAULT_REGIONS, Call, FakeGCE

__all__ = ["DEFAULT_REGIONS", "Call", "FakeGCE", "Fault", "Faults", "GCEError"]
