"""Process measurements from the standard library: RSS now and at peak, CPU seconds,
and a deep size of object graphs (to tell which part of the heap costs).

Peak RSS is the kernel's high-water mark, so a short spike between two samples is never
missed: `VmHWM` of /proc/self/status on Linux. Not `ru_maxrss`: on Linux that survives
`execve` and so includes the forked copy of the parent that a spawned child was before
it exec'd (measured: a controller process showed the driver's 190-250 MB as its own
"peak" before doing anything). Elsewhere `ru_maxrss` is the fallback, with that caveat.
RSS now comes from /proc/self/statm where it exists.
"""

from __future__ import annotations

import os
import resource
import sys
from collections.abc import Iterable
from typing import Any

MB = 1024 * 1024


def peak_rss_bytes() -> int:
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024  # kB
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def rss_bytes() -> int:
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return peak_rss_bytes()


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def deep_size(roots: Iterable[Any], seen: set[int] | None = None) -> int:
    """Bytes reachable from `roots` through containers, instance dicts and slots, each
    object counted once (pass the same `seen` to several calls to attribute shared
    objects to the first owner only). Classes, modules and functions are not followed."""
    seen = set() if seen is None else seen
    total = 0
    stack = list(roots)
    while stack:
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, type | type(os) | type(deep_size)):
            continue
        seen.add(id(obj))
        total += sys.getsizeof(obj)
        if isinstance(obj, dict):
            stack.extend(obj.keys())
            stack.extend(obj.values())
        elif isinstance(obj, list | tuple | set | frozenset):
            stack.extend(obj)
        elif isinstance(obj, str | bytes | int | float | bool) or obj is None:
            continue
        else:
            if hasattr(obj, "__dict__"):
                stack.append(vars(obj))
            for slot in getattr(type(obj), "__slots__", ()):
                if hasattr(obj, slot):
                    stack.append(getattr(obj, slot))
    return total
