"""Reading a /metrics page back as numbers: prometheus-client's own text parser, and
lookups by family and labels."""

from __future__ import annotations

import urllib.error
import urllib.request
from dataclasses import dataclass

from prometheus_client.parser import text_string_to_metric_families


@dataclass(frozen=True)
class Sample:
    name: str
    labels: dict[str, str]
    value: float


class Scrape:
    def __init__(self, text: str) -> None:
        self.text = text
        self.samples: list[Sample] = []
        self.types: dict[str, str] = {}
        for family in text_string_to_metric_families(text):
            self.types[family.name] = family.type
            for s in family.samples:
                self.samples.append(Sample(s.name, dict(s.labels), float(s.value)))

    def matching(self, name: str, **labels: str) -> list[Sample]:
        return [s for s in self.samples
                if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())]

    def value(self, name: str, **labels: str) -> float:
        """The one sample of `name` with these labels (fails if none or several)."""
        found = self.matching(name, **labels)
        assert len(found) == 1, f"{len(found)} samples of {name}{labels}:\n{self.text}"
        return found[0].value

    def total(self, name: str, **labels: str) -> float:
        """Sum over every sample of `name` whose labels include these (0 when none)."""
        return sum(s.value for s in self.matching(name, **labels))


def http_get(url: str, *, accept: str | None = None, timeout: float = 5.0) -> tuple[int, str, str]:
    """(status, content type, body); error statuses are returned, not raised."""
    request = urllib.request.Request(url, headers={"Accept": accept} if accept else {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            return resp.status, resp.headers.get("Content-Type", ""), resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Content-Type", ""), exc.read().decode()


def scrape(base_url: str) -> Scrape:
    status, _, body = http_get(f"{base_url}/metrics")
    assert status == 200, f"/metrics answered {status}: {body}"
    return Scrape(body)
