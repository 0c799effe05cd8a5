"""The bottom layer: contract types every other package may depend on, depending on none.

``Problem``, ``SearchLog``, ``Budget`` and the oracle protocol (:mod:`nas_core.problem`),
typed splits (:mod:`nas_core.splits`), data-directory resolution (:mod:`nas_core.paths`) and
per-purpose random streams (:mod:`nas_core.streams`). Imports point one way:
``harness`` -> ``strategies`` / ``reports`` -> ``spaces`` -> ``nas_core``; nothing here
imports another package of this project (``tests/test_layers.py`` checks it).
"""
