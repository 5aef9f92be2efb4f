"""Fakes that ship with the package: they back the tests and `cloud-lb demo`."""
