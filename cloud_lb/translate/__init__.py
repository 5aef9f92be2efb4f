"""Pure translation of Kubernetes objects (raw dicts) into `LoadBalancerSpec`s."""
