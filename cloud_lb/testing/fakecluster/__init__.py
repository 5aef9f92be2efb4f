"""A fake Kubernetes cluster for tests and `cloud-lb fake-cluster`: the fake API server,
Node objects whose InternalIPs are loopback addresses, and a kube-proxy simulator that
serves every Service's node ports and health-check node ports on every node.

    from cloud_lb.testing.fakecluster import running_fake_cluster
    with running_fake_cluster(nodes=3) as cluster:
        cluster.kubeconfig, cluster.nodes, cluster.add_endpoint("default", "web", "node-1")

Modules: `addresses` (which /24 of 127.0.0.0/8 a cluster's nodes live on), `nodes`,
`services`, `endpoints` (the objects, built and read as plain dicts), `listeners` (which
sockets the nodes should hold: a pure function), `watching` (list + watch), `responders`
and `httpwire` (what a node answers), `simulator` (the event loop that holds the
sockets), `cluster` (all of it together).
"""

from cloud_lb.testing.fakecluster.addresses import CLI_DEFAULT_SUBNET, SubnetUnavailableError
from cloud_lb.testing.fakecluster.cluster import FakeCluster, running_fake_cluster
from cloud_lb.testing.fakecluster.nodes import SimNode

__all__ = [
    "CLI_DEFAULT_SUBNET",
    "FakeCluster",
    "SimNode",
    "SubnetUnavailableError",
    "running_fake_cluster",
]
