"""docs/configuration.md is generated from the models and must match them."""

from __future__ import annotations

from pathlib import Path

import pytest

from cloud_lb import config_docs

DOCS = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


@pytest.fixture(autouse=True)
def plugins() -> None:
    """The docs cover the providers really installed, not the test registry."""


def test_the_configuration_reference_is_up_to_date() -> None:
    problems = config_docs.check(DOCS.read_text(encoding="utf-8"))
    assert not problems, (
        f"{DOCS} is out of date ({'; '.join(problems)}): regenerate it with "
        "python -m cloud_lb.config_docs --write docs/configuration.md")


def test_the_reference_documents_every_core_key() -> None:
    text = config_docs.render_core()
    for key in ("`clusterName`", "`workers`", "`resyncPeriod`", "`loadBalancerClass`",
                "`qps`", "`backoffMax`", "`leaseDuration`", "`period`", "`addressType`"):
        assert key in text
    assert "| `workers` | integer | `4` |" in text
    assert "| `backoffBase` | duration | `5s` |" in text


def test_check_notices_a_stale_reference() -> None:
    stale = config_docs.render().replace("Services reconciled in parallel", "old words")
    assert config_docs.check(stale)
