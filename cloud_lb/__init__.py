"""cloud-lb: external load balancers for Kubernetes Services and Ingresses."""

__version__ = "0.1.0"
