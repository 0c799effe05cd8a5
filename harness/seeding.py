"""Per-run seeds derived from the run's key, never from global state.

The key is everything that defines a run except the experiment's name (so the same run in two
experiments gives the same result). Its canonical JSON is hashed with SHA-256 and the words
feed ``numpy.random.SeedSequence`` together with the user's seed; NumPy generators and (later)
torch generators are spawned from that sequence.
"""
from __future__ import annotations

import hashlib
import json
from typing import Any, Mapping

import numpy as np


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def key_digest(key: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical_json(dict(key)).encode()).hexdigest()


def seed_sequence(key: Mapping[str, Any], seed: int) -> np.random.SeedSequence:
    digest = bytes.fromhex(key_digest(key))
    words = [int.from_bytes(digest[i : i + 4], "little") for i in range(0, 16, 4)]
    return np.random.SeedSequence([int(seed), *words])


def numpy_rng(key: Mapping[str, Any], seed: int) -> np.random.Generator:
    return np.random.default_rng(seed_sequence(key, seed))
