"""Metrics and the health/readiness endpoints."""
