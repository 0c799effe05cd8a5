"""Registry of zero-cost proxies: ``@proxy("name")`` on a function ``score(network, batch) -> float``.

Adding a proxy is one decorated function. Every proxy follows one sign convention: **higher
is better** (the score is stated as the quantity the zero-cost paper ranks by, e.g. grasp is
``sum(-w * Hg)``, jacob_cov is minus the eigenvalue penalty); nothing is wrapped in ``abs()``.
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
    #: cells equal under :func:`spaces.nb201.canonical.pruned` score identically for this proxy
    pruned_invariant: bool
    description: str


_PROXIES: dict[str, ProxySpec] = {}


def proxy(name: str, needs_data: bool = True, pruned_invariant: bool = True) -> Callable[[ScoreFn], ScoreFn]:
    def decorate(fn: ScoreFn) -> ScoreFn:
        if name in _PROXIES and _PROXIES[name].fn.__qualname__ != fn.__qualname__:
            raise ValueError(f"proxy {name!r} is already registered")
        doc = (fn.__doc__ or "").strip().splitlines()
        _PROXIES[name] = ProxySpec(name, fn, needs_data, pruned_invariant, doc[0] if doc else "")
        return fn

    return decorate


def get_proxy(name: str) -> ProxySpec:
    import strategies.proxies.measures  # noqa: F401  (registers the built-in proxies)

    try:
        return _PROXIES[name]
    except KeyError:
        raise KeyError(f"unknown proxy {name!r}; registered proxies: {proxy_names()}") from None


def proxy_names() -> list[str]:
    import strategies.proxies.measures  # noqa: F401

    return sorted(_PROXIES)
