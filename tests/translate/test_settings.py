"""TranslateSettings reject nonsense at construction and survive pickling."""

from __future__ import annotations

import pickle

import pytest

from cloud_lb.translate.settings import TranslateSettings


@pytest.mark.parametrize("kwargs,words", [
    ({"cluster_name": ""}, "cluster_name"),
    ({"load_balancer_class": ""}, "load_balancer_class"),
    ({"address_type": "Hostname"}, "address_type"),
    ({"cluster_health_check": "icmp"}, "cluster_health_check"),
    ({"health_check_timeout": 9}, "timeout"),
    ({"healthy_threshold": 0}, "thresholds"),
    ({"kube_proxy_health_port": 0}, "kube_proxy_health_port"),
])
def test_invalid_settings_are_refused(kwargs: dict, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        TranslateSettings(**{"cluster_name": "c", **kwargs})


def test_settings_are_read_only_hashable_and_pickle() -> None:
    selector = {"pool": "edge"}
    settings = TranslateSettings(cluster_name="c", node_selector=selector)
    selector["pool"] = "changed"
    assert settings.node_selector == {"pool": "edge"}, "a copy, not the caller's dict"
    with pytest.raises(TypeError):
        settings.node_selector["pool"] = "x"  # type: ignore[index]
    clone = pickle.loads(pickle.dumps(settings))
    assert clone == settings and hash(clone) == hash(settings)
