"""The `aws` provider: one Network Load Balancer per LoadBalancer Service and one
Application Load Balancer per Ingress, on boto3.

Layout (one concept per module): `config` (the config section), `clients` (boto3 with
rate limits, retries and call recording), `annotations` (the Service annotations),
`naming` (names and ownership tags), `subnets` (subnet discovery), `render` (spec ->
desired objects), `observe` (AWS -> observed objects), `diff`, `apply`,
`security_groups` (rules), `placement` (IDs for user-given names), `surroundings` (the
reads both kinds share), `cleanup` (delete and list), `provider` (the contract),
`testing` (moto-backed targets for tests and demo). Ingress ALBs: `alb` (the verbs),
`alb_annotations`, `alb_state`, `alb_checks`, `alb_render`, `alb_observe`, `alb_diff`,
`alb_apply`, `certificates` (ACM).
Importing this package imports boto3: without the `[aws]` extra the registry reports
the provider as not installed.
"""

# No `from __future__ import annotations` here: it would bind the name `annotations`
# in this package and shadow the `providers.aws.annotations` submodule.
from cloud_lb.provider import ProviderContext, ProviderPlugin
from providers.aws.config import AWSConfig
from providers.aws.provider import AWSProvider


def _build(config: AWSConfig, context: ProviderContext) -> AWSProvider:
    return AWSProvider(config, context)


PLUGIN = ProviderPlugin(
    name="aws",
    config_model=AWSConfig,
    factory=_build,
    description="AWS Network Load Balancers for Services, Application Load Balancers for "
    "Ingresses (ELBv2, ACM), via boto3",
)

__all__ = ["PLUGIN", "AWSConfig", "AWSProvider"]
