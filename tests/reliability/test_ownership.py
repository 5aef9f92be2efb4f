"""Ownership: other people's resources survive create, update, node churn, delete and
`cloud-lb gc --apply` untouched, in every cloud.

See `lookalikes.py` for what is planted. `web` has look-alikes with its exact cloud
names (the provider may refuse to build beside them, with an event, or build its own
next to them: both are fine, touching them is not); `app` is an ordinary Service that
proves the controller was busy all along; `pinned` asks for someone else's static
address (used where the cloud allows it, never released or re-tagged).
"""

from __future__ import annotations

import pytest

from tests.reliability import lookalikes, scenario
from tests.reliability.conftest import WorldFactory
from tests.reliability.processes import Controllers, wait_until
from tests.reliability.worlds import PROVIDERS, NS


@pytest.mark.timeout(300)
@pytest.mark.parametrize("provider", PROVIDERS)
def test_lookalikes_survive_everything(provider: str, worlds: WorldFactory,
                                       controllers: Controllers,
                                       record_property: pytest.RecordProperty) -> None:
    with worlds(provider, nodes=3) as world:
        node_names = [n for n, _, _ in world.extra["nodes"]]
        world.core.delete_node(node_names[2])  # joins later: node churn
        web = world.create_service("web")
        world.create_service("app")
        planted = lookalikes.plant(world, world.ref(web))
        world.create_service("pinned", loadBalancerIP=planted.static_ip)
        others = planted.keys - planted.static_keys
        before = lookalikes.view(world, planted.keys)
        before_static = lookalikes.view(world, planted.static_keys, static=True)
        assert others and planted.static_keys, planted
        record_property("lookalikes", len(planted.keys))

        def untouched(keys: set[str] = others) -> None:
            now = lookalikes.view(world, keys)
            assert now == {k: before[k] for k in keys}, lookalikes.describe_changes(before, now)

        config = world.config_file()
        proc = controllers.start(config, world.kube.kubeconfig)
        proc.wait_started()
        scenario.wait_served(world, "app", backends=2)
        wait_until(lambda: scenario.served(world, "web")
                   or "SyncLoadBalancerFailed" in {r for r, _ in scenario.events(world, "web")},
                   60, "web served or refused")
        untouched()

        # update every Service (ports), then node churn (join, leave)
        for name in ("web", "app", "pinned"):
            world.core.patch_namespaced_service(
                name, NS, {"spec": {"ports": [{"name": "tcp", "port": 81, "targetPort": 8080}]}},
                _content_type="application/merge-patch+json")
        scenario.wait_served(world, "app", port=81)
        name, ip, provider_id = world.extra["nodes"][2]
        from cloud_lb.testing.fakecluster.nodes import node_manifest
        world.core.create_node(node_manifest(name, ip, provider_id=provider_id))
        scenario.wait_served(world, "app", backends=3)
        world.core.delete_node(node_names[0])
        scenario.wait_served(world, "app", backends=2)
        untouched()

        for name in ("web", "app", "pinned"):
            world.core.delete_namespaced_service(name, NS)
        for name in ("web", "app", "pinned"):
            scenario.wait_gone(world, name)
        assert proc.stop() == 0, proc.log()
        untouched()

        code, out = scenario.run_cli("gc", "--config", config, "--kubeconfig",
                                     world.kube.kubeconfig, "--apply")
        assert code == 0, out
        assert "no orphaned load balancers" in out, out
        untouched(others)
        # the user's static address: still there, same tags and description, and (after
        # its Service is gone) not associated with anything
        static_now = lookalikes.view(world, planted.static_keys, static=True)
        assert static_now == before_static, lookalikes.describe_changes(before_static, static_now)
        print(f"{provider}: {len(planted.keys)} look-alikes untouched "
              f"(static address {planted.static_ip})")
