"""The five NB201 ops as the search cells compute them, one op at a time.

Shared by the plain search cell (:class:`spaces.nb201.supernet.SearchCell`, with conv biases)
and the partial-channel cell of progressive DrNAS (without them): ReLU-conv-BN with BN on
batch statistics and no affine parameters, a 3x3 average pool that ignores the padding, skip,
and ``none`` as zeros that keep the graph connected.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from spaces.nb201.codec import N_OPS

NONE, SKIP, CONV1, CONV3, POOL = range(N_OPS)


def op_output(op: int, x: torch.Tensor, w1: torch.Tensor, w3: torch.Tensor, b1: torch.Tensor | None = None,
              b3: torch.Tensor | None = None) -> torch.Tensor:
    """Op ``op`` on ``x`` with this edge's 1x1 / 3x3 kernels (and conv biases, if any)."""
    if op == NONE:
        return x.mul(0.0)
    if op == SKIP:
        return x
    if op == POOL:
        return F.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False)
    if op == CONV1:
        y = F.conv2d(F.relu(x), w1, b1)
    else:
        y = F.conv2d(F.relu(x), w3, b3, padding=1)
    return F.batch_norm(y, None, None, training=True)
