"""The Kubernetes permissions `cloud-lb run` needs, derived from its code.

1. The modules `cloud-lb run` can execute: the import closure of
   `cloud_lb.commands.run` inside `cloud_lb` (imports inside functions included;
   `cloud_lb.testing` excluded: fakes never run in a cluster). Provider plugins are not
   followed: they talk to clouds, never to Kubernetes.
2. In those modules, every Kubernetes call:
   - a method of the official client's API classes named anywhere
     (`CoordinationV1Api(...).read_namespaced_lease`);
   - a `KubeAPI` method, called or passed on (`api.patch_service(...)`,
     `patch=api.patch_ingress`), standing for the client methods that method's body
     names in cloud_lb/kube/client.py;
   - a `Resource` constant (`SERVICES`, ...) handed to `Informer(...)`: its lister,
     listed and watched; named anywhere else: listed.
3. Each client method's verb, API group and resource, read from the client's own
   source: the URL template and HTTP method its `*_with_http_info` passes to
   `call_api` (`'/api/v1/namespaces/{namespace}/services/{name}/status', 'PATCH'` is
   patch on services/status in the core group).

What comes out is a set of (apiGroup, resource, verb) with the call sites that need
each, so a failing comparison says where a permission comes from. A feature that does
not run in a deployment (Ingress support with a provider without L7) is left out by
its module prefix (`INGRESS_FEATURE`): the import closure does not follow it.
"""

from __future__ import annotations

import ast
import functools
import inspect
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import kubernetes.client as k8s

import cloud_lb

ROOT_MODULE = "cloud_lb.commands.run"
CLIENT_MODULE = "cloud_lb.kube.client"
EXCLUDED = ("cloud_lb.testing",)
SOURCE_ROOT = Path(cloud_lb.__file__).parent.parent
# built by the controller only when the provider has L7 load balancers
INGRESS_FEATURE = ("cloud_lb.controller.ingress", "cloud_lb.controller.references")

Permission = tuple[str, str, str]  # (apiGroup, resource[/subresource], verb)


@dataclass(frozen=True)
class Endpoint:
    group: str
    resource: str
    named: bool  # the URL ends at one object ({name})
    http_method: str

    def verb(self) -> str:
        if self.http_method == "GET":
            return "get" if self.named else "list"
        return {"POST": "create", "PUT": "update", "PATCH": "patch",
                "DELETE": "delete" if self.named else "deletecollection"}[self.http_method]


def _api_classes() -> list[type]:
    return [cls for name, cls in vars(k8s).items()
            if name.endswith("Api") and inspect.isclass(cls) and name != "ApiClient"]


_CALL_API = re.compile(r"call_api\(\s*'([^']+)',\s*'([A-Z]+)'")


_DEF = re.compile(r"def (\w+)_with_http_info\(")


@functools.cache  # ~1,400 methods: each API module's source is read once per process
def client_methods() -> dict[str, dict[str, Endpoint]]:
    """Every API method of the official client: its endpoint per API class (a name
    like create_namespaced_event is in CoreV1Api and in EventsV1Api)."""
    out: dict[str, dict[str, Endpoint]] = defaultdict(dict)
    for cls in _api_classes():
        source = Path(inspect.getsourcefile(cls) or "").read_text()
        for match in _DEF.finditer(source):
            call = _CALL_API.search(source, match.end())
            if call is None:
                continue
            endpoint = endpoint_of(*call.groups())
            if endpoint is not None:
                out[match.group(1)][cls.__name__] = endpoint
    return dict(out)


def endpoint_of(path: str, http_method: str) -> Endpoint | None:
    """None for non-resource URLs (discovery, /version, /logs)."""
    parts = [p for p in path.split("/") if p]
    if parts[0] == "api" and len(parts) >= 3:
        group, rest = "", parts[2:]
    elif parts[0] == "apis" and len(parts) >= 4:
        group, rest = parts[1], parts[3:]
    else:
        return None
    if len(rest) >= 2 and rest[0] == "namespaces" and rest[1] == "{namespace}":
        rest = rest[2:]
    # rest: resource [, {name} [, subresource]]
    resource = rest[0]
    named = len(rest) >= 2 and rest[1] == "{name}"
    if len(rest) >= 3:
        resource = f"{resource}/{rest[2]}"
    return Endpoint(group, resource, named, http_method)


def module_file(name: str) -> Path | None:
    """The source of module `name` (None: not a module, e.g. a class imported by name).
    Found on disk, not imported, so nothing runs."""
    base = SOURCE_ROOT.joinpath(*name.split("."))
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


