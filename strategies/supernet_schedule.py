"""How a search's supernet is built and whether it changes during the search.

The default, :class:`SupernetSchedule`, builds the space's supernet
(:meth:`spaces.base.SearchSpace.make_supernet`) and leaves it as built. A method whose supernet
changes shape between stages (progressive DrNAS: partial channels, pruned and widened;
:class:`strategies.drnas.ProgressiveChannels`) subclasses it. A schedule holds no per-search
state: what changes lives on the member's supernet and distribution, so one schedule serves
every member of a batch and a checkpoint restores it.
"""
from __future__ import annotations

from typing import Any

from strategies.loop_context import LoopContext


class SupernetSchedule:
    """Build the space's supernet; nothing changes afterwards."""

    def build(self, space: Any, settings: Any, num_classes: int, generator: Any) -> Any:
        """The supernet, initialised from ``generator`` (the member's ``supernet_init`` stream)."""
        return space.make_supernet(num_classes, settings.channels, settings.cells_per_stage, settings.impl, generator)

    def after_setup(self, member: Any) -> None:
        """Once the member's distribution exists (a schedule may prune by its initial values)."""

    def begin_epoch(self, member: Any, ctx: LoopContext) -> None:
        """Before the epoch's steps (a stage change happens here)."""

    def before_restore(self, member: Any, state: dict[str, Any]) -> None:
        """Called with a checkpoint's state before it is loaded: a schedule whose supernet changed
        shape rebuilds it here so the saved tensors fit."""
