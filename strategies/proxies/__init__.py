"""Zero-cost proxies (ALGORITHMS.md, "Zero-cost proxies"), their fast whole-space scoring and cache.

Importing this package is cheap; torch is imported by the measures themselves.
"""
from __future__ import annotations

from strategies.proxies.registry import ProxySpec, get_proxy, proxy, proxy_names

__all__ = ["ProxySpec", "get_proxy", "proxy", "proxy_names"]
