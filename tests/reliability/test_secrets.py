"""Secrets never leave: a full scenario at DEBUG level with known secret values, then
every output stream is searched for them.

Secrets: the OpenStack password and application-credential secret, the Keystone
tokens the fake issued, the AWS secret key and session token, a GCP service-account
key file's private key, and a TLS private key
in a `kubernetes.io/tls` Secret of the cluster (with an Ingress that uses it).

Searched: the controller's stdout/stderr (DEBUG, text; and JSON for one run), every
Event in the cluster, every Service object, `/metrics`, the output of `plan`,
`status`, `gc` and of `check-config` on a broken config, and the error paths (cloud
5xx faults and an invalid annotation run during the scenario).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
import pytest

from tests.reliability import scenario, secrets_world
from tests.reliability.conftest import WorldFactory
from tests.reliability.processes import Controllers, wait_until
from tests.reliability.worlds import NS, World

CASES = ["openstack-password", "openstack-application-credential", "aws", "gcp-key-file",
         "local"]


def _credentials(case: str, world: World, tmp: Path) -> list[str]:
    """Put the case's credentials in the world's config; returns the secret values."""
    if case == "openstack-password":
        return [world.fake.password]
    if case == "openstack-application-credential":
        world.section["auth"] = {"authUrl": world.fake.auth_url,
                                 "applicationCredentialId": world.fake.app_credential_id,
                                 "applicationCredentialSecret": world.fake.app_credential_secret}
        return [world.fake.app_credential_secret, world.fake.password]
    if case == "aws":
        return [world.section["secretAccessKey"], world.section["sessionToken"]]
    if case == "gcp-key-file":
        pem = secrets_world.private_key_pem()
        key_file = secrets_world.service_account_file(
            tmp / "sa.json", "http://127.0.0.1:9/token", pem, world.section["project"])
        world.section.pop("anonymousCredentials", None)
        world.section["credentialsFile"] = str(key_file)
        return [*secrets_world.pem_markers(pem), json.dumps(pem)[1:41]]
    return []


def _inject_faults(world: World) -> None:
    if world.provider_name == "openstack":
        from cloud_lb.testing.fakeopenstack.faults import Fault
        world.fake.inject(Fault(status=503, service="load-balancer", method="POST", times=2))
        world.fake.inject(Fault(status=500, service="network", times=2))
    elif world.provider_name == "gcp":
        world.fake.faults.server_error("*.insert", times=2)


@pytest.mark.timeout(300)
@pytest.mark.parametrize("case", CASES)
def test_no_secret_in_any_output(case: str, worlds: WorldFactory, controllers: Controllers,
                                 tmp_path: Path) -> None:
    provider = case.split("-")[0]
    with worlds(provider) as world:
        secrets = _credentials(case, world, tmp_path)
        tls_pem = secrets_world.private_key_pem()
        secrets += secrets_world.pem_markers(tls_pem)
        world.core.create_namespaced_secret(NS, secrets_world.tls_secret("web-tls", tls_pem))
        world.kube.api_client()  # (the Ingress below goes through the dynamic path)
        from kubernetes import client as k8s
        k8s.NetworkingV1Api(world.core.api_client).create_namespaced_ingress(NS, {
            "apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
            "metadata": {"name": "web"},
            "spec": {"tls": [{"hosts": ["web.example"], "secretName": "web-tls"}],
                     "defaultBackend": {"service": {"name": "web", "port": {"number": 80}}}}})
        _inject_faults(world)
        config = world.config_file(logging={"level": "DEBUG", "format": "text"},
                                   metrics={"enabled": True, "address": "127.0.0.1:0"})
        outputs: dict[str, str] = {}

        proc = controllers.start(config, world.kube.kubeconfig, name="debug-run",
                                 extra_args=["--metrics-address", "127.0.0.1:0"])
        proc.wait_started()
        world.create_service("web", annotations={"cloud-lb.io/internal": "maybe"})
        world.create_service("api")
        scenario.wait_served(world, "api")
        world.core.patch_namespaced_service("api", NS, {"spec": {"ports": [
            {"name": "tcp", "port": 81, "targetPort": 8080}]}},
            _content_type="application/merge-patch+json")
        scenario.wait_served(world, "api", port=81)
        url = re.search(r"metrics listening on (\S+)", proc.log())
        assert url, proc.log()
        import urllib.request
        with urllib.request.urlopen(f"{url.group(1)}/metrics", timeout=10) as response:
            outputs["metrics"] = response.read().decode()
        assert "cloudlb_" in outputs["metrics"]

        args = ["--config", config, "--kubeconfig", world.kube.kubeconfig]
        for command in ("plan", "status", "gc"):
            code, out = controllers.command([command, *args], name=command)
            assert code == 0, out
            outputs[command] = out
        world.core.delete_namespaced_service("api", NS)
        scenario.wait_gone(world, "api")
        assert proc.stop() == 0, proc.log()
        outputs["controller (DEBUG, text)"] = proc.log()

        json_config = world.config_file("json.yaml", logging={"level": "DEBUG",
                                                              "format": "json"})
        proc = controllers.start(json_config, world.kube.kubeconfig, name="json-run")
        proc.wait_started()
        world.create_service("api2")
        scenario.wait_served(world, "api2")
        assert proc.stop() == 0, proc.log()
        outputs["controller (DEBUG, json)"] = proc.log()

        broken = world.config_file("broken.yaml", controller={"workers": 0})
        code, outputs["check-config"] = controllers.command(["check-config", "--config", broken],
                                                            name="check-config")
        assert code != 0, outputs["check-config"]
        outputs["events"] = json.dumps(world.core.api_client.sanitize_for_serialization(
            world.core.list_event_for_all_namespaces()))
        outputs["services"] = json.dumps(world.core.api_client.sanitize_for_serialization(
            world.core.list_service_for_all_namespaces()))
        assert "InvalidLoadBalancerSpec" in outputs["events"]
        if provider == "openstack":
            secrets += list(world.fake.identity.tokens)  # every Keystone token issued

        assert secrets or provider == "local"
        # the scenario really ran at DEBUG with these credentials
        assert " debug   " in outputs["controller (DEBUG, text)"]
        assert '"level": "debug"' in outputs["controller (DEBUG, json)"] or \
            '"level":"debug"' in outputs["controller (DEBUG, json)"]
        leaks = [(where, secret[:6] + "...") for where, text in outputs.items()
                 for secret in secrets if secret and secret in text]
        assert not leaks, f"secrets found: {leaks}"
        print(f"{case}: {len(secrets)} secret values, {len(outputs)} outputs, "
              f"{sum(len(t) for t in outputs.values())} characters searched: none found")
