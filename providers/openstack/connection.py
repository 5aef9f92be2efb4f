"""Build the openstacksdk connection from the provider config.

One of: the config's `auth` section, a clouds.yaml cloud name, or the `OS_*`
environment. keystoneauth's own retries stay off (status and connect retries 0): retries
are the provider's, with tenacity, so that each attempt is recorded and bounded.
"""

from __future__ import annotations

import logging
from typing import Any

from providers.openstack.config import OpenStackConfig

log = logging.getLogger(__name__)

APP_NAME = "cloud-lb"


def connect(config: OpenStackConfig) -> Any:
    """An `openstack.connection.Connection`; authentication happens on first use."""
    import openstack
    import openstack.config

    common: dict[str, Any] = {"app_name": APP_NAME, "interface": config.interface,
                              "status_code_retries": 0, "connect_retries": 0}
    if config.region:
        common["region_name"] = config.region
    if config.auth is not None:
        log.info("openstack connection source=auth-section auth_type=%s auth_url=%s",
                 config.auth.auth_type, config.auth.auth_url)
        region = openstack.config.get_cloud_region(
            auth=config.auth.sdk_auth(), auth_type=config.auth.auth_type,
            identity_api_version="3", load_yaml_config=False, load_envvars=False, **common)
        return openstack.connection.Connection(config=region)
    if config.cloud:
        files = [config.clouds_file] if config.clouds_file else None
        loader = openstack.config.OpenStackConfig(config_files=files, load_envvars=False)
        region = loader.get_one(cloud=config.cloud, **common)
        log.info("openstack connection source=clouds.yaml cloud=%s", config.cloud)
        return openstack.connection.Connection(config=region)
    log.info("openstack connection source=environment")
    loader = openstack.config.OpenStackConfig(load_yaml_config=False, load_envvars=True)
    return openstack.connection.Connection(config=loader.get_one(**common))
