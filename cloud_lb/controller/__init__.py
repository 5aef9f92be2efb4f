"""Reconcilers: services, ingresses, node sync, orphan collection."""
