"""Parsing and validating config files: defaults, durations, every invalid field named,
provider sections, YAML errors with lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from cloud_lb.config import Config, ConfigError, default_config, load_config, parse_config
from cloud_lb.translate.settings import TranslateSettings
from providers.local.config import LocalConfig

from .conftest import VaultConfig


def test_a_minimal_file_gets_every_default() -> None:
    config = parse_config("clusterName: prod-eu-1\n")
    assert (config.cluster_name, config.provider) == ("prod-eu-1", "local")
    c = config.controller
    assert (c.workers, c.resync_period, c.load_balancer_class, c.manage_unclassed) == (4, 600.0, None, True)
    assert (c.address_type, c.cluster_health_check) == ("InternalIP", "http-kube-proxy")
    r = config.rate_limit
    assert (r.backoff_base, r.backoff_max) == (5.0, 300.0)
    le = config.leader_election
    assert (le.lease_duration, le.renew_deadline, le.retry_period) == (15.0, 10.0, 2.0)
    assert config.metrics.address == "127.0.0.1:9100" and config.metrics.port == 9100
    assert isinstance(config.provider_settings(), LocalConfig)


def test_default_config_is_a_valid_local_config() -> None:
    config = default_config()
    assert (config.cluster_name, config.provider) == ("demo", "local")
    assert default_config("other").cluster_name == "other"


@pytest.mark.parametrize("text,seconds", [
    ("30s", 30.0), ("10m", 600.0), ("1h", 3600.0), ("1h30m", 5400.0), ("250ms", 0.25),
    ("0.2s", 0.2), (90, 90.0), (1.5, 1.5), ("45", 45.0),
])
def test_durations_accept_go_style_text_or_seconds(text: object, seconds: float) -> None:
    config = parse_config({"clusterName": "c", "controller": {"resyncPeriod": text}})
    assert config.controller.resync_period == pytest.approx(seconds)


def test_translate_settings_carry_the_controller_section() -> None:
    config = parse_config({"clusterName": "c", "controller": {
        "loadBalancerClass": "cloud-lb.io/lb", "manageUnclassed": False,
        "nodeSelector": {"pool": "edge"}, "excludeLabel": "example.com/no-lb",
        "addressType": "ExternalIP", "addressFallback": True, "clusterHealthCheck": "tcp-node-port",
        "healthCheck": {"interval": 10, "timeout": 4, "healthyThreshold": 3,
                        "unhealthyThreshold": 5, "allowServiceOverrides": False}}})
    assert config.translate_settings() == TranslateSettings(
        cluster_name="c", load_balancer_class="cloud-lb.io/lb", manage_unclassed=False,
        node_selector={"pool": "edge"}, exclude_label="example.com/no-lb",
        address_type="ExternalIP", address_fallback=True, cluster_health_check="tcp-node-port",
        health_check_interval=10, health_check_timeout=4, healthy_threshold=3,
        unhealthy_threshold=5, allow_health_check_overrides=False)


# (sentence, YAML, the field named, words in the message)
INVALID = [
    ("the cluster name is required", "provider: local\n", "clusterName", "is required"),
    ("the cluster name must be a DNS label", "clusterName: Prod_1\n", "clusterName", "DNS label"),
    ("workers must be positive", "clusterName: c\ncontroller: {workers: 0}\n",
     "controller.workers", "must be >= 1"),
    ("a duration must parse", "clusterName: c\ncontroller: {resyncPeriod: soon}\n",
     "controller.resyncPeriod", "not a duration"),
    ("a duration must be positive", "clusterName: c\ncontroller: {nodeSyncDebounce: 0}\n",
     "controller.nodeSyncDebounce", "must be > 0"),
    ("a misspelt key gets a suggestion", "clusterName: c\ncontroller: {wokers: 2}\n",
     "controller.wokers", "did you mean 'workers'"),
    ("an unknown top-level key is named", "clusterName: c\nfoo: 1\n", "foo", "unknown key"),
    ("the address type is one of two", "clusterName: c\ncontroller: {addressType: Hostname}\n",
     "controller.addressType", "'InternalIP' or 'ExternalIP'"),
    ("the cluster health check is one of two",
     "clusterName: c\ncontroller: {clusterHealthCheck: icmp}\n", "controller.clusterHealthCheck",
     "'http-kube-proxy' or 'tcp-node-port'"),
    ("a health check timeout above its interval is refused",
     "clusterName: c\ncontroller:\n  healthCheck: {interval: 2, timeout: 5}\n",
     "controller.healthCheck", "must not exceed interval"),
    ("managing nothing is refused", "clusterName: c\ncontroller: {manageUnclassed: false}\n",
     "controller", "would manage nothing"),
    ("the class must be a qualified name", "clusterName: c\ncontroller: {loadBalancerClass: 'a b'}\n",
     "controller.loadBalancerClass", "qualified name"),
    ("node selector values are strings", "clusterName: c\ncontroller:\n  nodeSelector: {pool: [a]}\n",
     "controller.nodeSelector.pool", "valid string"),
    ("qps must be positive", "clusterName: c\nrateLimit: {qps: 0}\n", "rateLimit.qps", "must be > 0"),
    ("burst must be at least one", "clusterName: c\nrateLimit: {burst: 0}\n", "rateLimit.burst", "must be >= 1"),
    ("backoff base above max is refused", "clusterName: c\nrateLimit: {backoffBase: 10m, backoffMax: 1m}\n",
     "rateLimit", "backoffBase must not exceed backoffMax"),
    ("the log level is named", "clusterName: c\nlogging: {level: loud}\n", "logging.level", "'INFO'"),
    ("the log format is text or json", "clusterName: c\nlogging: {format: xml}\n", "logging.format",
     "'text' or 'json'"),
    ("the metrics address is host:port", "clusterName: c\nmetrics: {address: localhost}\n",
     "metrics.address", "host:port"),
    ("leader election timings must be ordered",
     "clusterName: c\nleaderElection: {leaseDuration: 5s, renewDeadline: 10s}\n",
     "leaderElection", "leaseDuration > renewDeadline > retryPeriod"),
    ("the lease name is a DNS label", "clusterName: c\nleaderElection: {leaseName: My_Lease}\n",
     "leaderElection.leaseName", "DNS label"),
    ("the gc period is a duration", "clusterName: c\ngc: {period: weekly}\n", "gc.period", "not a duration"),
    ("an unknown provider lists the installed ones", "clusterName: c\nprovider: azure\n",
     "provider", "installed: local, vault"),
    ("a provider section is validated by its plugin", "clusterName: c\nprovider: vault\nvault: {}\n",
     "vault.authUrl", "is required"),
    ("a nested provider key is named", "clusterName: c\nprovider: vault\nvault:\n  authUrl: x\n  retry: {attempts: 0}\n",
     "vault.retry.attempts", "must be >= 1"),
    ("a misspelt provider key gets a suggestion", "clusterName: c\nprovider: vault\nvault:\n  authUrl: x\n  usrname: y\n",
     "vault.usrname", "did you mean 'username'"),
    ("an inactive provider's section is validated too", "clusterName: c\nvault: {authUrl: ''}\n",
     "vault.authUrl", "at least 1 character"),
    ("the local section is validated", "clusterName: c\nlocal: {addressPool: 127.0.0.0/33}\n",
     "local.addressPool", "not a valid IPv4 network"),
    ("the file must be a mapping", "- a\n- b\n", "(top level)", "mapping"),
]


@pytest.mark.parametrize("sentence,text,field,words", INVALID, ids=[i[0] for i in INVALID])
def test_every_invalid_field_is_named(sentence: str, text: str, field: str, words: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(text)
    fields = [path for path, _ in info.value.problems]
    assert field in fields, f"{sentence}: {info.value}"
    message = dict(info.value.problems)[field]
    assert words in message, f"{sentence}: {message}"
    assert f"{field}: {message}" in str(info.value).splitlines()


def test_all_problems_are_reported_at_once_with_their_lines() -> None:
    text = "clusterName: c\ncontroller:\n  workers: 0\n  resyncPeriod: x\nprovider: vault\nvault: {}\n"
    with pytest.raises(ConfigError) as info:
        parse_config(text)
    assert str(info.value).splitlines() == [
        "controller.workers: must be >= 1 (line 3)",
        "controller.resyncPeriod: 'x' is not a duration; write e.g. 30s, 10m, 1h30m or 250ms (line 4)",
        "vault.authUrl: is required (line 6)",
    ]


@pytest.mark.parametrize("text,where", [
    ("clusterName: c\ncontroller:\n  workers: [1, 2\n", "line 4"),
    ("clusterName: c\n  bad: indent\n", "line 2"),
    ("clusterName: 'open\n", "line 2"),
])
def test_yaml_syntax_errors_name_the_line(text: str, where: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(text)
    [(path, message)] = info.value.problems
    assert path.startswith(where + ", column "), str(info.value)
    assert "invalid YAML" in message


def test_an_empty_file_only_lacks_the_cluster_name() -> None:
    with pytest.raises(ConfigError) as info:
        parse_config("")
    assert info.value.problems == [("clusterName", "is required")]


def test_provider_settings_return_the_validated_section() -> None:
    config = parse_config({"clusterName": "c", "provider": "vault",
                           "vault": {"authUrl": "https://id.example/v3", "retry": {"attempts": 5}},
                           "local": {"addressPool": "127.241.0.0/24"}})
    section = config.provider_settings()
    assert isinstance(section, VaultConfig)
    assert (section.auth_url, section.retry.attempts) == ("https://id.example/v3", 5)
    sections = config.provider_sections()
    assert str(sections["local"].address_pool) == "127.241.0.0/24"


def test_a_section_of_a_registered_provider_that_cannot_load_is_not_checked() -> None:
    # `gcp` is registered by entry point but not installed in this test's registry
    config = parse_config({"clusterName": "c", "gcp": {"anything": "goes"}})
    assert config.provider == "local"
    with pytest.raises(ConfigError) as info:
        parse_config({"clusterName": "c", "provider": "gcp"})
    assert info.value.problems[0][0] == "provider"


def test_a_config_built_in_code_validates_its_provider_section_on_use() -> None:
    assert isinstance(Config(cluster_name="c").provider_settings(), LocalConfig)
    with pytest.raises(ConfigError) as info:
        Config(cluster_name="c", provider="vault").provider_settings()
    assert info.value.problems[0][0] == "vault.authUrl"


def test_load_config_reads_a_file_and_names_an_unreadable_one(tmp_path: Path) -> None:
    path = tmp_path / "cloud-lb.yaml"
    path.write_text("clusterName: from-file\ncontroller: {workers: 2}\n")
    assert load_config(path).controller.workers == 2
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "missing.yaml")
    assert info.value.problems[0][0] == "(file)" and "missing.yaml" in str(info.value)


def test_the_demo_config_shape_is_valid() -> None:
    config = parse_config({"clusterName": "demo", "provider": "local", "local": {},
                           "controller": {"nodeSyncDebounce": "0.2s", "healthCheck": {
                               "interval": 1, "timeout": 1, "healthyThreshold": 1,
                               "unhealthyThreshold": 2}}})
    assert config.controller.node_sync_debounce == pytest.approx(0.2)
    assert config.translate_settings().health_check_interval == 1


def test_config_is_immutable() -> None:
    config = default_config()
    with pytest.raises(Exception):
        config.cluster_name = "other"  # type: ignore[misc]


@pytest.mark.parametrize("text", ["metrics: off", "metrics: false", "metrics: {address: off}",
                                  "metrics: {address: 'OFF'}", "metrics: {enabled: false}"])
def test_metrics_can_be_turned_off(text: str) -> None:
    assert not parse_config(f"clusterName: c\n{text}\n").metrics.enabled


def test_metrics_listen_on_ipv6() -> None:
    metrics = parse_config("clusterName: c\nmetrics: {address: '[::1]:9200'}\n").metrics
    assert (metrics.enabled, metrics.host, metrics.port) == (True, "::1", 9200)
