"""A fake Kubernetes API server that the official client and kubectl talk to unchanged.

It backs the tests and `cloud-lb demo`/`cloud-lb fake-kube`: plain HTTP on a loopback
address, one global resourceVersion, 409 conflicts, the `status` subresource, finalizers
and deletionTimestamp, merge / strategic-merge / JSON patches, label and field
selectors, paginated lists, watches with bookmarks and 410 Gone, Service defaulting,
validation and node-port / cluster-IP allocation, and fault injection.

    from cloud_lb.testing.fakekube import running_fake_kube

    with running_fake_kube() as kube:
        api = kubernetes.client.CoreV1Api(kube.api_client())
        kube.faults.fail_next(2, status=429, resource="services", verb="patch")

Module map: `server` (lifecycle), `handler` (HTTP, watch streaming), `api` (verbs),
`routing` (paths), `store` (objects, history, watches), `watching`, `selectors`,
`patching` + `jsonpatch`, `strategies` + `services` (per-resource rules), `allocators`,
`resources` (the resource table), `conversion` (events.k8s.io), `discovery`, `tables`
(kubectl printing), `faults`, `kubeconfig`, `errors`, `validation`.
"""

from cloud_lb.testing.fakekube.faults import Faults
from cloud_lb.testing.fakekube.server import FakeKubeServer, running_fake_kube

__all__ = ["FakeKubeServer", "Faults", "running_fake_kube"]
