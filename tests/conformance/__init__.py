"""The provider conformance suite: the contract of `cloud_lb/provider.py` as tests.

Run for every plugin of the `cloud_lb.providers` entry points that loads. What a
provider supplies, in `<its package>.testing.conformance_target(cluster)`, and what the
suite holds it to:

- `snapshot()` is the whole state of its fake cloud as plain comparable data (no call
  logs, operation records or timestamps): creating then deleting a load balancer must
  give back the snapshot taken before (nothing leaks), and a planted foreign
  look-alike must be in every later snapshot unchanged.
- `plant_foreign(ref)` creates, behind the provider's back, what `ref`'s load balancer
  would look like but tagged for another cluster (or untagged). The provider may
  refuse to touch it (`OwnershipError`) or work around it, never change it.
- Operation names: every mutating call recorded while `update_backends` runs must name
  members (`member`, `target`, `instance` or `backend` in its name).
- Statuses of two ensures of one spec are equal except `backends_healthy`, which
  health checks move on their own.
"""
