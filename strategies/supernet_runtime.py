"""The one-shot loop's supernet on its device: the module the passes call and the weight optimizer.

A component with its own state, not methods of the strategies' base class. It owns:

* the supernet, moved to the device;
* :attr:`SupernetRuntime.net`, what the training passes call: the supernet itself, or on a GPU
  its CUDA-graph replays (:mod:`strategies.cuda_graphs`) where the space provides
  :class:`spaces.capabilities.CudaGraphCapture`;
* the weights' SGD (Nesterov momentum per the strategy's protocol), rebuilt when the supernet's
  tensors change (progressive DrNAS), keeping the momentum of the tensors that survived;
* what the record's provenance says about the device (GPU name, graphs, compiled cells).
"""
from __future__ import annotations

from typing import Any

from spaces.base import CudaGraphCapture


class SupernetRuntime:
    """``supernet`` on ``device`` for ``space`` under the loop's ``settings``."""

    def __init__(self, supernet: Any, space: Any, settings: Any, device: Any) -> None:
        from strategies.cuda_graphs import compile_requested, graphs_enabled

        self.settings, self.device = settings, device
        self.supernet = supernet.to(device)
        self.capture = space.capability(CudaGraphCapture)
        self.compiled_cells = graphs_enabled(device) and compile_requested() and self.capture is not None
        self.wrap()
        self.w_opt = self._new_weight_optimizer()

    def wrap(self) -> None:
        """(Re)build :attr:`net`: the supernet, or its CUDA-graph replays on a GPU."""
        from strategies.cuda_graphs import GraphedSupernet, graphs_enabled

        graphed = graphs_enabled(self.device) and self.capture is not None
        self.net = GraphedSupernet(self.supernet, self.capture.compiled_cells if self.compiled_cells else None) \
            if graphed else self.supernet
        self.cuda_graphs = self.net is not self.supernet

    def _new_weight_optimizer(self) -> Any:
        import torch

        s = self.settings
        return torch.optim.SGD(self.supernet.parameters(), lr=s.w_lr, momentum=s.w_momentum,
                               nesterov=s.nesterov and s.w_momentum > 0, weight_decay=s.w_weight_decay)

    def rebuild_weight_optimizer(self, old_params: list[Any]) -> None:
        """After the supernet's parameter tensors changed (progressive widening): a new SGD with
        the same settings; tensors that survived keep their momentum. The graphs are re-captured."""
        old_state = self.w_opt.state
        self.w_opt = self._new_weight_optimizer()
        survivors = {id(p) for p in old_params}
        for p in self.supernet.parameters():
            if id(p) in survivors and p in old_state:
                self.w_opt.state[p] = old_state[p]
        self.wrap()

    def arch_forward(self, x: Any, weights: Any, chosen: list[int] | None) -> Any:
        """A supernet pass differentiated w.r.t. the edge weights only: on a GPU its graphed
        backward skips the weight gradients, as eager autograd does when they are not asked for."""
        if self.cuda_graphs:
            return self.net(x, weights, chosen, param_grads=False)
        return self.net(x, weights, chosen)

    def provenance(self) -> dict[str, Any]:
        """What the record says about where the search ran."""
        import torch

        info: dict[str, Any] = {"device": str(self.device)}
        if self.device.type == "cuda":
            info.update(gpu=torch.cuda.get_device_name(self.device), cuda_graphs=self.cuda_graphs,
                        compiled_cells=self.compiled_cells, torch=torch.__version__,
                        tf32_convolutions=bool(torch.backends.cudnn.allow_tf32))
        return info


def resolve_device(name: str) -> Any:
    """``auto``: CUDA when available, else CPU; ``cpu`` / ``cuda`` / ``cuda:N`` as given."""
    import torch

    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device {name!r} requested but CUDA is not available here; use device = 'auto' or 'cpu'")
    return torch.device(name)