def import_closure(root: str = ROOT_MODULE, *, without: tuple[str, ...] = ()
                   ) -> dict[str, ast.Module]:
    """Module name -> parsed source, for every cloud_lb module `root` may import;
    modules starting with a prefix in `without` are left out, and not followed."""
    seen: dict[str, ast.Module] = {}
    todo = [root]
    while todo:
        name = todo.pop()
        if name in seen or not name.startswith("cloud_lb") or name.startswith(EXCLUDED + without):
            continue
        path = module_file(name)
        if path is None:
            continue
        tree = ast.parse(path.read_text(), filename=str(path))
        seen[name] = tree
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                todo.extend(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                    base = f"{anchor}.{base}" if base else anchor
                todo.append(base)
                # `from cloud_lb.kube import writers` imports a module
                todo.extend(f"{base}.{alias.name}" for alias in node.names)
    return seen


Known = dict[str, dict[str, Endpoint]]


class Resolver:
    """Which API class a `receiver.method` reference calls: `k8s.CoreV1Api(c).m`, or
    `self.x.m` where the module assigns `self.x = k8s.SomeApi(...)`."""

    def __init__(self, tree: ast.Module, known: Known) -> None:
        self.known = known
        self.fields: dict[str, str] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and (cls := _api_class_of(node.value)):
                for target in node.targets:
                    if isinstance(target, ast.Attribute):
                        self.fields[target.attr] = cls

    def endpoint(self, node: ast.Attribute, where: str) -> Endpoint:
        by_class = self.known[node.attr]
        cls = _api_class_of(node.value)
        if cls is None and isinstance(node.value, ast.Attribute):
            cls = self.fields.get(node.value.attr)
        if cls in by_class:
            return by_class[cls]  # type: ignore[index]
        if len(set(by_class.values())) == 1:
            return next(iter(by_class.values()))
        raise ValueError(f"{where}: cannot tell which of {sorted(by_class)} .{node.attr} calls")


def _api_class_of(node: ast.AST) -> str | None:
    if isinstance(node, ast.Call):
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if name.endswith("Api") and name != "ApiClient":
            return name
    return None


@dataclass
class KubeAPIShape:
    """What client.py defines: KubeAPI methods and Resource constants, each with the
    endpoints of the official client methods its body names."""

    methods: dict[str, list[tuple[str, Endpoint]]]
    resources: dict[str, list[tuple[str, Endpoint]]]


def kube_api_shape(tree: ast.Module, known: Known) -> KubeAPIShape:
    resolver = Resolver(tree, known)
    methods: dict[str, list[tuple[str, Endpoint]]] = {}
    resources: dict[str, list[tuple[str, Endpoint]]] = {}

    def named(node: ast.AST) -> list[tuple[str, Endpoint]]:
        return [(n.attr, resolver.endpoint(n, f"{CLIENT_MODULE}:{n.lineno}"))
                for n in ast.walk(node) if isinstance(n, ast.Attribute) and n.attr in known]

    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == "KubeAPI":
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and not item.name.startswith("_"):
                    methods[item.name] = named(item)
        elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) \
                and getattr(node.value.func, "id", None) == "Resource":
            for target in node.targets:
                if isinstance(target, ast.Name):
                    resources[target.id] = named(node.value)
    return KubeAPIShape(methods, resources)


@functools.cache
def needed_permissions(*, without: tuple[str, ...] = ()) -> dict[Permission, frozenset[str]]:
    """(group, resource, verb) -> the call sites ("module:line what") needing it.
    `without`: module prefixes of features that do not run (their calls do not count)."""
    known = client_methods()
    modules = import_closure(without=without)
    shape = kube_api_shape(modules[CLIENT_MODULE], known)
    needs: dict[Permission, set[str]] = defaultdict(set)

    def need(ep: Endpoint, where: str, *, verb: str | None = None) -> None:
        needs[(ep.group, ep.resource, verb or ep.verb())].add(where)

    for name, tree in modules.items():
        if name == CLIENT_MODULE:
            continue  # its bodies count only through their callers, below
        resolver = Resolver(tree, known)
        informed = _informer_resources(tree)
        for node in ast.walk(tree):
            where = f"{name}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.Attribute) and node.attr in known:
                need(resolver.endpoint(node, where), f"{where} {node.attr}")
            elif isinstance(node, ast.Attribute) and node.attr in shape.methods:
                # called, or handed on as a function (`patch=api.patch_ingress`)
                for method, ep in shape.methods[node.attr]:
                    need(ep, f"{where} KubeAPI.{node.attr} -> {method}")
            elif isinstance(node, ast.Name) and node.id in shape.resources:
                for method, ep in shape.resources[node.id]:
                    need(ep, f"{where} {node.id} -> {method}")
                    if node.id in informed:
                        need(ep, f"{where} Informer({node.id})", verb="watch")
    return {p: frozenset(w) for p, w in needs.items()}


def _informer_resources(tree: ast.Module) -> set[str]:
    return {arg.id for node in ast.walk(tree)
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Informer"
            for arg in node.args if isinstance(arg, ast.Name)}
