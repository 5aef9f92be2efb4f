"""The Kubernetes runtime: informers, work queue, leader election, writers."""
