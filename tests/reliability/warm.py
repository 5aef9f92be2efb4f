"""Imported by the fork server before it forks controllers: builds one client of each
heavy SDK so that the parsed API models (botocore's shared loader, the Compute
client's REST transport) are in memory before the fork and every controller process
starts in milliseconds instead of seconds. No network call is made."""

from __future__ import annotations

from providers.aws.clients import new_session

for _service in ("ec2", "elbv2"):
    new_session().client(_service, region_name="eu-west-3", endpoint_url="http://127.0.0.1:9",
                         aws_access_key_id="warm", aws_secret_access_key="warm-up-only")
