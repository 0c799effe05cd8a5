"""Registry of zero-cost proxies: ``@proxy("name")`` on a function ``score(network, batch) -> float``.

Adding a proxy is one decorated function. Every proxy follows one sign convention: **higher
is better** (the score is stated as the quantity the zero-cost paper ranks by, e.g. grasp is
``sum(-w * Hg)``, jacob_cov is minus the eigenvalue penalty); nothing is wrapped in ``abs()``.
"""
from __future__ import annotations

from strategies.proxies.spec import PROXIES, ProxySpec, ScoreFn, proxy

__all__ = ["ProxySpec", "ScoreFn", "get_proxy", "proxy", "proxy_names"]


def get_proxy(name: str) -> ProxySpec:
    import strategies.proxies.measures  # noqa: F401  (registers the built-in proxies)

    try:
        return PROXIES[name]
    except KeyError:
        raise KeyError(f"unknown proxy {name!r}; registered proxies: {proxy_names()}") from None


def proxy_names() -> list[str]:
    import strategies.proxies.measures  # noqa: F401

    return sorted(PROXIES)
