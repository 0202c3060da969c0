"""oneDNN packed linear layers: same outputs as PyTorch's, layers restored, repacked when weights change."""

from __future__ import annotations

import pytest
import torch

from spanqa.onednn import onednn_available, onednn_linears

pytestmark = pytest.mark.skipif(not onednn_available(), reason="this torch build has no oneDNN linear ops")


def _model() -> torch.nn.Sequential:
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(16, 32), torch.nn.GELU(), torch.nn.Linear(32, 3, bias=False))


def test_same_outputs_as_torch_and_layers_restored() -> None:
    model = _model().eval()
    inputs = torch.randn(2, 7, 16)
    with torch.inference_mode():
        expected = model(inputs)
        with onednn_linears(model):
            assert all("forward" in layer.__dict__ for layer in model if isinstance(layer, torch.nn.Linear))
            got = model(inputs)
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)
    assert not any("forward" in layer.__dict__ for layer in model)


def test_repacked_after_a_weight_changes() -> None:
    model = _model().eval()
    inputs = torch.randn(4, 16)
    with torch.inference_mode(), onednn_linears(model):
        model(inputs)  # packs and caches
    with torch.no_grad():
        model[0].weight.mul_(2.0)  # an in-place update, like an optimizer step
    with torch.inference_mode():
        expected = model(inputs)
        with onednn_linears(model):
            got = model(inputs)
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)


def test_a_replaced_weight_is_packed_anew_and_autocast_inside_the_block_is_honoured() -> None:
    model = _model().eval()
    inputs = torch.randn(4, 16)
    with torch.inference_mode(), onednn_linears(model):
        model(inputs)
    model[0].weight = torch.nn.Parameter(torch.randn(32, 16))  # a new tensor, version 0 again
    with torch.inference_mode():
        expected = model(inputs)
        with onednn_linears(model):
            got = model(inputs)
            with torch.autocast("cpu", dtype=torch.bfloat16):
                assert model(inputs).dtype == torch.bfloat16  # autocast's bf16 linear, not the fp32 one
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)


def test_disabled_bf16_and_subclassed_layers_are_left_alone() -> None:
    class Custom(torch.nn.Linear):
        def forward(self, inputs: torch.Tensor) -> torch.Tensor:
            return super().forward(inputs) + 1

    model: torch.nn.Sequential = torch.nn.Sequential(Custom(4, 4), torch.nn.Linear(4, 4).to(torch.bfloat16))
    with onednn_linears(model):
        assert not any("forward" in layer.__dict__ for layer in model)
    plain = _model()
    with onednn_linears(plain, enabled=False):
        assert not any("forward" in layer.__dict__ for layer in plain)
