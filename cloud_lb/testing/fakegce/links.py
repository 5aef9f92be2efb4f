"""Resource links and names, as GCE spells them.

Every resource has a `selfLink` `https://www.googleapis.com/compute/v1/projects/<p>/<scope>/<collection>/<name>`
where `<scope>` is `global`, `regions/<r>` or `zones/<z>`. Real GCE writes that host into
links whatever endpoint was called, so the fake does too, and clients must compare
links by their relative part. References in request bodies may be full URLs or the
partial forms GCE accepts (`projects/p/regions/r/...`, `regions/r/...`, `global/...`);
the fake stores them as full URLs, as GCE does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cloud_lb.testing.fakegce.errors import GCEError, invalid_field

LINK_BASE = "https://www.googleapis.com/compute/v1/"
NAME_RE = re.compile(r"[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?")


def check_name(name: object, field: str = "resource.name") -> str:
    """GCE's RFC 1035 rule: `[a-z]([-a-z0-9]*[a-z0-9])?`, at most 63 characters."""
    if not isinstance(name, str) or not NAME_RE.fullmatch(name):
        raise invalid_field(
            field,
            f"'{name}'. Must be a match of regex '(?:[a-z](?:[-a-z0-9]{{0,61}}[a-z0-9])?)'",
        )
    return name


@dataclass(frozen=True)
class Scope:
    """Where a resource lives: `global`, `regions/<r>` or `zones/<z>` of one project."""

    project: str
    kind: str  # "global" | "regions" | "zones"
    location: str = ""  # region or zone name; "" for global

    @property
    def path(self) -> str:
        base = f"projects/{self.project}"
        return f"{base}/global" if self.kind == "global" else f"{base}/{self.kind}/{self.location}"

    @property
    def location_link(self) -> str | None:
        """The `region` / `zone` field value of resources in this scope."""
        if self.kind == "global":
            return None
        return f"{LINK_BASE}projects/{self.project}/{self.kind}/{self.location}"


@dataclass(frozen=True)
class Link:
    """A parsed resource link."""

    scope: Scope
    segment: str  # the URL collection segment, e.g. "forwardingRules"
    name: str

    @property
    def relative(self) -> str:
        return f"{self.scope.path}/{self.segment}/{self.name}"

    @property
    def url(self) -> str:
        return LINK_BASE + self.relative


_REF_RE = re.compile(
    r"^(?:projects/(?P<project>[^/]+)/)?"
    r"(?:(?P<global>global)|(?P<kind>regions|zones)/(?P<loc>[^/]+))/"
    r"(?P<segment>[A-Za-z]+)/(?P<name>[^/]+)$"
)


def parse_reference(value: object, *, field: str, default_project: str) -> Link:
    """Parse a reference given in a request body into a `Link`, or raise 400."""
    if not isinstance(value, str) or not value:
        raise invalid_field(field, f"'{value}'. Must be a resource URL")
    text = value
    marker = "/compute/v1/"
    if "://" in text:
        if marker not in text:
            raise invalid_field(field, f"'{value}'. Must be a Compute resource URL")
        text = text.split(marker, 1)[1]
    match = _REF_RE.match(text)
    if not match:
        raise invalid_field(field, f"'{value}'. Must be a Compute resource URL")
    project = match.group("project") or default_project
    if match.group("global"):
        scope = Scope(project, "global")
    else:
        scope = Scope(project, match.group("kind"), match.group("loc"))
    return Link(scope, match.group("segment"), match.group("name"))


def relative(url: str) -> str:
    """`projects/...` part of a link, whatever host it names."""
    marker = "/compute/v1/"
    return url.split(marker, 1)[1] if marker in url else url


def raise_unless(condition: bool, error: GCEError) -> None:
    if not condition:
        raise error
