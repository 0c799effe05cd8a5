"""One random generator per purpose, derived from (run seed, purpose, epoch).

A one-shot search draws randomness for several unrelated things: the data split, the
supernet's initial weights, the architecture parameters' initial values, the batches, the
architecture noise (Gumbel, Gaussian, Dirichlet samples) and the Hessian probe. If they
shared one generator, adding a draw for one purpose would shift every later draw of the
others, and a resumed run would have to replay the exact sequence. Instead each purpose is
named, the name is hashed (a stable CRC32, not Python's salted ``hash``) into an entropy word
of ``numpy.random.SeedSequence([run seed, purpose word, epoch])``, and nothing reads torch's
global RNG. Adding a purpose therefore changes no other stream, and an epoch's stream is
known without replaying earlier epochs.
"""
from __future__ import annotations

import zlib
from typing import Any

import numpy as np

def purpose_word(purpose: str) -> int:
    """A stable 32-bit word for ``purpose`` (the same in every process and Python version)."""
    if not isinstance(purpose, str) or not purpose:
        raise ValueError(f"a random-stream purpose must be a non-empty string, got {purpose!r}")
    return zlib.crc32(purpose.encode("utf-8"))


class Streams:
    """Per-purpose seeds and generators of one run.

    ``seed(purpose, epoch)`` is a 63-bit integer; ``torch_generator`` and ``numpy`` return fresh
    generators seeded from it, so two calls with the same arguments give the same stream.
    """

    def __init__(self, run_seed: int) -> None:
        if not isinstance(run_seed, (int, np.integer)) or run_seed < 0:
            raise ValueError(f"run seed must be a non-negative integer, got {run_seed!r}")
        self.run_seed = int(run_seed)

    def seed(self, purpose: str, epoch: int | None = None) -> int:
        entropy = [self.run_seed, purpose_word(purpose)] + ([] if epoch is None else [int(epoch) + 1])
        state = np.random.SeedSequence(entropy).generate_state(2, dtype=np.uint32)
        return int((int(state[0]) << 31) ^ int(state[1])) & ((1 << 63) - 1)

    def torch_generator(self, purpose: str, epoch: int | None = None) -> Any:
        """A CPU ``torch.Generator`` for ``purpose`` (draw on CPU, then move: same values on any device)."""
        import torch

        return torch.Generator().manual_seed(self.seed(purpose, epoch))

    def numpy(self, purpose: str, epoch: int | None = None) -> np.random.Generator:
        return np.random.default_rng(self.seed(purpose, epoch))
