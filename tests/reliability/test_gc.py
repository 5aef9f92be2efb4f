"""`cloud-lb gc` and the controller's periodic orphan collection, in every cloud.

An orphan is made the way users make them: the controller is down, someone strips the
Service's finalizer and deletes it. `gc` lists it (dry run: nothing changes), `gc
--apply` deletes it and only it; a controller with `gc.period` set collects the next
one by itself. At the end, with every Service deleted, the cloud holds nothing that
was not there before the test: zero leaked resources of any type.
"""

from __future__ import annotations

import pytest

from tests.reliability import scenario
from tests.reliability.conftest import WorldFactory
from tests.reliability.processes import Controllers, wait_until
from tests.reliability.worlds import NS, PROVIDERS, World


def _orphan(world: World, controllers: Controllers, config: str, name: str) -> None:
    """A Service with a load balancer, then deleted behind a stopped controller's back."""
    world.create_service(name)
    proc = controllers.start(config, world.kube.kubeconfig)
    proc.wait_started()
    scenario.wait_served(world, name)
    assert proc.stop() == 0, proc.log()
    world.core.patch_namespaced_service(name, NS, {"metadata": {"finalizers": None}},
                                        _content_type="application/merge-patch+json")
    world.core.delete_namespaced_service(name, NS)
    scenario.wait_gone(world, name)


@pytest.mark.timeout(300)
@pytest.mark.parametrize("provider", PROVIDERS)
def test_gc_lists_then_deletes_only_orphans_and_the_controller_collects_them(
        provider: str, worlds: WorldFactory, controllers: Controllers) -> None:
    with worlds(provider) as world:
        config = world.config_file()
        world.create_service("kept")
        _orphan(world, controllers, config, "gone")
        kept = world.ref(world.service("kept") or {})
        reader = scenario.reader(world)
        owned = {r.name for r in reader.list_owned()}
        assert owned == {"kept", "gone"}
        before = world.snapshot()

        args = ("gc", "--config", config, "--kubeconfig", world.kube.kubeconfig)
        code, out = scenario.run_cli(*args)
        assert code == 0, out
        assert "orphan: Service/default/gone" in out and "kept" not in out, out
        assert "1 orphan(s); run with --apply to delete them" in out, out
        assert world.snapshot() == before, "a dry run changed the cloud"

        code, out = scenario.run_cli(*args, "--apply")
        assert code == 0, out
        assert "deleted: Service/default/gone" in out and "deleted 1 orphaned" in out, out
        assert reader.list_owned() == [kept]
        assert scenario.served(world, "kept"), "gc touched a live Service's load balancer"
        code, out = scenario.run_cli(*args, "--apply")
        assert "no orphaned load balancers" in out, out

        # periodic collection by the controller (gc.period)
        _orphan(world, controllers, config, "gone-too")
        periodic = world.config_file("periodic.yaml", gc={"enabled": True, "period": "1s"})
        proc = controllers.start(periodic, world.kube.kubeconfig)
        proc.wait_started()
        wait_until(lambda: reader.list_owned() == [kept], 60, "the controller's orphan GC",
                   on_timeout=proc.log)
        assert scenario.served(world, "kept")

        world.core.delete_namespaced_service("kept", NS)
        scenario.wait_gone(world, "kept")
        assert proc.stop() == 0, proc.log()
        assert world.resources() == {}, f"leaked: {world.resources()}"
