"""The commands run against the controller harness of tests/controller."""

from tests.controller.conftest import cluster, harness  # noqa: F401 - fixtures
