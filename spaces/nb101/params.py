"""Trainable parameters of an NB101 cell's network, counted arithmetically (no framework needed).

The NB101 network (Ying et al., 2019, Sec. 2 and its reference code): a 3x3 conv stem of 128
channels with BN; three stacks of three cells, 128, 256 and 512 channels, a 2x2 max pool
between stacks; global average pooling and a dense layer of 10 outputs (with bias). Convs have
no bias; every BN has a scale and an offset (2 trainable numbers per channel). In a cell, the
output's channels are split evenly over the vertices that feed it (the remainder going to the
first ones), every other vertex takes the largest width among its successors; an interior
vertex fed by the cell input gets a 1x1 conv + BN projection of it; convolutional vertices
are conv + BN of their own width; a direct input->output edge adds a 1x1 projection to the
output width. The count is what NB101 stores as ``trainable_parameters``; it is used here to
check which op codes a third-party table means (see :mod:`spaces.nb101.table`).
"""
from __future__ import annotations

import numpy as np

from spaces.nb101.spec import CONV1X1, CONV3X3, ModelSpec

STEM, STACKS, CELLS_PER_STACK, CLASSES = 128, 3, 3, 10


def vertex_channels(in_channels: int, out_channels: int, matrix: np.ndarray) -> list[int]:
    n = matrix.shape[0]
    channels = [0] * n
    channels[0], channels[-1] = in_channels, out_channels
    if n == 2:
        return channels
    feeding = int(matrix[1:, -1].sum())  # interior vertices that feed the output
    share, extra = divmod(out_channels, feeding)
    for v in range(1, n - 1):
        if matrix[v, -1]:
            channels[v] = share + (1 if extra > 0 else 0)
            extra -= 1 if extra > 0 else 0
    for v in range(n - 3, 0, -1):
        if not matrix[v, -1]:
            for dst in range(v + 1, n - 1):
                if matrix[v, dst]:
                    channels[v] = max(channels[v], channels[dst])
    return channels


def _cell_params(spec: ModelSpec, in_channels: int, out_channels: int) -> int:
    matrix, ops = spec.pruned_matrix, spec.pruned_ops
    n = matrix.shape[0]
    widths = vertex_channels(in_channels, out_channels, matrix)
    total = 0
    for v in range(1, n - 1):
        if matrix[0, v]:
            total += in_channels * widths[v] + 2 * widths[v]  # 1x1 projection + BN
        kernel = {CONV3X3: 9, CONV1X1: 1}.get(ops[v], 0)
        if kernel:
            total += kernel * widths[v] * widths[v] + 2 * widths[v]
    if matrix[0, n - 1]:
        total += in_channels * out_channels + 2 * out_channels
    return total


def param_count(spec: ModelSpec) -> int:
    """NB101's ``trainable_parameters`` for the cell ``spec``."""
    total = 3 * 3 * 3 * STEM + 2 * STEM
    channels = STEM
    for stack in range(STACKS):
        out = STEM * 2 ** stack
        for _ in range(CELLS_PER_STACK):
            total += _cell_params(spec, channels, out)
            channels = out
    return total + channels * CLASSES + CLASSES
