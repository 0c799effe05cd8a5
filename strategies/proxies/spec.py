"""The proxy table and its decorator: ``@proxy("name")`` on a function ``score(network, batch) -> float``.

Kept apart from :mod:`strategies.proxies.registry` (the lookups, which import the built-in
measures on first use) so that the measures can register themselves without an import cycle.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

ScoreFn = Callable[[Any, tuple[Any, Any]], float]


@dataclass(frozen=True)
class ProxySpec:
    name: str
    fn: ScoreFn
    needs_data: bool
    #: cells with one scoring key (ProxyIndex.scoring_key; NB201: dead edges pruned) score identically for this proxy
    pruned_invariant: bool
    description: str


PROXIES: dict[str, ProxySpec] = {}


def proxy(name: str, needs_data: bool = True, pruned_invariant: bool = True) -> Callable[[ScoreFn], ScoreFn]:
    def decorate(fn: ScoreFn) -> ScoreFn:
        if name in PROXIES and PROXIES[name].fn.__qualname__ != fn.__qualname__:
            raise ValueError(f"proxy {name!r} is already registered")
        doc = (fn.__doc__ or "").strip().splitlines()
        PROXIES[name] = ProxySpec(name, fn, needs_data, pruned_invariant, doc[0] if doc else "")
        return fn

    return decorate
