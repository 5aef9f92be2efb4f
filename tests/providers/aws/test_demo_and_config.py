"""The demo cloud (a moto server on 127.0.0.1) and the config section."""

from __future__ import annotations

import threading

import pytest
from pydantic import ValidationError

from cloud_lb.model import Backend, LBRef, LoadBalancerSpec, ObjectKind
from cloud_lb.provider import CallRecorder, ProviderContext, load_plugin
from providers.aws.config import AWSConfig
from providers.aws.testing import demo_cloud
from tests.providers.aws.conftest import tcp


def test_demo_cloud_serves_the_provider_over_http_and_stops_cleanly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    threads_before = set(threading.enumerate())
    nodes = [("node-a", "10.1.0.1"), ("node-b", "10.1.0.2")]
    with demo_cloud("demo", nodes) as demo:
        assert demo.provider == "aws" and demo.config["endpointUrl"].startswith("http://127.0.0.1:")
        assert set(demo.provider_ids) == {"node-a", "node-b"}
        assert all(pid.startswith("aws:///") for pid in demo.provider_ids.values())
        for key, value in (demo.env or {}).items():
            monkeypatch.setenv(key, value)
        plugin = load_plugin("aws")
        config = plugin.config_model.model_validate(demo.config)
        provider = plugin.factory(
            config, ProviderContext(cluster_name="demo", recorder=CallRecorder())
        )
        try:
            spec = LoadBalancerSpec(
                ref=LBRef("demo", ObjectKind.SERVICE, "default", "web", "uid-demo"),
                listeners=(tcp(80, 30080),),
                backends=tuple(Backend(name, ip, demo.provider_ids[name]) for name, ip in nodes),
            )
            status = provider.ensure(spec)
            text = demo.describe()
        finally:
            provider.close()
        assert status.ingress[0].hostname and status.ingress[0].hostname in text
        assert "moto does not carry traffic" in text and "listener TCP/80" in text
        assert "healthy" in text
        secrets = [v for k, v in (demo.env or {}).items() if k != "AWS_DEFAULT_REGION"]
        assert len(secrets) == 3 and not any(v in text for v in secrets)  # no credentials printed
    leftover = [t for t in set(threading.enumerate()) - threads_before if t.is_alive()]
    assert leftover == []


def test_config_uses_camel_case_and_hides_credentials() -> None:
    config = AWSConfig.model_validate(
        {
            "region": "eu-west-3",
            "vpcId": "vpc-0abc",
            "accessKeyId": "AKIAEXAMPLE",
            "secretAccessKey": "s3cr3t-value",
            "securityGroupMode": "nodes",
            "rateLimits": {"elbv2Mutate": {"perSecond": 2, "burst": 4}},
        }
    )
    assert config.rate_limits.elbv2_mutate.burst == 4
    assert config.rate_limits.ec2_read.per_second == 20  # defaults for the rest
    assert "s3cr3t-value" not in repr(config) and "s3cr3t-value" not in str(config.model_dump())


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"accessKeyId": "AKIA"}, "together"),
        ({"vpcId": "vpc-XYZ"}, "vpcId"),
        ({"subnets": ["sub-1"]}, "subnet ID"),
        ({"nodeSecurityGroupIds": ["nodes"]}, "security group ID"),
        ({"securityGroupMode": "both"}, "securityGroupMode"),
        ({"unknown": 1}, "unknown"),
    ],
)
def test_config_errors_name_the_field(data: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError) as err:
        AWSConfig.model_validate({"region": "eu-west-3", "vpcId": "vpc-0abc", **data})
    assert message in str(err.value)
