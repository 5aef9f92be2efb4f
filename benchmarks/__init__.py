"""The cloud-lb benchmark harness (`python -m benchmarks`).

One process tree on this machine:

    parent (driver)  ── fake Kubernetes API server (threads), scenario driver, Service
    │                   tracker (an informer that timestamps every address)
    ├── cloud        ── the simulated cloud (`simcloud.SimCloud`) served by a
    │                   multiprocessing manager: latency, async provisioning, token bucket
    └── controller   ── cloud-lb itself (informers, work queue, workers) with the `sim`
                        provider (or a real provider against its fake); a fresh process
                        per start, so its peak RSS and CPU seconds are its own

Module map:

- the cloud: `simcloud` (`SimCloud`, and `SIM_PLUGIN`), `simmodel` (states, errors,
  settings), `simchildren` (listener, pool, member and monitor writes), `simserver`
  (the cloud's process);
- the `sim` provider: `simconfig`, `simcalls` (the recorded, paced client), `simrender`
  (spec → cloud objects, and the diff), `simprovider` (cloud-lb's model: fully-populated
  create, batch member update, never blocks a worker), `simupstream` (the anchor's
  model: step by step, waiting for ACTIVE after each write, one call per member);
- the run: `child` / `procs` (the controller process and its handle), `cluster`
  (populating the fake API server), `tracker`, `clouds` (sim or a real provider's fake),
  `runner`, `scenarios`, `scale`, `experiments` (opt-in controller changes, measured
  before proposing them);
- the figures: `measure` (RSS, CPU, heap sizes), `bounds`, `results`, `targets`,
  `report` (table, JSON, chart), `cli`.

`openstack_calls` is the OpenStack provider's own call-count comparison
(`python -m benchmarks.openstack_calls`).
"""
