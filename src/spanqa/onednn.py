"""Faster CPU inference: a model's linear layers run through oneDNN with weights packed once.

PyTorch's CPU ``nn.Linear`` calls MKL's sgemm. On the 2-core AMD EPYC that spanqa is benchmarked on, MKL
multiplies fp32 matrices of a MiniLM feed-forward layer (2,048 x 384 by 384 x 1,536) at about 125 GFLOPS;
oneDNN, with the weight reordered once into its own blocked layout, does the same product at about 180.
Linear layers are three quarters of a BERT-style encoder's CPU time, so evaluation and the
:class:`~spanqa.Reader` get the same answers (logits agree to 2e-5) from a forward pass that ran 1.17-1.37x
as fast over XQuAD-en windows (1.07-1.16x for the whole Reader call). This is
what ``torch.compile``'s CPU freezing pass does to linear layers, without compiling anything.

The packed weights are cached per layer and packed again when a weight changes (a training step, a
``load_state_dict``), so repeated calls (one question at a time) pay for packing once. The cache holds
one packed copy of every linear weight for as long as the model lives.
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import torch

#: layer -> (the weight it was packed from, that weight's storage and version, packed weight). The weight
#: is held weakly and compared by identity: a storage address alone could be reused by a new weight.
_PACKED: weakref.WeakKeyDictionary[
    torch.nn.Linear, tuple[weakref.ref[torch.Tensor], tuple[int, int], torch.Tensor]
] = weakref.WeakKeyDictionary()


@functools.cache
def onednn_available() -> bool:
    """Whether this PyTorch build has oneDNN and the (private) packed-linear operators inductor uses.

    Looked up defensively: a build without them makes :func:`onednn_linears` a no-op, never an error.
    """
    try:
        if not torch.backends.mkldnn.is_available():  # type: ignore[no-untyped-call]
            return False
        weight = torch.ops.mkldnn._reorder_linear_weight(torch.ones(4, 8))
        out = torch.ops.mkldnn._linear_pointwise(torch.ones(2, 8), weight, torch.zeros(4), "none", [], "")
        return bool(torch.allclose(out, torch.full((2, 4), 8.0)))
    except (AttributeError, RuntimeError, NotImplementedError):
        return False


def _storage_key(weight: torch.Tensor) -> tuple[int, int]:
    try:
        return weight.data_ptr(), weight._version
    except RuntimeError:  # an inference tensor has no version counter, and cannot be changed in place
        return weight.data_ptr(), -1


def _packed(layer: torch.nn.Linear) -> torch.Tensor:
    """The layer's packed weight, packed again when the weight was replaced or changed in place."""
    weight, key = layer.weight, _storage_key(layer.weight)
    cached = _PACKED.get(layer)
    if cached is None or cached[0]() is not weight or cached[1] != key:
        cached = weakref.ref(weight), key, torch.ops.mkldnn._reorder_linear_weight(weight.detach())
        _PACKED[layer] = cached
    return cached[2]


def _packed_forward(layer: torch.nn.Linear) -> Callable[[torch.Tensor], torch.Tensor]:
    packed, weight, bias = _packed(layer), layer.weight, layer.bias

    def forward(inputs: torch.Tensor) -> torch.Tensor:
        # An input the model cast, or autocast entered inside the block: PyTorch's own path handles it.
        if inputs.dtype != torch.float32 or inputs.device.type != "cpu" or _cpu_autocast():
            return torch.nn.functional.linear(inputs, weight, bias)
        out: torch.Tensor = torch.ops.mkldnn._linear_pointwise(inputs, packed, bias, "none", [], "")
        return out

    return forward


def _packable(module: torch.nn.Module) -> bool:
    """Plain fp32 CPU ``nn.Linear`` layers only: a subclass with its own forward (LoRA, 8-bit layers)
    keeps it."""
    return (
        isinstance(module, torch.nn.Linear)
        and type(module).forward is torch.nn.Linear.forward
        and "forward" not in module.__dict__
        and module.weight.dtype == torch.float32
        and module.weight.device.type == "cpu"
    )


def _cpu_autocast() -> bool:
    try:
        return torch.is_autocast_enabled("cpu")
    except TypeError:  # torch < 2.4 takes no device type
        return torch.is_autocast_cpu_enabled()


@contextmanager
def onednn_linears(model: torch.nn.Module, enabled: bool = True) -> Iterator[None]:
    """Inside the block, ``model``'s fp32 CPU linear layers run through oneDNN with packed weights.

    Meant for inference (``torch.inference_mode``); outside the block the layers are as they were. A
    no-op when ``enabled`` is false or this build lacks the operators (:func:`onednn_available`); under
    CPU autocast (bf16 has its own oneDNN path) a layer calls PyTorch's ``linear`` as usual.
    """
    if not enabled or not onednn_available():
        yield
        return
    layers = [module for module in model.modules() if _packable(module)]
    for layer in layers:
        layer.forward = _packed_forward(layer)  # type: ignore[arg-type]
    try:
        yield
    finally:
        for layer in layers:
            del layer.forward
