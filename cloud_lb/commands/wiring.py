"""Building the running pieces from a validated `Config`: shared by run, plan, status,
gc and demo, so they all see the same provider and settings."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cloud_lb.provider import CallRecorder, LoadBalancerProvider, ProviderContext, load_plugin

if TYPE_CHECKING:
    from cloud_lb.config import Config
    from cloud_lb.controller.manager import Controller, RuntimeSettings
    from cloud_lb.kube.client import KubeAPI


def load_config_or_exit(path: str) -> Config:
    """The validated config; on errors print each (naming its field) and exit 2."""
    from cloud_lb.config import ConfigError, load_config
    try:
        return load_config(path)
    except ConfigError as exc:
        print(f"invalid config {path}:\n{exc}")
        raise SystemExit(2) from None


def build_provider(config: Config, recorder: CallRecorder | None = None) -> LoadBalancerProvider:
    plugin = load_plugin(config.provider)
    context = ProviderContext(cluster_name=config.cluster_name,
                              recorder=recorder or CallRecorder())
    return plugin.factory(config.provider_settings(), context)


def build_api(kubeconfig: str | None) -> KubeAPI:
    from cloud_lb.kube.client import KubeAPI, make_api_client
    return KubeAPI(make_api_client(kubeconfig))


def runtime_settings(config: Config) -> RuntimeSettings:
    from cloud_lb.controller.manager import RuntimeSettings
    c, r = config.controller, config.rate_limit
    return RuntimeSettings(workers=c.workers, resync_period=c.resync_period,
                           node_sync_period=c.node_sync_period,
                           node_sync_debounce=c.node_sync_debounce,
                           backoff_base=r.backoff_base, backoff_max=r.backoff_max,
                           qps=r.qps, burst=r.burst,
                           gc_period=config.gc.period if config.gc.enabled else None)


def build_controller(config: Config, *, api: KubeAPI, provider: LoadBalancerProvider,
                     ) -> Controller:
    from cloud_lb.controller.manager import Controller
    return Controller(api=api, provider=provider, settings=config.translate_settings(),
                      runtime=runtime_settings(config), ingress=config.ingress_settings())
