"""Read an ALB's listeners, rules and certificates into `alb_state` values. Reads only.

Calls for an existing ALB with HTTP and HTTPS listeners: DescribeListeners, one
DescribeRules per listener, one DescribeListenerCertificates per HTTPS listener, and one
GetResources (Resource Groups Tagging API) for the ACM certificates tagged as the
Ingress's: ACM itself cannot filter by tag, so without it finding our certificates would
cost a ListTagsForCertificate per certificate in the account.

Actions are read into the desired shape: a forward to one of our target groups names the
group (anything else keeps its ARN and so never equals a desired action), and redirect
fields AWS leaves out read as AWS's defaults.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cloud_lb.model import LBRef
from providers.aws.alb_state import (
    FIXED_RESPONSE,
    FORWARD,
    REDIRECT,
    Action,
    Condition,
    ListenerRule,
    ObservedALBListener,
    ObservedCertificate,
    ObservedRule,
)
from providers.aws.clients import AWSClients
from providers.aws.naming import (
    CERT_FINGERPRINT_TAG,
    CERT_SECRET_TAG,
    OWNED,
    UID_TAG,
    cluster_tag,
    is_owned,
    tags_dict,
)

CERTIFICATE_TYPE = "acm:certificate"
_CONFIG_KEY = {"host-header": "HostHeaderConfig", "path-pattern": "PathPatternConfig"}


class ALBObserver:
    def __init__(self, clients: AWSClients) -> None:
        self._aws = clients

    def listeners(
        self, lb_arn: str, tg_names: Mapping[str, str]
    ) -> tuple[ObservedALBListener, ...]:
        """The ALB's listeners with their rules and certificates; `tg_names` maps our
        target groups' ARNs to names."""
        out: list[ObservedALBListener] = []
        for li in self._aws.pages(
            "elbv2", "describe_listeners", "Listeners", LoadBalancerArn=lb_arn
        ):
            arn = li["ListenerArn"]
            rules = tuple(
                ObservedRule(
                    arn=raw["RuleArn"],
                    rule=ListenerRule(
                        priority=int(raw["Priority"]),
                        conditions=_conditions(raw.get("Conditions", [])),
                        action=action_of(raw.get("Actions", []), tg_names),
                    ),
                )
                for raw in self._aws.pages("elbv2", "describe_rules", "Rules", ListenerArn=arn)
                if not raw.get("IsDefault") and str(raw.get("Priority")).isdigit()
            )
            default_cert = ""
            extras: frozenset[str] = frozenset()
            if li["Protocol"] == "HTTPS":
                default_cert = next((c["CertificateArn"] for c in li.get("Certificates", [])), "")
                extras = self.extra_certificates(arn)
            out.append(
                ObservedALBListener(
                    arn=arn,
                    port=int(li["Port"]),
                    protocol=li["Protocol"],
                    default_action=action_of(li.get("DefaultActions", []), tg_names),
                    rules=rules,
                    default_certificate=default_cert,
                    extra_certificates=extras,
                    ssl_policy=li.get("SslPolicy") if li["Protocol"] == "HTTPS" else None,
                )
            )
        return tuple(out)

    def extra_certificates(self, listener_arn: str) -> frozenset[str]:
        """The listener's certificates besides its default (picked by SNI)."""
        certs = self._aws.pages(
            "elbv2", "describe_listener_certificates", "Certificates", ListenerArn=listener_arn
        )
        return frozenset(c["CertificateArn"] for c in certs if not c.get("IsDefault"))

    def certificates(self, ref: LBRef) -> tuple[ObservedCertificate, ...]:
        """The ACM certificates tagged as `ref`'s (imported by us), by ARN."""
        found = self._aws.pages(
            "tagging",
            "get_resources",
            "ResourceTagMappingList",
            ResourceTypeFilters=[CERTIFICATE_TYPE],
            TagFilters=[
                {"Key": cluster_tag(ref.cluster), "Values": [OWNED]},
                {"Key": UID_TAG, "Values": [ref.uid]},
            ],
        )
        out = []
        for item in found:
            tags = tags_dict(item.get("Tags"))
            if is_owned(tags, ref):  # the filter said so; the tags decide
                out.append(
                    ObservedCertificate(
                        arn=item["ResourceARN"],
                        secret=tags.get(CERT_SECRET_TAG, ""),
                        fingerprint=tags.get(CERT_FINGERPRINT_TAG, ""),
                    )
                )
        return tuple(sorted(out, key=lambda c: c.arn))

    def cluster_certificates(self, cluster: str) -> list[dict[str, str]]:
        """The tags of every ACM certificate tagged as this cluster's."""
        found = self._aws.pages(
            "tagging",
            "get_resources",
            "ResourceTagMappingList",
            ResourceTypeFilters=[CERTIFICATE_TYPE],
            TagFilters=[{"Key": cluster_tag(cluster), "Values": [OWNED]}],
        )
        return [tags_dict(item.get("Tags")) for item in found]


def action_of(actions: list[dict[str, Any]], tg_names: Mapping[str, str]) -> Action:
    if len(actions) != 1:
        # several (an authenticate step added by hand) or none: never one of ours
        return Action("+".join(sorted(a.get("Type", "?") for a in actions)) or "none")
    raw = actions[0]
    kind = raw.get("Type", "")
    if kind == FORWARD:
        arn = raw.get("TargetGroupArn", "")
        if not arn:
            groups = raw.get("ForwardConfig", {}).get("TargetGroups", [])
            arn = groups[0]["TargetGroupArn"] if len(groups) == 1 else "weighted"
        return Action(FORWARD, target_group=tg_names.get(arn, arn))
    if kind == FIXED_RESPONSE:
        config = raw.get("FixedResponseConfig", {})
        return Action(
            FIXED_RESPONSE,
            status_code=str(config.get("StatusCode", "")),
            content_type=config.get("ContentType", ""),
            message=config.get("MessageBody", ""),
        )
    if kind == REDIRECT:
        config = raw.get("RedirectConfig", {})
        return Action(
            REDIRECT,
            status_code=config.get("StatusCode", ""),
            protocol=config.get("Protocol", "#{protocol}"),
            port=config.get("Port", "#{port}"),
            host=config.get("Host", "#{host}"),
            path=config.get("Path", "/#{path}"),
            query=config.get("Query", "#{query}"),
        )
    return Action(kind)


def _conditions(raw: list[dict[str, Any]]) -> tuple[Condition, ...]:
    out = []
    for cond in raw:
        field = cond.get("Field", "")
        values = cond.get(_CONFIG_KEY.get(field, ""), {}).get("Values") or cond.get("Values", [])
        out.append(Condition(field, tuple(sorted(values))))
    return tuple(sorted(out))
