"""Secrets from the config file never print: not in repr, str, dumps, summaries, errors,
nor in log lines that would happen to contain them."""

from __future__ import annotations

import logging

import pytest

from cloud_lb.config import ConfigError, dump_yaml, parse_config
from cloud_lb.logs import redact

from .conftest import SECRET

TEXT = f"""
clusterName: c
provider: vault
vault:
  authUrl: https://identity.example/v3
  password: {SECRET}
"""


def test_the_secret_is_usable_but_never_shown() -> None:
    config = parse_config(TEXT)
    assert config.provider_settings().password.get_secret_value() == SECRET
    for shown in (repr(config), str(config), dump_yaml(config), str(config.to_dict()),
                  repr(config.provider_settings()), config.model_dump_json()):
        assert SECRET not in shown
    assert "**********" in dump_yaml(config)


@pytest.mark.parametrize("text", [
    # the secret sits next to an invalid field, or is itself of the wrong type
    TEXT + "  retry: {attempts: 0}\n",
    TEXT.replace(f"password: {SECRET}", f"password: [{SECRET}]"),
    TEXT.replace(f"password: {SECRET}", f"pasword: {SECRET}"),
    # broken YAML right after the secret: the error names the line, not the text
    TEXT + "  bad: [\n",
])
def test_errors_never_echo_the_secret(text: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(text)
    assert info.value.problems
    assert SECRET not in str(info.value) and SECRET not in repr(info.value)


def test_parsed_secrets_are_masked_in_log_lines(caplog: pytest.LogCaptureFixture) -> None:
    parse_config(TEXT)
    # an SDK's exception text that quotes the password, as it would end up in a log line
    assert redact(f"auth failed for password={SECRET}") == "auth failed for password=***"
    logging.getLogger("test").info("noise")
